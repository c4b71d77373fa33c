"""Flow benchmarks: cases per second through Prefect, shard write rate, resume rework, memory.

Each ``run(quick)`` row is one number. The cohort has precomputed imaging
features: four phantom cases are segmented once, and every benchmark case gets
its own features file (a copy of one of the four, under its own case id) plus
that phantom case's CT, report and pathology report. So the flow and the text
agents are measured without image decoding, which is the setting of the cases-per-second goal.
"""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES_PER_SECOND_GOAL = 25.0
SHARD_RATE_GOAL = 100_000
SHARD_SAMPLES = 10_000
PHANTOM_TEMPLATES = 4
BATCH_SIZE = 100
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run(quick: bool = True) -> list[dict]:
    """Run the flow benchmarks and return one row per measured number."""
    work = Path(tempfile.mkdtemp(prefix="tumorcot-bench-flows-"))
    sizes = _Sizes(quick)
    try:
        manifest = _precomputed_cohort(work, sizes.cohort)
        rows = [_cases_per_second(work, manifest, sizes.throughput, task_runner="thread")]
        rows.append(_cases_per_second(work, manifest, sizes.throughput, task_runner="dask"))
        rows.extend(_shard_write_rates(work, work / "throughput-thread", sizes.shard_samples))
        rows.append(_resume_rework(work, manifest, sizes.resume))
        rows.extend(_memory_growth(work, manifest, sizes.memory))
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Sizes:
    """Case and sample counts of the quick and full modes."""

    def __init__(self, quick: bool):
        self.shard_samples = 30_000 if quick else 200_000
        self.throughput = 400 if quick else 2_000
        self.resume = 600 if quick else 2_000
        self.memory = (1_000, 4_000) if quick else (2_000, 10_000)
        self.cohort = max(self.throughput, self.resume, *self.memory)


# Shard writing -------------------------------------------------------------------


def _shard_write_rates(work: Path, dataset: Path, n_samples: int) -> list[dict]:
    """Time ``write_shard`` on engine samples, then its two parts: Arrow conversion, and Parquet, checksum and rename."""
    import pyarrow.parquet as pq

    from data_contracts import VQASample
    from flows.shards import table_to_parquet_bytes, write_shard
    from flows.storage import Storage, sha256_hex

    produced = VQASample.from_table(pq.read_table(dataset / "shards"))
    samples = [produced[i % len(produced)].model_copy(update={"sample_id": f"bench-{i}"}) for i in range(n_samples)]
    storage = Storage.open(str(work / "shard-rate"))
    write_shard(storage, "warmup", samples[:100])
    chunks = [samples[start : start + SHARD_SAMPLES] for start in range(0, n_samples, SHARD_SAMPLES)]

    started = time.perf_counter()
    for number, chunk in enumerate(chunks):
        write_shard(storage, f"rate-{number}", chunk)
    full_rate = n_samples / (time.perf_counter() - started)

    started = time.perf_counter()
    tables = [VQASample.to_table(chunk) for chunk in chunks]
    conversion_rate = n_samples / (time.perf_counter() - started)

    started = time.perf_counter()
    for number, table in enumerate(tables):
        data = table_to_parquet_bytes(table)
        sha256_hex(data)
        storage.write_bytes_atomic(f"shards/arrow-{number}.parquet", data)
    parquet_rate = n_samples / (time.perf_counter() - started)

    steps = sum(len(sample.chain) for sample in produced) / len(produced)
    note = f"{n_samples} copies of the {len(produced)} samples of the thread run ({steps:.1f} chain steps each on average), shards of {SHARD_SAMPLES}"
    return [
        {"name": "shard write rate (write_shard from VQASample objects)", "value": round(full_rate), "unit": "samples/s", "goal": f">= {SHARD_RATE_GOAL}",
         "note": note + "; NOTE: the conversion to Arrow (next row) is the limit"},
        {"name": "VQASample.to_table conversion rate", "value": round(conversion_rate), "unit": "samples/s", "goal": "-",
         "note": "pydantic model_dump of each sample, then pyarrow Table.from_pylist"},
        {"name": "Parquet write rate from an Arrow table", "value": round(parquet_rate), "unit": "samples/s", "goal": f">= {SHARD_RATE_GOAL}",
         "note": "zstd level 3, sha256, fsync and atomic rename"},
    ]


# The cohort ------------------------------------------------------------------------


def _precomputed_cohort(work: Path, n_cases: int) -> Path:
    """Write a manifest of ``n_cases`` cases with precomputed imaging features; return its path."""
    from engine.agents import segmenter
    from engine.cohort import make_phantom_cohort
    from engine.config import EngineConfig
    from engine.pipeline import build_context
    from engine.state import CaseState
    from flows.manifest_io import read_manifest

    phantom = make_phantom_cohort(PHANTOM_TEMPLATES, work / "phantom", seed=1)
    templates = read_manifest(phantom).cases
    ctx = build_context(EngineConfig())
    features = [segmenter.run(CaseState(case=case), ctx).imaging for case in templates]

    features_dir = work / "features"
    features_dir.mkdir()
    manifest = work / "bench_manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "ct_path", "imaging_features_path", "report_path", "pathology_path", "patient_id"])
        for i in range(n_cases):
            case_id = f"bench-{i:06d}"
            template, template_features = templates[i % len(templates)], features[i % len(templates)]
            features_path = features_dir / f"{case_id}.json"
            features_path.write_text(template_features.model_copy(update={"case_id": case_id}).model_dump_json(), encoding="utf-8")
            writer.writerow([case_id, template.ct_path, str(features_path), template.report_path, template.pathology_path or "", case_id])
    return manifest


