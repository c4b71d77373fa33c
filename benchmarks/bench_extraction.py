"""Rules-backend extraction speed over the real report texts kept beside the project.

The first call (medspacy import and pipeline build) is timed apart from the steady
rate, which repeats the whole report set.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

REPORTS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reports"


def run(quick: bool = False) -> list[dict]:
    """Return rows for pipeline start-up and radiology and pathology extraction rates."""
    from engine.extraction import extract_pathology, extract_report
    from engine.text.decode import read_text_file
    from kg import load_all

    directory = Path(os.environ.get("TUMORCOT_SHARED_DATA", REPORTS_DIR.parent)) / "reports"
    texts = [read_text_file(path).text for path in sorted(directory.glob("*.txt"))]
    if not texts:
        return [{"name": "rules extraction rate", "value": "-", "unit": "reports/s", "goal": ">= 20", "note": f"no reports found in {directory}"}]
    kgs = load_all()
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"

    started = time.perf_counter()
    extract_report(texts[0], "warm-up", kgs)
    start_up = time.perf_counter() - started

    repeats = 2 if quick else 10
    report_rate = _rate(lambda text, i: extract_report(text, f"bench-{i}", kgs), texts, repeats)
    pathology_rate = _rate(lambda text, i: extract_pathology(text, f"bench-{i}", kgs), texts, repeats)
    return [
        {"name": "rules extractor start-up", "value": round(start_up, 2), "unit": "s", "goal": "<= 10", "note": f"medspacy import and pipeline build; {machine}"},
        {"name": "rules report extraction rate", "value": round(report_rate, 1), "unit": "reports/s", "goal": ">= 20",
         "note": f"{len(texts)} real reports x {repeats}, one process; {machine}"},
        {"name": "rules pathology extraction rate", "value": round(pathology_rate, 1), "unit": "reports/s", "goal": ">= 20",
         "note": f"{len(texts)} real reports x {repeats}, one process; {machine}"},
    ]


def _rate(extract, texts: list[str], repeats: int) -> float:
    started = time.perf_counter()
    for repeat in range(repeats):
        for index, text in enumerate(texts):
            extract(text, repeat * len(texts) + index)
    return repeats * len(texts) / (time.perf_counter() - started)
