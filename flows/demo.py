"""The demo: phantom cohort -> engine flow (offline rules backends) -> validated shards -> report.

Run it with ``python -m flows.demo --out build/demo`` (``make demo``); it prints
where every output went.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

DEMO_CASES = 12
DEMO_SEED = 0


def run_demo(out: Path, n_cases: int = DEMO_CASES, seed: int = DEMO_SEED, use_prefect: bool = True) -> int:
    """Generate the cohort, run the flow, validate the shards and write the report; return an exit status."""
    from engine.cohort import make_phantom_cohort
    from flows.engine_flow import run_engine_inline, tumorcot_engine
    from flows.params import EngineRunParams
    from flows.validate import validate_dataset

    started = time.perf_counter()
    out = out.resolve()
    cohort_dir, dataset_dir = out / "cohort", out / "dataset"

    manifest = cohort_dir / "manifest.csv"
    if not manifest.exists():
        print(f"generating {n_cases} phantom cases in {cohort_dir} ...", flush=True)
        manifest = make_phantom_cohort(n_cases, cohort_dir, seed=seed)

    params = EngineRunParams(manifest=str(manifest), out=str(dataset_dir), dataset_name="tumorcot-demo", batch_size=4, concurrency=2)
    print(f"running the engine on {manifest} ...", flush=True)
    summary = tumorcot_engine(params) if use_prefect else run_engine_inline(params)

    validation = validate_dataset(str(dataset_dir))
    for problem in validation.problems:
        print(f"validation problem: {problem}", file=sys.stderr)

    seconds = time.perf_counter() - started
    print(
        f"\ndemo finished in {seconds:.0f} s: {summary.cases_done} cases with samples, {summary.cases_rejected} rejected, "
        f"{summary.samples_total} samples {dict(sorted(summary.samples_by_task.items()))}\n"
        f"  case manifest:    {manifest}\n"
        f"  dataset manifest: {dataset_dir / 'manifest.json'}\n"
        f"  shards:           {dataset_dir / 'shards'}\n"
        f"  rejects:          {dataset_dir / 'rejects.parquet'}\n"
        f"  report:           {summary.report_path}\n"
        f"  shards valid:     {'yes' if validation.ok else 'NO'}\n"
        f"next: tumorcot shards stats {dataset_dir}  |  tumorcot explain SAMPLE_ID --shards {dataset_dir}"
    )
    return 0 if validation.ok and summary.samples_total > 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/demo"), help="Folder for the cohort, dataset and report.")
    parser.add_argument("--n", type=int, default=DEMO_CASES, help="Number of phantom cases.")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Seed of the phantom cohort.")
    parser.add_argument("--no-prefect", action="store_true", help="Run the same steps without Prefect.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_demo(args.out, args.n, args.seed, use_prefect=not args.no_prefect)


if __name__ == "__main__":
    sys.exit(main())
