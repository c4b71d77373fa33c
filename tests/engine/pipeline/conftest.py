"""Fixtures of the pipeline tests: one engine context and a small phantom cohort per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_contracts import CaseInput
from engine.config import EngineConfig
from engine.pipeline import build_context

PHANTOM_CASES = 16


@pytest.fixture(scope="session")
def engine_ctx():
    """An engine context with the default (rules) configuration."""
    return build_context(EngineConfig())


@pytest.fixture(scope="session")
def phantom_cases(tmp_path_factory) -> list[CaseInput]:
    """Phantom cases with masks, lesion masks, reports, pathology and truth.json."""
    from engine.cohort import make_phantom_cohort, read_manifest_rows

    manifest = make_phantom_cohort(PHANTOM_CASES, tmp_path_factory.mktemp("phantom"), seed=5)
    return read_manifest_rows(manifest)


def real_case(shared_data: Path, report: str, pathology: str | None = None, case_id: str | None = None) -> CaseInput:
    """Return the real CT and masks with one of the real report texts."""
    example = shared_data / "totalseg_example"
    return CaseInput(
        case_id=case_id or Path(report).stem,
        ct_path=str(example / "example_ct_sm.nii.gz"),
        masks_path=str(example / "example_seg.nii.gz"),
        report_path=str(shared_data / "reports" / report),
        pathology_path=str(shared_data / "reports" / pathology) if pathology else None,
    )
