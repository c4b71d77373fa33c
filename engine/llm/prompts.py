"""Prompt templates kept as files under ``engine/prompts/``, with their content hash.

Templates use ``string.Template`` placeholders (``$report_text``), so rendering
never evaluates code. The hash of the template file is recorded with every
output that the prompt produced.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"


@dataclass(frozen=True)
class Prompt:
    """One template file: its name, text and the sha256 of the text."""

    name: str
    text: str
    sha256: str

    def render(self, **values: object) -> str:
        """Fill every ``$name`` placeholder; a missing value raises KeyError naming it."""
        try:
            return string.Template(self.text).substitute({key: str(value) for key, value in values.items()})
        except KeyError as exc:
            raise KeyError(f"prompt {self.name!r} needs a value for ${exc.args[0]}") from exc


@lru_cache(maxsize=64)
def load_prompt(name: str, directory: Path = PROMPTS_DIR) -> Prompt:
    """Load ``<directory>/<name>.txt`` (``name`` may include the .txt suffix)."""
    file_name = name if name.endswith(".txt") else f"{name}.txt"
    path = directory / file_name
    if path.parent.resolve() != directory.resolve():
        raise ValueError(f"prompt name {name!r} must be a file name inside {directory}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        available = sorted(p.stem for p in directory.glob("*.txt"))
        raise FileNotFoundError(f"prompt template not found: {path}; available: {', '.join(available) or 'none'}") from exc
    return Prompt(name=path.stem, text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
