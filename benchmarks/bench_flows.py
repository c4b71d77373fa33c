"""Flow benchmarks: cases per second through Prefect, shard write rate, resume rework, memory.

Each ``run(quick)`` row is one number. The cohort is one phantom case whose
imaging features are computed once and reused by every case (the report text
and features are shared, the case ids differ), so the flow and the text agents
are measured without image I/O.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import threading
import time
from pathlib import Path

CASES_PER_SECOND_GOAL = 25.0


def run(quick: bool = True) -> list[dict]:
    """Run the flow benchmarks and return one row per measured number."""
    work = Path(tempfile.mkdtemp(prefix="tumorcot-bench-flows-"))
    try:
        rows = [_shard_write_rate(work, 20_000 if quick else 200_000)]
        manifest = _precomputed_cohort(work, 2_000 if quick else 10_000)
        rows.append(_cases_per_second(work, manifest, 300 if quick else 2_000))
        rows.append(_resume_rework(work, manifest, 200 if quick else 1_000))
        rows.extend(_memory_growth(work, manifest, (400, 2_000) if quick else (2_000, 10_000)))
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _shard_write_rate(work: Path, n_samples: int) -> dict:
    from benchmarks.sample_records import make_sample
    from flows.shards import write_shard
    from flows.storage import Storage

    template = make_sample("bench", 0)
    samples = [template.model_copy(update={"sample_id": f"bench-{i}"}) for i in range(n_samples)]
    storage = Storage.open(str(work / "shard-rate"))
    started = time.perf_counter()
    for start in range(0, n_samples, 10_000):
        write_shard(storage, f"rate-{start}", samples[start : start + 10_000])
    rate = n_samples / (time.perf_counter() - started)
    return {"name": "shard write rate", "value": round(rate), "unit": "samples/s", "goal": ">= 100000", "note": f"{n_samples} samples, shards of 10,000, zstd, sha256 included"}


def _precomputed_cohort(work: Path, n_cases: int) -> Path:
    """Write a manifest of ``n_cases`` cases sharing one phantom case's precomputed imaging features and report."""
    from engine.cohort import make_phantom_cohort
    from engine.config import EngineConfig
    from engine.pipeline import build_context
    from engine.state import CaseState
    from flows.manifest_io import read_manifest

    phantom = make_phantom_cohort(1, work / "phantom", seed=1)
    case = read_manifest(phantom).cases[0]
    from engine.agents import segmenter

    state = segmenter.run(CaseState(case=case), build_context(EngineConfig()))
    features = work / "features.json"
    features.write_text(state.imaging.model_dump_json(), encoding="utf-8")

    manifest = work / "bench_manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "ct_path", "imaging_features_path", "report_path", "pathology_path", "patient_id"])
        for i in range(n_cases):
            writer.writerow([f"bench-{i:06d}", case.ct_path, str(features), case.report_path, case.pathology_path or "", f"bench-{i:06d}"])
    return manifest


def _params(manifest: Path, out: Path, max_cases: int, **extra):
    from flows.params import EngineRunParams

    return EngineRunParams(manifest=str(manifest), out=str(out), max_cases=max_cases, batch_size=100, concurrency=2,
                           allowed_roots=(str(manifest.parent),), write_report=False, near_duplicate_jaccard=1.0, **extra)


def _cases_per_second(work: Path, manifest: Path, n_cases: int) -> dict:
    from flows.engine_flow import tumorcot_engine

    params = _params(manifest, work / "throughput", n_cases)
    tumorcot_engine(_params(manifest, work / "warmup", 10))
    started = time.perf_counter()
    summary = tumorcot_engine(params)
    rate = n_cases / (time.perf_counter() - started)
    note = f"{n_cases} cases, {summary.samples_total} samples, {summary.cases_rejected} rejected, batches of 100, 2 threads, rules backends"
    if summary.samples_total == 0:
        note += "; NOTE: no samples were produced, so this measures the reject path only"
    return {"name": "cases per second through Prefect", "value": round(rate, 1), "unit": "cases/s", "goal": f">= {CASES_PER_SECOND_GOAL:g}", "note": note}


def _resume_rework(work: Path, manifest: Path, n_cases: int) -> dict:
    """Finish a run, delete the ledger entries of the last batches (what a kill leaves unfinished), resume, count rework."""
    from flows.engine_flow import run_engine_inline
    from flows.ledger import LEDGER_DIR

    out = work / "resume"
    params = _params(manifest, out, n_cases)
    run_engine_inline(params)
    entries = sorted((out / LEDGER_DIR).glob("*.json"), key=lambda p: p.stat().st_mtime)
    unfinished = 0
    for entry in entries[-2:]:
        import json

        unfinished += len(json.loads(entry.read_text())["cases"])
        entry.unlink()
    resumed = run_engine_inline(params)
    reprocessed = resumed.cases_planned - resumed.cases_skipped
    return {"name": "resume rework after a kill", "value": round(reprocessed / unfinished, 2), "unit": "reprocessed / unfinished cases", "goal": "1.0",
            "note": f"{unfinished} of {n_cases} cases unfinished, {reprocessed} reprocessed"}


def _memory_growth(work: Path, manifest: Path, sizes: tuple[int, int]) -> list[dict]:
    from flows.engine_flow import run_engine_inline

    peaks = []
    for n_cases in sizes:
        with _PeakRss() as peak:
            run_engine_inline(_params(manifest, work / f"memory-{n_cases}", n_cases))
        peaks.append(peak.max_mb)
    small, large = sizes
    return [
        {"name": f"peak RSS at {large} cases", "value": round(peaks[1]), "unit": "MB", "goal": "flat in case count", "note": "inline runner, batches of 100"},
        {"name": f"peak RSS growth {small} -> {large} cases", "value": round(peaks[1] / peaks[0], 2), "unit": "ratio", "goal": "<= 1.1", "note": f"{peaks[0]:.0f} MB at {small} cases"},
    ]


class _PeakRss:
    def __enter__(self) -> _PeakRss:
        import psutil

        self._process = psutil.Process()
        self.max_mb = self._process.memory_info().rss / 2**20
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.max_mb = max(self.max_mb, self._process.memory_info().rss / 2**20)

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
