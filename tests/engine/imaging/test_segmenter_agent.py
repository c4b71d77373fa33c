"""The segmenter agent: given masks, precomputed features, TotalSegmentator, and rejects."""

from __future__ import annotations

import shutil

import pytest

from data_contracts import CaseInput
from engine.agents import segmenter
from engine.config import AgentBackend, EngineConfig
from engine.imaging.totalseg import TotalSegmentatorBackend
from engine.state import CaseRejected, CaseState, EngineContext


def _context(backend: str = "given") -> EngineContext:
    return EngineContext(config=EngineConfig(segmenter=AgentBackend(backend=backend)), kgs={}, kg_version="test", engine_version="test")


def test_given_masks_fill_imaging(shared_data):
    folder = shared_data / "totalseg_example"
    case = CaseInput(case_id="ex-1", ct_path=str(folder / "example_ct_sm.nii.gz"), masks_path=str(folder / "example_seg.nii.gz"))
    state = segmenter.run(CaseState(case=case), _context())

    assert state.imaging.organ("liver").voxel_count == 38634
    assert state.imaging.mask_source == "given"
    assert "truncated_fov" in {flag.code for flag in state.flags}
    assert state.flags == state.imaging.flags
    assert state.provenance[-1].agent == "segmenter"


def test_precomputed_features_read_instead_of_images(tmp_path, shared_data):
    folder = shared_data / "totalseg_example"
    case = CaseInput(case_id="ex-1", ct_path=str(folder / "example_ct_sm.nii.gz"), masks_path=str(folder / "example_seg.nii.gz"))
    measured = segmenter.run(CaseState(case=case), _context()).imaging
    (tmp_path / "features.json").write_text(measured.model_dump_json())
    precomputed = case.model_copy(update={"ct_path": str(tmp_path / "absent.nii.gz"), "imaging_features_path": str(tmp_path / "features.json")})

    assert segmenter.run(CaseState(case=precomputed), _context()).imaging == measured


def test_empty_required_organ_becomes_case_rejected(case_files):
    case = CaseInput(case_id="syn-1", ct_path=str(case_files[0]), masks_path=str(case_files[1]))
    with pytest.raises(CaseRejected) as caught:
        segmenter.run(CaseState(case=case, extras={"required_organs": ("pancreas",)}), _context())

    assert caught.value.agent == "segmenter"
    assert caught.value.reason_code == "empty_organ"
    assert "syn-1" in caught.value.message


def test_no_masks_with_given_backend_rejected(case_files):
    case = CaseInput(case_id="syn-1", ct_path=str(case_files[0]))
    with pytest.raises(CaseRejected) as caught:
        segmenter.run(CaseState(case=case), _context("given"))

    assert caught.value.reason_code == "segmentation_unavailable"


def test_totalsegmentator_backend_used_once_per_worker(tmp_path, monkeypatch, shared_data):
    folder = shared_data / "totalseg_example"
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(tmp_path / "weights"))
    (tmp_path / "weights" / "Dataset297_TotalSegmentator_total_3mm_1559subj").mkdir(parents=True)
    ctx = _context("totalsegmentator")
    ctx.segmenter_model = TotalSegmentatorBackend(
        cache_dir=tmp_path / "cache", runner=lambda source, output, **_: shutil.copy(folder / "example_seg.nii.gz", output)
    )
    case = CaseInput(case_id="ex-1", ct_path=str(folder / "example_ct_sm.nii.gz"))
    state = segmenter.run(CaseState(case=case), ctx)
    segmenter.run(CaseState(case=case), ctx)

    assert state.imaging.mask_source == "totalsegmentator"
    assert state.imaging.organ("liver").present
    assert ctx.segmenter_model.calls == 1
