"""Extraction in several threads of one process gives the same features as a serial run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from engine.extraction import extract_pathology, extract_report
from engine.text.decode import read_text_file

THREADS = 4
ROUNDS = 2


def _extract_both(text: str, kgs) -> tuple[str, str]:
    report = extract_report(text, "case-1", kgs)
    pathology = extract_pathology(text, "case-1", kgs)
    return report.model_dump_json(), pathology.model_dump_json()


def test_threads_match_serial_run(shared_data, kgs):
    texts = [read_text_file(path).text for path in sorted((shared_data / "reports").glob("*.txt"))]
    assert texts
    serial = [_extract_both(text, kgs) for text in texts]

    with ThreadPoolExecutor(THREADS) as pool:
        threaded = list(pool.map(lambda text: _extract_both(text, kgs), texts * ROUNDS))

    for index, result in enumerate(threaded):
        assert result == serial[index % len(texts)], f"report {index % len(texts)} differs when extracted in {THREADS} threads"
