"""The case manifest of a synthetic cohort: ``manifest.csv`` and ``manifest.jsonl``.

Columns are the ``data_contracts.case.CaseInput`` field names; paths are relative to
the manifest folder, and the manifest reader resolves them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from data_contracts.case import CaseInput

MANIFEST_COLUMNS: tuple[str, ...] = (
    "case_id", "ct_path", "masks_path", "mask_format", "label_map", "lesions_path",
    "liver_segments_path", "report_path", "pathology_path", "patient_id", "language",
)


def write_manifest(rows: list[dict[str, Any]], out_dir: Path) -> Path:
    """Validate ``rows`` as CaseInput and write both manifest files; return the CSV path."""
    for row in rows:
        CaseInput.model_validate({key: value for key, value in row.items() if value is not None})
    csv_path = out_dir / "manifest.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if row.get(key) is None else row[key] for key in MANIFEST_COLUMNS})
    with (out_dir / "manifest.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({key: row.get(key) for key in MANIFEST_COLUMNS}, ensure_ascii=False) + "\n")
    return csv_path


def read_manifest_rows(manifest: Path) -> list[CaseInput]:
    """Read ``manifest.jsonl`` beside ``manifest`` and return its rows with absolute paths."""
    folder = manifest.parent
    cases = []
    for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = {key: value for key, value in json.loads(line).items() if value is not None}
        for key, value in row.items():
            if key.endswith("_path"):
                row[key] = str((folder / value).resolve())
        cases.append(CaseInput.model_validate(row))
    return cases
