"""Run every ``benchmarks/bench_*.py`` module and write one Markdown table.

``python -m benchmarks.run --out docs/benchmarks.md [--full]``. Each module
exposes ``run(quick) -> list[dict]`` with rows of name, value, unit, goal and
note; a module that fails contributes one row naming the error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import logging
import os
import platform
import sys
import time
from pathlib import Path


def collect(quick: bool, only: list[str] | None = None) -> list[tuple[str, dict]]:
    """Import and run each benchmark module; return (module, row) pairs."""
    rows = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        name = path.stem
        if only and name not in only:
            continue
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            rows.extend((name, row) for row in module.run(quick))
        except Exception as exc:  # one failing benchmark must not hide the others
            logging.exception("benchmark %s failed", name)
            rows.append((name, {"name": "benchmark failed", "value": "-", "unit": "-", "goal": "-", "note": f"{type(exc).__name__}: {exc}"[:300]}))
    return rows


def to_markdown(rows: list[tuple[str, dict]], command: str, load_before: float, load_after: float, minutes: float) -> str:
    """Render the rows with the date, machine, load and command."""
    import psutil

    ram_gib = psutil.virtual_memory().total / 2**30
    lines = [
        "# Benchmarks",
        "",
        f"Measured {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {platform.machine()} with {os.cpu_count()} CPU cores and {ram_gib:.0f} GiB RAM, Python {platform.python_version()}.",
        f"Command: `{command}` ({minutes:.1f} minutes).",
        f"One-minute load average: {load_before:.1f} before, {load_after:.1f} after. A load above the core count means other processes "
        "shared the CPUs, which lowers every rate below.",
        "",
        "| module | benchmark | value | unit | goal | note |",
        "|---|---|---|---|---|---|",
    ]
    for module, row in rows:
        lines.append(f"| {module} | {row['name']} | {row['value']} | {row['unit']} | {row['goal']} | {row['note']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmarks and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"), help="Markdown file to write.")
    parser.add_argument("--full", action="store_true", help="Full sizes instead of the quick ones.")
    parser.add_argument("--only", nargs="*", help="Module names to run, for example bench_flows.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    started, load_before = time.perf_counter(), os.getloadavg()[0]
    rows = collect(quick=not args.full, only=args.only)
    minutes = (time.perf_counter() - started) / 60
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_markdown(rows, command, load_before, os.getloadavg()[0], minutes), encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
