"""Check a dataset folder: schema, checksums, unique sample ids, split by case, row validity.

Every problem found is collected; ``validate_dataset`` returns them all at once
instead of stopping at the first.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from data_contracts import VQASample
from flows.dataset_manifest import read_manifest_json
from flows.shards import list_shards
from flows.storage import Storage, sha256_hex

logger = logging.getLogger(__name__)
MAX_PROBLEMS_PER_KIND = 20


@dataclass
class ValidationReport:
    """The outcome of ``validate_dataset``."""

    shards: int = 0
    rows: int = 0
    cases: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def validate_dataset(url: str, check_rows: bool = True) -> ValidationReport:
    """Validate the dataset at ``url`` against its manifest.json; ``check_rows`` validates every row as a VQASample."""
    storage = Storage.open(url)
    report = ValidationReport()
    try:
        manifest = read_manifest_json(storage)
    except (FileNotFoundError, ValidationError, ValueError) as exc:
        report.problems.append(f"manifest.json is missing or invalid in {url}: {exc}")
        return report

    expected_schema = VQASample.arrow_schema()
    seen_ids: set[str] = set()
    split_of_case: dict[str, set[str]] = defaultdict(set)
    duplicate_ids: list[str] = []

    listed = {shard.path for shard in manifest.shards}
    for unlisted in sorted(set(list_shards(storage)) - listed):
        report.problems.append(f"shard {unlisted} is in the folder but not in manifest.json; delete it or re-run to finish the dataset")

    for shard in manifest.shards:
        try:
            data = storage.read_bytes(shard.path)
        except FileNotFoundError:
            report.problems.append(f"shard {shard.path} is listed in manifest.json but not found")
            continue
        if sha256_hex(data) != shard.sha256:
            report.problems.append(f"shard {shard.path}: sha256 {sha256_hex(data)[:16]}... does not match manifest.json ({shard.sha256[:16]}...)")
        try:
            table = pq.read_table(io.BytesIO(data))
        except (pa.ArrowInvalid, OSError) as exc:
            report.problems.append(f"shard {shard.path} is not a readable Parquet file: {exc}")
            continue
        report.shards += 1
        report.rows += table.num_rows
        if table.num_rows != shard.rows:
            report.problems.append(f"shard {shard.path}: {table.num_rows} rows, manifest.json says {shard.rows}")
        if not table.schema.equals(expected_schema, check_metadata=False):
            report.problems.append(f"shard {shard.path}: schema differs from VQASample.arrow_schema(): {_schema_diff(table.schema, expected_schema)}")
            continue

        for sample_id, case_id, split in zip(table["sample_id"].to_pylist(), table["case_id"].to_pylist(), table["split"].to_pylist(), strict=True):
            if sample_id in seen_ids:
                duplicate_ids.append(sample_id)
            seen_ids.add(sample_id)
            split_of_case[case_id].add(split)
        if check_rows:
            _check_rows(table, shard.path, report)

    _collect(report, "duplicate sample_id", duplicate_ids)
    straddling = [f"{case_id} ({', '.join(sorted(splits))})" for case_id, splits in split_of_case.items() if len(splits) > 1]
    _collect(report, "case in more than one split", straddling)
    if report.rows != manifest.samples_total:
        report.problems.append(f"shards hold {report.rows} rows, manifest.json samples_total is {manifest.samples_total}")
    report.cases = len(split_of_case)
    return report


def _check_rows(table, shard_path: str, report: ValidationReport) -> None:
    bad = 0
    for row_number, row in enumerate(table.to_pylist()):
        try:
            VQASample.from_row(row)
        except ValidationError as exc:
            bad += 1
            if bad <= MAX_PROBLEMS_PER_KIND:
                report.problems.append(f"shard {shard_path} row {row_number} (sample {row.get('sample_id')}): invalid VQASample: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}")


def _collect(report: ValidationReport, kind: str, items: list[str]) -> None:
    if not items:
        return
    shown = ", ".join(items[:MAX_PROBLEMS_PER_KIND])
    more = f" and {len(items) - MAX_PROBLEMS_PER_KIND} more" if len(items) > MAX_PROBLEMS_PER_KIND else ""
    report.problems.append(f"{kind}: {len(items)} found: {shown}{more}")


def _schema_diff(actual, expected) -> str:
    actual_fields = {f.name: f.type for f in actual}
    expected_fields = {f.name: f.type for f in expected}
    missing = sorted(set(expected_fields) - set(actual_fields))
    extra = sorted(set(actual_fields) - set(expected_fields))
    changed = sorted(name for name in set(actual_fields) & set(expected_fields) if actual_fields[name] != expected_fields[name])
    return f"missing {missing}, unexpected {extra}, type changed {changed}"
