"""Cohorts generated once per test session and shared by the cohort tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cohort import implant_cohort, make_phantom_cohort

PHANTOM_SEED = 11
PHANTOM_CASES = 12
IMPLANT_SEED = 7
IMPLANT_CASES = 8


@pytest.fixture(scope="session")
def phantom_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-case phantom cohort."""
    return make_phantom_cohort(PHANTOM_CASES, tmp_path_factory.mktemp("phantom"), seed=PHANTOM_SEED)


@pytest.fixture(scope="session")
def example_ct(shared_data: Path) -> tuple[Path, Path]:
    """The real CT crop and its TotalSegmentator multilabel mask."""
    folder = shared_data / "totalseg_example"
    return folder / "example_ct_sm.nii.gz", folder / "example_seg.nii.gz"


@pytest.fixture(scope="session")
def implant_manifest(tmp_path_factory: pytest.TempPathFactory, example_ct: tuple[Path, Path]) -> Path:
    """An 8-case cohort implanted into the real CT."""
    ct, masks = example_ct
    return implant_cohort(ct, masks, tmp_path_factory.mktemp("implant"), IMPLANT_CASES, seed=IMPLANT_SEED)


def case_folders(manifest: Path) -> list[Path]:
    """Return the case folders listed in ``manifest.jsonl``."""
    rows = [json.loads(line) for line in (manifest.parent / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    return [manifest.parent / row["case_id"] for row in rows]


def load_truth(case: Path) -> dict:
    """Return a case's truth.json."""
    return json.loads((case / "truth.json").read_text(encoding="utf-8"))
