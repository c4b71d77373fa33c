"""Lint problems and the error raised when a KG file has them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a KG file, printed as ``FILE:LINE: code: message``."""

    file: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code}: {self.message}"


class KGError(ValueError):
    """A KG file is invalid; ``problems`` lists every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the knowledge graph; run 'tumorcot kg lint' for the same list:\n{lines}")
