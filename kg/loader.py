"""Load organ KG files: parse with line numbers, validate, check, build, and stamp a version."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from kg.build import HASH_LENGTH, build_organ
from kg.checks import check_document, check_raw, validate_schema
from kg.model import OrganKG
from kg.problems import KGError, Problem
from kg.schema import ORGANS, OrganFile
from kg.yaml_lines import ParsedYaml, YamlSyntaxError, parse_yaml

ORGANS_DIR = Path(__file__).resolve().parent / "organs"


def organ_path(organ: str) -> Path:
    """Return the shipped YAML file of ``organ``."""
    if organ not in ORGANS:
        raise KeyError(f"unknown organ '{organ}'; shipped organs: {', '.join(ORGANS)}")
    return ORGANS_DIR / f"{organ}.yaml"


def read_file(path: Path) -> tuple[OrganFile | None, ParsedYaml | None, list[Problem]]:
    """Parse and check one KG file; return the document (None if the schema failed) and every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, None, [Problem(name, 1, "unreadable-file", f"cannot read the file as UTF-8 text: {error}")]
    try:
        parsed = parse_yaml(text)
    except YamlSyntaxError as error:
        return None, None, [Problem(name, error.line, "yaml-syntax", f"{error.reason}; fix the indentation or quoting on this line")]

    issues = check_raw(parsed)
    doc, schema_issues = validate_schema(parsed)
    issues += schema_issues
    if doc is not None:
        issues += check_document(doc, parsed, Path(path).stem)
    problems = sorted({Problem(name, line, code, message) for line, code, message in issues})
    return doc, parsed, problems


def load_file(path: Path) -> OrganKG:
    """Load and check one KG file; raise ``KGError`` listing every problem if it has any."""
    doc, _, problems = read_file(Path(path))
    if problems or doc is None:
        raise KGError(problems)
    return build_organ(doc, Path(path))


@functools.cache
def _load_shipped(organ: str) -> OrganKG:
    return load_file(organ_path(organ))


def load_organ(organ: str, path: Path | None = None) -> OrganKG:
    """Load one organ's KG: the shipped file (cached) or the file at ``path``."""
    if path is not None:
        kg = load_file(Path(path))
        if kg.organ != organ:
            raise KGError([Problem(str(path), 1, "organ-mismatch", f"file declares organ '{kg.organ}', expected '{organ}'")])
        return kg
    return _load_shipped(organ)


def load_all() -> dict[str, OrganKG]:
    """Load every shipped organ KG, keyed by organ."""
    return {organ: load_organ(organ) for organ in ORGANS}


def kg_version(kgs: Mapping[str, OrganKG] | Iterable[OrganKG] | OrganKG) -> str:
    """Return one short hex version for a set of organ KGs, from their content hashes."""
    if isinstance(kgs, OrganKG):
        items = [kgs]
    elif isinstance(kgs, Mapping):
        items = list(kgs.values())
    else:
        items = list(kgs)
    if not items:
        raise ValueError("kg_version needs at least one organ KG")
    canonical = ";".join(f"{kg.organ}={kg.version}" for kg in sorted(items, key=lambda k: k.organ))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:HASH_LENGTH]
