"""The ``tumorcot-engine`` flow: manifest in, Parquet shards, rejects and a report out.

The flow body reads as a table of contents. Each step is a plain function, and
the only Prefect tasks are one per batch of cases (fingerprinting for
near-duplicate grouping, then running the agents), because Prefect handles a
few hundred batch tasks well and thousands of per-sample tasks badly. Retries
sit only where storage I/O can fail; LLM retries live in the LLM client.

``run_engine_inline`` runs the same steps without Prefect or its API server,
for quick local runs and for tests that kill a run at random points.
"""

# No ``from __future__ import annotations`` here: Prefect builds the run form and
# validates parameters from the flow's annotations, and a flow loaded from its
# entrypoint by ``flow.serve`` cannot resolve them when they are strings.
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from data_contracts import CaseInput
from flows import progress
from flows.batch import BatchSummary, engine_context, process_batch
from flows.dataset_manifest import FinalizeResult, RunIdentity, finalize_dataset
from flows.grouping import CaseFingerprint, assign_splits, fingerprint_case
from flows.ledger import finished_hashes, read_entries
from flows.manifest_io import ManifestReadResult, read_manifest
from flows.params import EngineRunParams
from flows.storage import Storage

FLOW_NAME = "tumorcot-engine"
logger = logging.getLogger(__name__)

SubmitAll = Callable[[list[tuple[Any, dict[str, Any]]]], Iterator[Any]]
"""Runs a list of (task, keyword arguments) calls and yields their results as they finish."""


@dataclass
class RunSummary:
    """Counts and tallies of one run: the numbers the CLI prints at the end."""

    run_id: str
    out: str
    dry_run: bool
    cases_in_manifest: int = 0
    cases_planned: int = 0
    cases_skipped: int = 0
    cases_done: int = 0
    cases_rejected: int = 0
    samples_total: int = 0
    samples_by_task: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    repairs_by_strategy: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    batches: int = 0
    seconds: float = 0.0
    report_path: str | None = None