def _params(manifest: Path, out: Path, max_cases: int, **extra):
    from flows.params import EngineRunParams

    values = {"batch_size": BATCH_SIZE, "concurrency": 2, "allowed_roots": (str(manifest.parent),), "write_report": False, **extra}
    return EngineRunParams(manifest=str(manifest), out=str(out), max_cases=max_cases, **values)


# Throughput --------------------------------------------------------------------------


def _cases_per_second(work: Path, manifest: Path, n_cases: int, task_runner: str) -> dict:
    """Time one flow run through Prefect after a warm-up run on the same task runner.

    The Dask run uses a local cluster started beforehand and reached through
    ``dask_address``, as a long-lived cluster would be, so worker start-up and
    the engine imports in each worker are not counted.
    """
    if task_runner != "dask":
        return _timed_flow_run(work, manifest, n_cases, "thread task runner, 2 batches in flight", {})

    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        extra = {"task_runner": "dask", "dask_address": cluster.scheduler_address}
        return _timed_flow_run(work, manifest, n_cases, "local Dask cluster of 2 worker processes", extra)


def _timed_flow_run(work: Path, manifest: Path, n_cases: int, where: str, extra: dict) -> dict:
    from flows.engine_flow import tumorcot_engine

    name = extra.get("task_runner", "thread")
    # Small batches spread the warm-up over every worker, so each one loads the engine before the timed run.
    tumorcot_engine(_params(manifest, work / f"warmup-{name}", 40, **{**extra, "batch_size": 5}))
    started = time.perf_counter()
    summary = tumorcot_engine(_params(manifest, work / f"throughput-{name}", n_cases, **extra))
    rate = n_cases / (time.perf_counter() - started)

    note = f"{n_cases} cases, {summary.samples_total} samples, {summary.cases_rejected} rejected, batches of {BATCH_SIZE}, {where}, rules backends"
    if "task_runner" not in extra:
        note += "; NOTE: threads run the engine's Python code on one core at a time (the GIL), so this rate cannot use the second core"
    if summary.samples_total == 0:
        note += "; NOTE: no samples were produced, so this measures the reject path only"
    return {"name": f"cases per second through Prefect ({name})", "value": round(rate, 1), "unit": "cases/s",
            "goal": f">= {CASES_PER_SECOND_GOAL:g}", "note": note}


# Resume ----------------------------------------------------------------------------


def _resume_rework(work: Path, manifest: Path, n_cases: int) -> dict:
    """SIGKILL a run half way, resume it, and compare the cases it ran again with those the kill left unfinished."""
    from flows.engine_flow import run_engine_inline
    from flows.ledger import read_entries
    from flows.storage import Storage

    out = work / "resume"
    command = [sys.executable, "-m", "flows.cli.runcmd_main", "--manifest", str(manifest), "--out", str(out), "--max-cases", str(n_cases),
               "--batch-size", str(BATCH_SIZE // 2), "--allowed-root", str(manifest.parent), "--no-prefect", "--no-report"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    batches = n_cases // (BATCH_SIZE // 2)
    _wait_for_entries(out, process, batches // 2)
    process.send_signal(signal.SIGKILL)
    process.wait()

    finished = {case.case_id for entry in read_entries(Storage.open(str(out))) for case in entry.cases}
    unfinished = n_cases - len(finished)
    resumed = run_engine_inline(_params(manifest, out, n_cases, batch_size=BATCH_SIZE // 2))
    reprocessed = resumed.cases_planned - resumed.cases_skipped
    ratio = reprocessed / unfinished if unfinished else float("nan")
    note = f"killed after {len(finished)} of {n_cases} cases, {unfinished} unfinished, {reprocessed} run again, {resumed.samples_total} samples in the end"
    return {"name": "resume rework after SIGKILL", "value": round(ratio, 2), "unit": "cases run again / cases unfinished", "goal": "1.0", "note": note}


def _wait_for_entries(out: Path, process: subprocess.Popen, count: int, timeout_s: float = 600.0) -> None:
    from flows.ledger import LEDGER_DIR

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if len(list((out / LEDGER_DIR).glob("*.json"))) >= count:
            return
        time.sleep(0.05)
    raise RuntimeError(f"the run to be killed wrote fewer than {count} ledger entries in {timeout_s:.0f} s (exit code {process.poll()})")


# Memory ------------------------------------------------------------------------------

_PEAK_RSS_SCRIPT = """
import json, resource, sys
from flows.engine_flow import run_engine_inline
from flows.params import EngineRunParams
summary = run_engine_inline(EngineRunParams.model_validate_json(sys.argv[1]))
print(json.dumps({"max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "cases": summary.cases_planned}))
"""


def _memory_growth(work: Path, manifest: Path, sizes: tuple[int, int]) -> list[dict]:
    """Measure the peak RSS of a fresh process running ``sizes[0]`` and ``sizes[1]`` cases inline."""
    peaks = []
    for n_cases in sizes:
        params = _params(manifest, work / f"memory-{n_cases}", n_cases)
        result = subprocess.run([sys.executable, "-c", _PEAK_RSS_SCRIPT, params.model_dump_json()], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, check=True)
        peaks.append(json.loads(result.stdout.strip().splitlines()[-1])["max_rss_kib"] / 1024)
    small, large = sizes
    note = f"peak RSS of a fresh process running the flow steps inline, batches of {BATCH_SIZE}; {peaks[0]:.0f} MB at {small} cases"
    return [
        {"name": f"peak RSS at {large} cases", "value": round(peaks[1]), "unit": "MB", "goal": "flat in case count", "note": note},
        {"name": f"peak RSS growth {small} -> {large} cases", "value": round(peaks[1] / peaks[0], 2), "unit": "ratio", "goal": "<= 1.1", "note": note},
    ]
