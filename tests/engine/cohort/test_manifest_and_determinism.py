"""Manifests validate as CaseInput, and a seed fixes every written file."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import nibabel as nib
import numpy as np

from data_contracts.case import CaseInput
from engine.cohort import make_phantom_cohort, read_manifest_rows
from engine.cohort.manifest import MANIFEST_COLUMNS
from tests.engine.cohort.conftest import PHANTOM_CASES, case_folders

IMAGE_FILES = ("ct.nii.gz", "masks.nii.gz", "lesions.nii.gz", "liver_segments.nii.gz")
TEXT_FILES = ("report.txt", "pathology.txt", "truth.json")


def _fingerprint(case: Path) -> dict[str, str]:
    """Hash image arrays (gzip headers carry a time stamp) and text bytes of one case."""
    digests = {}
    for name in IMAGE_FILES:
        array = np.asarray(nib.load(case / name).dataobj)
        digests[name] = hashlib.sha256(array.tobytes()).hexdigest()
    for name in TEXT_FILES:
        path = case / name
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"
    return digests


def test_manifest_rows_validate_as_case_input(phantom_manifest: Path) -> None:
    rows = read_manifest_rows(phantom_manifest)
    assert len(rows) == PHANTOM_CASES
    for row in rows:
        assert isinstance(row, CaseInput)
        for path in (row.ct_path, row.masks_path, row.lesions_path, row.liver_segments_path, row.report_path):
            assert path is not None and Path(path).is_file()
        assert row.pathology_path is None or Path(row.pathology_path).is_file()


def test_manifest_csv_equals_jsonl(phantom_manifest: Path) -> None:
    with phantom_manifest.open(encoding="utf-8", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    json_rows = [json.loads(line) for line in (phantom_manifest.parent / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert list(csv_rows[0]) == list(MANIFEST_COLUMNS)
    for csv_row, json_row in zip(csv_rows, json_rows, strict=True):
        assert csv_row == {key: "" if value is None else value for key, value in json_row.items()}


def test_manifest_paths_are_relative(phantom_manifest: Path) -> None:
    for line in (phantom_manifest.parent / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert not Path(row["ct_path"]).is_absolute()


def test_phantom_same_seed_same_files(tmp_path: Path) -> None:
    first = make_phantom_cohort(3, tmp_path / "a", seed=42)
    second = make_phantom_cohort(3, tmp_path / "b", seed=42)
    assert first.read_text() == second.read_text()
    for case_a, case_b in zip(case_folders(first), case_folders(second), strict=True):
        assert _fingerprint(case_a) == _fingerprint(case_b)


def test_phantom_other_seed_other_images(tmp_path: Path) -> None:
    first = case_folders(make_phantom_cohort(1, tmp_path / "a", seed=1))[0]
    second = case_folders(make_phantom_cohort(1, tmp_path / "b", seed=2))[0]
    assert _fingerprint(first)["ct.nii.gz"] != _fingerprint(second)["ct.nii.gz"]