def _is_storage_error(task_obj: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(name="fingerprint-batch", cache_policy=NO_CACHE, persist_result=False)
def fingerprint_batch(cases: list[CaseInput]) -> list[CaseFingerprint]:
    """Hash the CTs and shingle the reports of one batch, for near-duplicate grouping."""
    return [fingerprint_case(case) for case in cases]


@task(
    name="run-batch",
    task_run_name="batch-{batch_index}",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=_is_storage_error,
)
def run_batch(batch_index: int, cases: list[CaseInput], splits: dict[str, str], params: EngineRunParams, done_hashes: frozenset[str], run_id: str) -> BatchSummary:
    """Run the agents over one batch and write its shard, rejects and ledger entry."""
    summary = process_batch(
        batch_index, cases, splits, params.config, params.out, done_hashes,
        run_id=run_id, case_threads=params.case_threads, dry_run=params.dry_run,
    )
    get_run_logger().info(
        "batch %d: %d done, %d rejected, %d skipped, %d samples, %.1f s",
        batch_index, summary.cases_done, summary.cases_rejected, summary.cases_skipped, summary.samples, summary.seconds,
    )
    return summary


@flow(name=FLOW_NAME, log_prints=False, persist_result=False)
def tumorcot_engine(params: EngineRunParams) -> RunSummary:
    """Turn a case manifest into validated VQA shards, a rejects table and a dataset report."""
    run_id = _flow_run_id()
    with _batch_executor(params) as submit_all:
        return execute_run(params, run_id, submit_all, get_run_logger())


def run_engine_inline(params: EngineRunParams, run_id: str | None = None) -> RunSummary:
    """Run the same steps as the flow in this process, without Prefect."""
    return execute_run(params, run_id or uuid.uuid4().hex[:12], _inline_submit_all, logger)


def execute_run(params: EngineRunParams, run_id: str, submit_all: SubmitAll, log: Any) -> RunSummary:
    """Run the steps of one engine run, with ``submit_all`` deciding where batches execute."""
    started = time.perf_counter()
    summary = RunSummary(run_id=run_id, out=params.out, dry_run=params.dry_run)

    manifest = read_and_check_manifest(params, log)
    batches = plan_batches(manifest.cases, params.batch_size)
    splits = assign_case_splits(batches, params, submit_all)
    done_hashes = load_finished_cases(params, log)
    summaries = run_all_batches(batches, splits, params, done_hashes, run_id, submit_all, summary)
    if not params.dry_run:
        finished = write_dataset_manifest(params, run_id, summaries, manifest)
        _fill_from_finalize(summary, finished)
        summary.report_path = write_dataset_report(params, log)

    summary.cases_in_manifest = manifest.rows_total
    summary.seconds = time.perf_counter() - started
    log.info("run %s finished: %d cases done, %d rejected, %d skipped, %d samples in %.1f s",
             run_id, summary.cases_done, summary.cases_rejected, summary.cases_skipped, summary.samples_total, summary.seconds)
    progress.publish("finished", summary=summary)
    return summary


def read_and_check_manifest(params: EngineRunParams, log: Any) -> ManifestReadResult:
    """Read the manifest, resolving paths and rejecting bad rows."""
    manifest = read_manifest(params.manifest, allowed_roots=params.allowed_roots, max_cases=params.max_cases)
    log.info("manifest %s: %d rows, %d valid cases, %d row problems", manifest.path, manifest.rows_total, len(manifest.cases), len(manifest.rejects))
    progress.publish("manifest", cases=len(manifest.cases), rejects=len(manifest.rejects))
    return manifest


def plan_batches(cases: list[CaseInput], batch_size: int) -> list[list[CaseInput]]:
    """Cut the cases, in manifest order, into batches of ``batch_size``."""
    return [cases[start : start + batch_size] for start in range(0, len(cases), batch_size)]


def assign_case_splits(batches: list[list[CaseInput]], params: EngineRunParams, submit_all: SubmitAll) -> dict[str, str]:
    """Group near-duplicate cases and give every group one split."""
    # NOTE: groups are formed among this run's cases only. With max_cases, a case the run
    # leaves out keeps the split an earlier run gave it, even if it is a near-duplicate of a case run now.
    calls = [(fingerprint_batch, {"cases": batch}) for batch in batches]
    fingerprints = [fp for batch_fps in submit_all(calls) for fp in batch_fps]
    config = params.config
    return assign_splits(fingerprints, config.split_ratios, config.seed, params.near_duplicate_jaccard)


def load_finished_cases(params: EngineRunParams, log: Any) -> frozenset[str]:
    """Read the resume ledger of the output folder."""
    if params.dry_run and not _output_exists(params.out):
        return frozenset()
    done = finished_hashes(read_entries(Storage.open(params.out)))
    if done:
        log.info("resume: the ledger lists %d finished cases; they will be skipped if their inputs are unchanged", len(done))
    return done


def run_all_batches(
    batches: list[list[CaseInput]], splits: dict[str, str], params: EngineRunParams, done: frozenset[str], run_id: str, submit_all: SubmitAll, summary: RunSummary
) -> list[BatchSummary]:
    """Run every batch; publish progress as each one finishes."""
    progress.publish("planned", batches=len(batches), cases=sum(len(b) for b in batches))
    calls = []
    for index, batch in enumerate(batches):
        batch_splits = {case.case_id: splits[case.case_id] for case in batch}
        calls.append((run_batch, {"batch_index": index, "cases": batch, "splits": batch_splits, "params": params, "done_hashes": done, "run_id": run_id}))

    results: list[BatchSummary] = []
    for result in submit_all(calls):
        results.append(result)
        progress.publish("batch", summary=result)
    summary.batches = len(batches)
    summary.cases_planned = sum(len(b) for b in batches)
    summary.cases_skipped = sum(r.cases_skipped for r in results)
    if params.dry_run:
        summary.cases_done = 0
    return results


def write_dataset_manifest(params: EngineRunParams, run_id: str, summaries: list[BatchSummary], manifest: ManifestReadResult) -> FinalizeResult:
    """Write manifest.json, rejects.parquet and run_stats.json from the ledger."""
    ctx = engine_context(params.config)
    current = {case_id: digest for s in summaries for case_id, digest in s.input_hashes.items()}
    identity = RunIdentity(params.dataset_name, ctx.engine_version, ctx.kg_version, params.config.config_hash(), run_id)
    return finalize_dataset(Storage.open(params.out), identity, current, manifest.rejects, frozenset(manifest.omitted_case_ids))


def write_dataset_report(params: EngineRunParams, log: Any) -> str | None:
    """Write report.html next to the manifest."""
    if not params.write_report:
        return None
    from flows.report_html import write_report

    path = write_report(Storage.open(params.out))
    log.info("dataset report written to %s", path)
    return path


# Where batches execute -------------------------------------------------------------


def _inline_submit_all(calls: list[tuple[Any, dict[str, Any]]]) -> Iterator[Any]:
    for task_obj, kwargs in calls:
        if task_obj is run_batch:
            params: EngineRunParams = kwargs["params"]
            yield process_batch(
                kwargs["batch_index"], kwargs["cases"], kwargs["splits"], params.config, params.out, kwargs["done_hashes"],
                run_id=kwargs["run_id"], case_threads=params.case_threads, dry_run=params.dry_run,
            )
        else:
            yield task_obj.fn(**kwargs)


class _batch_executor:
    """Context manager giving a ``submit_all`` that runs tasks on the chosen task runner."""

    def __init__(self, params: EngineRunParams):
        self.params = params
        self.runner: Any = None

    def __enter__(self) -> SubmitAll:
        self.runner = _make_task_runner(self.params)
        self.runner.__enter__()
        return self._submit_all

    def __exit__(self, *exc_info: Any) -> None:
        self.runner.__exit__(*exc_info)

    def _submit_all(self, calls: list[tuple[Any, dict[str, Any]]]) -> Iterator[Any]:
        from prefect.futures import as_completed

        futures = [self.runner.submit(task_obj, parameters=kwargs) for task_obj, kwargs in calls]
        for future in as_completed(futures):
            yield future.result()


def _make_task_runner(params: EngineRunParams) -> Any:
    if params.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if params.dask_address:
            return DaskTaskRunner(address=params.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": params.dask_workers, "processes": params.dask_processes, "threads_per_worker": 1, "dashboard_address": None})
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=params.concurrency)


def _flow_run_id() -> str:
    from prefect.runtime import flow_run

    return str(flow_run.id or uuid.uuid4().hex[:12])


def _output_exists(url: str) -> bool:
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(url)
    return bool(fs.exists(root))


def _fill_from_finalize(summary: RunSummary, finished: FinalizeResult) -> None:
    manifest = finished.manifest
    summary.cases_done = manifest.cases_done
    summary.cases_rejected = manifest.cases_rejected
    summary.samples_total = manifest.samples_total
    summary.samples_by_task = {item.key: item.count for item in manifest.samples_by_task}
    summary.rejects_by_reason = {item.key: item.count for item in manifest.rejects_by_reason}
    summary.repairs_by_strategy = dict(finished.repairs_by_strategy)
    summary.prompt_tokens = finished.prompt_tokens
    summary.completion_tokens = finished.completion_tokens
    summary.cost_usd = finished.cost_usd


__all__ = ["FLOW_NAME", "RunSummary", "execute_run", "run_engine_inline", "tumorcot_engine"]
