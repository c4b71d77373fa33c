"""``kg lint``: every schema and graph problem of KG files, as ``FILE:LINE: code: message``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kg.loader import ORGANS_DIR, read_file
from kg.problems import Problem
from kg.schema import ORGANS


def shipped_files() -> list[Path]:
    """Return the shipped organ files in organ order."""
    return [ORGANS_DIR / f"{organ}.yaml" for organ in ORGANS]


def lint_files(paths: Iterable[Path] | None = None) -> list[Problem]:
    """Return every problem in ``paths`` (default: the shipped organ files), sorted by file and line."""
    files = list(paths) if paths is not None else shipped_files()
    problems: list[Problem] = []
    for path in files:
        path = Path(path)
        if path.is_dir():
            problems += lint_files(sorted(path.glob("*.yaml")))
            continue
        if not path.exists():
            problems.append(Problem(str(path), 1, "missing-file", "file not found; check the path"))
            continue
        problems += read_file(path)[2]
    return problems
