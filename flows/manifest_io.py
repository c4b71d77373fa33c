"""Read and check a case manifest: CSV, JSONL or Parquet, one case per row.

Column names follow ``CaseInput``; the short names ``ct``, ``masks``, ``report``,
``pathology``, ``lesions``, ``imaging_features`` and ``liver_segments`` are
accepted as aliases, and any other column becomes case metadata. Relative paths
are resolved against the manifest's folder. Every problem of every row is
collected: a row with problems becomes one reject record per problem, and the
valid rows come back as ``CaseInput`` records with absolute paths.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from data_contracts import CaseInput, KeyValue, RejectRecord

logger = logging.getLogger(__name__)

COLUMN_ALIASES: dict[str, str] = {
    "id": "case_id",
    "ct": "ct_path",
    "masks": "masks_path",
    "report": "report_path",
    "pathology": "pathology_path",
    "lesions": "lesions_path",
    "imaging_features": "imaging_features_path",
    "liver_segments": "liver_segments_path",
}
PATH_FIELDS: tuple[str, ...] = (
    "ct_path",
    "masks_path",
    "lesions_path",
    "imaging_features_path",
    "liver_segments_path",
    "report_path",
    "pathology_path",
)
_CASE_FIELDS = set(CaseInput.model_fields)


class ManifestError(ValueError):
    """The manifest file itself cannot be read (missing, unknown format, not a table)."""


@dataclass
class ManifestReadResult:
    """Valid cases in manifest order, and one reject per problem of the other rows.

    ``omitted_case_ids`` are the valid rows after the first ``max_cases``.
    """

    path: Path
    cases: list[CaseInput] = field(default_factory=list)
    rejects: list[RejectRecord] = field(default_factory=list)
    rows_total: int = 0
    omitted_case_ids: list[str] = field(default_factory=list)

    @property
    def rejected_case_ids(self) -> set[str]:
        """Ids of the rows that were rejected."""
        return {reject.case_id for reject in self.rejects}


def read_manifest(path: str | Path, allowed_roots: tuple[str | Path, ...] = (), max_cases: int | None = None) -> ManifestReadResult:
    """Read ``path``, check every row, and split the rows into cases and rejects.

    Paths must resolve inside the manifest's folder or one of ``allowed_roots``
    (symbolic links are followed first). ``max_cases`` keeps the first N valid rows.
    """
    manifest_path = Path(path).expanduser().resolve()
    rows = _read_rows(manifest_path)
    roots = [manifest_path.parent, *(Path(root).expanduser().resolve() for root in allowed_roots)]
    result = ManifestReadResult(path=manifest_path, rows_total=len(rows))

    duplicates = _duplicate_rows(rows)
    for row_number, raw in enumerate(rows, start=1):
        case_id = str(raw.get("case_id") or f"row-{row_number}").strip()
        problems = list(duplicates.get(case_id, []))
        if problems:
            problems = [("duplicate_case_id", "case_id", f"case id {case_id!r} appears on manifest rows {problems[0]}; give every row its own id")]
        case, row_problems = _check_row(raw, row_number, manifest_path, roots)
        problems.extend(row_problems)
        if problems:
            result.rejects.extend(_reject(case_id, code, fld, f"{manifest_path.name} row {row_number}: {message}") for code, fld, message in problems)
            continue
        if max_cases is None or len(result.cases) < max_cases:
            result.cases.append(case)
        else:
            result.omitted_case_ids.append(case.case_id)

    logger.info("manifest %s: %d rows, %d valid cases kept, %d rejects", manifest_path, len(rows), len(result.cases), len(result.rejects))
    return result


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            raw_rows = [dict(row) for row in csv.DictReader(handle)]
    elif suffix in (".jsonl", ".ndjson"):
        raw_rows = _read_jsonl(path)
    elif suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        raw_rows = pq.read_table(path).to_pylist()
    else:
        raise ManifestError(f"manifest {path}: unknown format {suffix!r}; use .csv, .jsonl or .parquet")
    return [_normalize_columns(row) for row in raw_rows]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"manifest {path} line {line_number}: invalid JSON ({exc.msg}); write one JSON object per line") from exc
        if not isinstance(row, dict):
            raise ManifestError(f"manifest {path} line {line_number}: expected a JSON object, got {type(row).__name__}")
        rows.append(row)
    return rows


def _normalize_columns(row: dict[str, Any]) -> dict[str, Any]:
    normalized: dict[str, Any] = {}
    for key, value in row.items():
        name = COLUMN_ALIASES.get(str(key).strip().lower(), str(key).strip())
        if isinstance(value, str):
            value = value.strip()
        normalized[name] = None if value in ("", None) else value
    return normalized


def _duplicate_rows(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    counts = Counter(str(row.get("case_id") or "").strip() for row in rows)
    positions: dict[str, list[int]] = {}
    for row_number, row in enumerate(rows, start=1):
        case_id = str(row.get("case_id") or "").strip()
        if case_id and counts[case_id] > 1:
            positions.setdefault(case_id, []).append(row_number)
    return {case_id: [", ".join(str(n) for n in numbers)] for case_id, numbers in positions.items()}


def _check_row(raw: dict[str, Any], row_number: int, manifest_path: Path, roots: list[Path]) -> tuple[CaseInput | None, list[tuple[str, str, str]]]:
    problems: list[tuple[str, str, str]] = []
    values: dict[str, Any] = {}
    metadata: list[KeyValue] = [KeyValue(key=str(k), value=str(v)) for k, v in raw.items() if k not in _CASE_FIELDS and k != "metadata" and v is not None]

    for name in _CASE_FIELDS - {"metadata"}:
        if raw.get(name) is None:
            continue
        value = raw[name]
        if name in PATH_FIELDS:
            value, problem = _resolve_path(str(value), name, manifest_path.parent, roots)
            if problem:
                problems.append(problem)
        values[name] = value if not isinstance(value, (int, float)) or isinstance(value, bool) else str(value)

    if values.get("ct_path") is None and "ct_path" not in {fld for _, fld, _ in problems}:
        problems.append(("invalid_manifest_row", "ct_path", "column ct_path (alias ct) is empty; every case needs a CT file or DICOM folder"))
    if values.get("imaging_features_path"):
        # Precomputed features replace the images, so a missing CT is not a problem then.
        problems = [p for p in problems if not (p[0] == "missing_file" and p[1] == "ct_path")]

    try:
        case = CaseInput.model_validate({**values, "metadata": tuple(metadata)}, strict=False)
    except ValidationError as exc:
        for error in exc.errors():
            fld = ".".join(str(part) for part in error["loc"]) or "row"
            problems.append(("invalid_manifest_row", fld, f"field {fld}: {error['msg']}"))
        return None, problems
    return (None if problems else case), problems


def _resolve_path(value: str, name: str, base: Path, roots: list[Path]) -> tuple[str, tuple[str, str, str] | None]:
    candidate = Path(value).expanduser()
    if not candidate.is_absolute():
        candidate = base / candidate
    resolved = candidate.resolve()
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        return str(resolved), ("path_outside_root", name, f"{name} {value!r} resolves to {resolved}, outside the allowed roots ({allowed}); move the file or pass its folder in allowed_roots")
    if not resolved.exists():
        return str(resolved), ("missing_file", name, f"{name} {value!r} not found at {resolved}")
    return str(resolved), None


def _reject(case_id: str, code: str, fld: str, message: str) -> RejectRecord:
    return RejectRecord(case_id=case_id, agent="manifest", reason_code=code, message=message, field=fld)
