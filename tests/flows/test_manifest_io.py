"""Manifest reading: formats, column aliases, relative paths and every kind of row problem."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.manifest_io import ManifestError, read_manifest


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    folder = tmp_path / "cohort"
    for case in ("a", "b", "c"):
        (folder / case).mkdir(parents=True)
        (folder / case / "ct.nii.gz").write_bytes(b"ct")
        (folder / case / "report.txt").write_text("report", encoding="utf-8")
    return folder


def _rows() -> list[dict]:
    return [{"case_id": c, "ct": f"{c}/ct.nii.gz", "report": f"{c}/report.txt", "scanner": "X"} for c in ("a", "b", "c")]


def _write(folder: Path, fmt: str, rows: list[dict]) -> Path:
    path = folder / f"manifest.{fmt}"
    if fmt == "csv":
        keys = sorted({k for row in rows for k in row})
        lines = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_reads_each_format_with_aliases(cohort: Path, fmt: str):
    result = read_manifest(_write(cohort, fmt, _rows()))
    assert [c.case_id for c in result.cases] == ["a", "b", "c"]
    assert result.rejects == []
    assert result.cases[0].ct_path == str((cohort / "a" / "ct.nii.gz").resolve())
    assert result.cases[0].report_path == str((cohort / "a" / "report.txt").resolve())
    assert ("scanner", "X") in [(kv.key, kv.value) for kv in result.cases[0].metadata]


def test_collects_every_row_problem(cohort: Path, tmp_path: Path):
    outside = tmp_path / "secret.txt"
    outside.write_text("x", encoding="utf-8")
    rows = _rows() + [
        {"case_id": "a", "ct": "a/ct.nii.gz"},
        {"case_id": "d", "ct": "d/missing.nii.gz", "report": "../secret.txt"},
        {"case_id": "bad id!", "ct": "b/ct.nii.gz"},
        {"case_id": "e", "ct": ""},
    ]
    result = read_manifest(_write(cohort, "jsonl", rows))
    codes = sorted((r.case_id, r.reason_code, r.field) for r in result.rejects)

    assert [c.case_id for c in result.cases] == ["b", "c"]
    assert codes.count(("a", "duplicate_case_id", "case_id")) == 2
    assert ("d", "missing_file", "ct_path") in codes
    assert ("d", "path_outside_root", "report_path") in codes
    assert ("bad id!", "invalid_manifest_row", "case_id") in codes
    assert ("e", "invalid_manifest_row", "ct_path") in codes
    assert all(r.agent == "manifest" for r in result.rejects)
    assert all("manifest.jsonl row" in r.message for r in result.rejects)


def test_allowed_root_admits_outside_folder(cohort: Path, tmp_path: Path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "ct.nii.gz").write_bytes(b"ct")
    path = _write(cohort, "jsonl", [{"case_id": "s", "ct": str(shared / "ct.nii.gz")}])

    assert read_manifest(path).rejects[0].reason_code == "path_outside_root"
    assert [c.case_id for c in read_manifest(path, allowed_roots=(shared,)).cases] == ["s"]


def test_symlink_escaping_root_is_rejected(cohort: Path, tmp_path: Path):
    target = tmp_path / "elsewhere.nii.gz"
    target.write_bytes(b"ct")
    (cohort / "link.nii.gz").symlink_to(target)
    result = read_manifest(_write(cohort, "jsonl", [{"case_id": "l", "ct": "link.nii.gz"}]))
    assert result.rejects[0].reason_code == "path_outside_root"


def test_precomputed_features_excuse_missing_ct(cohort: Path):
    (cohort / "a" / "features.json").write_text("{}", encoding="utf-8")
    rows = [{"case_id": "a", "ct": "a/absent.nii.gz", "imaging_features": "a/features.json"}]
    assert [c.case_id for c in read_manifest(_write(cohort, "jsonl", rows)).cases] == ["a"]


def test_max_cases_keeps_first_valid_rows(cohort: Path):
    assert [c.case_id for c in read_manifest(_write(cohort, "csv", _rows()), max_cases=2).cases] == ["a", "b"]


def test_unknown_format_raises(cohort: Path):
    path = cohort / "manifest.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(ManifestError, match="unknown format"):
        read_manifest(path)
