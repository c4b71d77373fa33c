"""Process one batch of cases: a plain function that the Prefect task wraps.

For each case the batch computes the resume key (``case_input_hash``), skips
the case when the ledger already lists that key, and otherwise runs the six
agents through ``engine.pipeline.run_case``. The samples of all finished cases
go into one shard and their rejects into one rejects file. The ledger entry is
written last, so a kill at any point loses at most the unfinished batch, and
the ledger never lists a file that is not on disk.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from data_contracts import CaseInput, RejectRecord, VQASample
from engine.config import EngineConfig
from flows.ledger import REJECTS_DIR, RETRYABLE_REASONS, BatchEntry, CaseEntry, write_entry
from flows.shards import shard_id, table_to_parquet_bytes, write_shard
from flows.storage import Storage

logger = logging.getLogger(__name__)

_CONTEXTS: dict[str, Any] = {}
_CONTEXT_LOCK = threading.Lock()


@dataclass
class BatchSummary:
    """Counts and tallies of one finished batch, small enough to return from a task for thousands of batches."""

    batch_index: int
    batch_id: str | None = None
    input_hashes: dict[str, str] = field(default_factory=dict)
    cases_skipped: int = 0
    cases_done: int = 0
    cases_rejected: int = 0
    samples: int = 0
    samples_by_task: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    repairs: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0


@dataclass
class _CaseOutcome:
    case: CaseInput
    input_hash: str
    samples: list[VQASample] = field(default_factory=list)
    rejects: list[RejectRecord] = field(default_factory=list)
    repairs: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    llm_calls: int = 0


def engine_context(config: EngineConfig) -> Any:
    """Return the engine context for ``config``, built once per process and shared by its threads.

    Sharing matters for llm backends: the context's LLM client owns the
    ``max_in_flight`` request slots and the token and cost budget, and one
    client per thread would multiply both by the number of threads.
    """
    from engine.pipeline import build_context

    key = config.model_dump_json()
    with _CONTEXT_LOCK:
        if key not in _CONTEXTS:
            _CONTEXTS[key] = build_context(config)
        return _CONTEXTS[key]


def compute_input_hashes(cases: list[CaseInput], ctx: Any) -> dict[str, str]:
    """Return case id -> resume key; a case whose files cannot be hashed gets a key from its row and the error."""
    from engine.pipeline import case_input_hash

    hashes = {}
    for case in cases:
        try:
            hashes[case.case_id] = case_input_hash(case, ctx)
        except OSError as exc:
            # The same broken row gives the same key, so it is not retried until its files change.
            payload = f"{case.model_dump_json()}|{ctx.config.config_hash()}|{ctx.kg_version}|{type(exc).__name__}"
            hashes[case.case_id] = "unhashable-" + hashlib.sha256(payload.encode()).hexdigest()[:32]
    return hashes


def process_batch(
    batch_index: int,
    cases: list[CaseInput],
    splits: dict[str, str],
    config: EngineConfig,
    out_url: str,
    done_hashes: frozenset[str] = frozenset(),
    run_id: str | None = None,
    case_threads: int = 1,
    dry_run: bool = False,
) -> BatchSummary:
    """Run the unfinished cases of one batch and write its shard, rejects and ledger entry."""
    started = time.perf_counter()
    ctx = engine_context(config)
    hashes = compute_input_hashes(cases, ctx)
    todo = [case for case in cases if hashes[case.case_id] not in done_hashes]
    summary = BatchSummary(batch_index=batch_index, input_hashes=hashes, cases_skipped=len(cases) - len(todo))
    if dry_run or not todo:
        summary.seconds = time.perf_counter() - started
        return summary

    outcomes = _run_cases(todo, hashes, splits, ctx, case_threads, run_id)
    entry = _write_outputs(Storage.open(out_url), outcomes, time.perf_counter() - started, ctx)
    _fill_summary(summary, entry, outcomes)
    summary.seconds = time.perf_counter() - started
    logger.info(
        "batch %d (%s): %d cases run, %d skipped, %d rejected, %d samples in %.1f s",
        batch_index, entry.batch_id, len(todo), summary.cases_skipped, summary.cases_rejected, summary.samples, summary.seconds,
    )
    return summary


def _run_cases(todo: list[CaseInput], hashes: dict[str, str], splits: dict[str, str], ctx: Any, case_threads: int, run_id: str | None) -> list[_CaseOutcome]:
    def run_one(case: CaseInput) -> _CaseOutcome:
        return run_one_case(case, hashes[case.case_id], splits.get(case.case_id), ctx, run_id)

    if case_threads <= 1:
        return [run_one(case) for case in todo]
    with ThreadPoolExecutor(max_workers=case_threads, thread_name_prefix="tumorcot-case") as pool:
        return list(pool.map(run_one, todo))


def run_one_case(case: CaseInput, input_hash: str, split: str | None, ctx: Any, run_id: str | None) -> _CaseOutcome:
    """Run the agents on one case and check the samples that come back.

    An exception from ``run_case`` becomes an ``internal_error`` reject of the
    case, so one bad case never stops its batch.
    """
    from engine.pipeline import run_case

    outcome = _CaseOutcome(case=case, input_hash=input_hash)
    try:
        result = run_case(case, ctx, split=split, input_hash=input_hash)
    except Exception as exc:  # run_case should not raise; a bug in it must still not stop the batch
        logger.exception("case %s: run_case raised", case.case_id)
        outcome.rejects = [_reject(case, input_hash, run_id, "pipeline", "internal_error", f"run_case raised {type(exc).__name__}: {exc}")]
        return outcome

    outcome.rejects = [_stamp(reject, input_hash, run_id) for reject in result.rejects]
    problems = [problem for sample in result.samples for problem in sample_problems(sample, case, input_hash)]
    if problems:
        # A failure never becomes a partial case: the whole case is rejected with every problem named.
        outcome.rejects.append(_reject(case, input_hash, run_id, "writer", "internal_error", "; ".join(problems[:5])))
    else:
        outcome.samples = list(result.samples)
    if not outcome.samples and not outcome.rejects:
        outcome.rejects.append(_reject(case, input_hash, run_id, "pipeline", "internal_error", "run_case returned no samples and no reject reason"))

    _add_usage(outcome, result)
    return outcome


def sample_problems(sample: VQASample, case: CaseInput, input_hash: str) -> list[str]:
    """Return what is wrong with a sample row that the schema alone does not catch."""
    problems = []
    if sample.case_id != case.case_id:
        problems.append(f"sample {sample.sample_id} has case id {sample.case_id!r}, expected {case.case_id!r}")
    for name in ("sample_id", "question", "answer", "answer_json"):
        if not getattr(sample, name).strip():
            problems.append(f"sample {sample.sample_id or '?'} has an empty {name}")
    if sample.provenance.input_hash != input_hash:
        problems.append(f"sample {sample.sample_id} has input hash {sample.provenance.input_hash!r}, expected {input_hash!r}")
    return problems


def _add_usage(outcome: _CaseOutcome, result: Any) -> None:
    for chain in result.chains:
        for repair in chain.repairs:
            outcome.repairs[repair.strategy] += 1
    usage = getattr(result, "usage", None)
    if usage is not None:
        outcome.prompt_tokens = sum(getattr(usage, "prompt_tokens", {}).values())
        outcome.completion_tokens = sum(getattr(usage, "completion_tokens", {}).values())
        outcome.cost_usd = float(sum(getattr(usage, "cost_usd", {}).values()))
        outcome.llm_calls = sum(getattr(usage, "calls", {}).values())


def _write_outputs(storage: Storage, outcomes: list[_CaseOutcome], seconds: float, ctx: Any) -> BatchEntry:
    import datetime as dt

    batch_id = shard_id(outcome.input_hash for outcome in outcomes)
    samples = [sample for outcome in outcomes for sample in outcome.samples]
    rejects = [reject for outcome in outcomes for reject in outcome.rejects]
    entry = BatchEntry(batch_id=batch_id, cases=[_case_entry(outcome) for outcome in outcomes])
    entry.config_hash, entry.kg_version = ctx.config.config_hash(), ctx.kg_version
    entry.finished_at = dt.datetime.now(dt.UTC).isoformat()

    if samples:
        written = write_shard(storage, batch_id, samples)
        entry.shard_path, entry.shard_rows, entry.shard_sha256, entry.shard_bytes = written.path, written.rows, written.sha256, written.bytes
    if rejects:
        entry.rejects_path = f"{REJECTS_DIR}/{batch_id}.parquet"
        entry.rejects_rows = len(rejects)
        storage.write_bytes_atomic(entry.rejects_path, table_to_parquet_bytes(RejectRecord.to_table(rejects)))

    entry.samples_by_task = dict(Counter(sample.task_type for sample in samples))
    entry.repairs_by_strategy = dict(sum((outcome.repairs for outcome in outcomes), Counter()))
    entry.prompt_tokens = sum(o.prompt_tokens for o in outcomes)
    entry.completion_tokens = sum(o.completion_tokens for o in outcomes)
    entry.cost_usd = sum(o.cost_usd for o in outcomes)
    entry.llm_calls = sum(o.llm_calls for o in outcomes)
    entry.seconds = seconds
    write_entry(storage, entry)
    return entry


def _case_entry(outcome: _CaseOutcome) -> CaseEntry:
    split = outcome.samples[0].split if outcome.samples else None
    return CaseEntry(
        case_id=outcome.case.case_id,
        input_hash=outcome.input_hash,
        status="done" if outcome.samples else "rejected",
        samples=len(outcome.samples),
        split=split,
        report_path=outcome.case.report_path,
        pathology_path=outcome.case.pathology_path,
        retry=any(reject.reason_code in RETRYABLE_REASONS for reject in outcome.rejects),
    )


def _fill_summary(summary: BatchSummary, entry: BatchEntry, outcomes: list[_CaseOutcome]) -> None:
    summary.batch_id = entry.batch_id
    summary.cases_done = sum(1 for o in outcomes if o.samples)
    summary.cases_rejected = sum(1 for o in outcomes if not o.samples)
    summary.samples = entry.shard_rows
    summary.samples_by_task = dict(entry.samples_by_task)
    summary.rejects_by_reason = dict(Counter(r.reason_code for o in outcomes for r in o.rejects if not o.samples))
    summary.repairs = sum(entry.repairs_by_strategy.values())
    summary.tokens = entry.prompt_tokens + entry.completion_tokens
    summary.cost_usd = entry.cost_usd


def read_rejects_file(storage: Storage, relative: str) -> list[RejectRecord]:
    """Read one batch's rejects file."""
    import io

    return RejectRecord.from_table(pq.read_table(io.BytesIO(storage.read_bytes(relative))))


def _stamp(reject: RejectRecord, input_hash: str, run_id: str | None) -> RejectRecord:
    return reject.model_copy(update={"input_hash": reject.input_hash or input_hash, "run_id": reject.run_id or run_id})


def _reject(case: CaseInput, input_hash: str, run_id: str | None, agent: str, code: str, message: str) -> RejectRecord:
    import datetime as dt

    return RejectRecord(
        case_id=case.case_id, agent=agent, reason_code=code, message=f"case {case.case_id}: {message}",
        input_hash=input_hash, run_id=run_id, rejected_at=dt.datetime.now(dt.UTC),
    )
