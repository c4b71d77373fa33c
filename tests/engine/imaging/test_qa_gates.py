"""QA gates: empty and truncated organs, implausible volumes, grid and HU checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.imaging import ImagingError, compute_features, load_ct, load_label_volume, run_qa_gates, write_nifti


@pytest.fixture
def loaded(case_files):
    ct = load_ct(case_files[0], "case-1")
    return ct, load_label_volume(case_files[1], ct, case_id="case-1")


def test_all_zero_organ_is_not_found(loaded):
    ct, organs = loaded
    features = compute_features("case-1", ct, organs, organ_names=["liver", "pancreas"])
    pancreas = features.organ("pancreas")

    assert not pancreas.present
    assert pancreas.voxel_count == 0
    assert pancreas.volume_ml is None
    assert pancreas.bbox_voxel_xyz is None


def test_empty_required_organ_rejected(loaded):
    ct, organs = loaded
    features = compute_features("case-1", ct, organs, organ_names=["liver", "pancreas"])
    with pytest.raises(ImagingError) as caught:
        run_qa_gates("case-1", ct, organs, features, required_organs=("pancreas",))

    assert caught.value.reason_code == "empty_organ"
    assert caught.value.field == "pancreas"
    assert "case-1" in str(caught.value)
    assert organs.path in str(caught.value)


def test_empty_organ_not_required_passes(loaded):
    ct, organs = loaded
    features = compute_features("case-1", ct, organs, organ_names=["liver", "pancreas"])

    assert "empty_organ" not in [flag.code for flag in run_qa_gates("case-1", ct, organs, features)]


def test_implausible_volume_flagged_or_rejected(loaded):
    ct, organs = loaded
    features = compute_features("case-1", ct, organs, organ_names=["liver"])  # 15 x 20 x 13 voxels of 12 uL: 47 mL
    flags = run_qa_gates("case-1", ct, organs, features)

    assert [flag.code for flag in flags] == ["implausible_volume"]
    with pytest.raises(ImagingError) as caught:
        run_qa_gates("case-1", ct, organs, features, required_organs=("liver",))
    assert caught.value.reason_code == "implausible_volume"


def test_organ_at_first_slice_flagged_truncated(tmp_path, case_files, synthetic):
    mask = synthetic.mask()
    mask[10:25, 8:28, 0:18] = synthetic.liver  # liver now starts at the first slice
    ct = load_ct(case_files[0], "case-1")
    organs = load_label_volume(write_nifti(mask, synthetic.affine, tmp_path / "cut.nii.gz"), ct, case_id="case-1")
    features = compute_features("case-1", ct, organs, organ_names=["liver"])
    flags = run_qa_gates("case-1", ct, organs, features, required_organs=("liver",))

    assert features.organ("liver").touches_edge
    assert [flag.code for flag in flags] == ["truncated_fov"]  # truncated, so its small volume is not judged
    assert flags[0].severity == "warning"


def test_real_cropped_scan_not_rejected(shared_data):
    folder = shared_data / "totalseg_example"
    ct = load_ct(folder / "example_ct_sm.nii.gz", "example")
    organs = load_label_volume(folder / "example_seg.nii.gz", ct, case_id="example")
    features = compute_features("example", ct, organs)
    flags = run_qa_gates("example", ct, organs, features, required_organs=("liver", "pancreas", "stomach", "colon"))
    truncated = {flag.field for flag in flags if flag.code == "truncated_fov"}

    assert {"liver", "stomach", "colon", "spleen"} <= truncated


def test_mask_on_other_grid_rejected_by_gate(loaded):
    ct, organs = loaded
    features = compute_features("case-1", ct, organs)
    moved = dataclasses.replace(organs, affine=organs.affine + np.diag([0, 0, 0.5, 0]))
    with pytest.raises(ImagingError) as caught:
        run_qa_gates("case-1", ct, moved, features)

    assert caught.value.reason_code == "affine_mismatch"


def test_in_memory_non_hu_ct_rejected_by_gate(loaded):
    ct, organs = loaded
    features = compute_features("case-1", ct, organs)
    normalized = dataclasses.replace(ct, hu_min=0.0, hu_max=1.0)
    with pytest.raises(ImagingError) as caught:
        run_qa_gates("case-1", normalized, organs, features)

    assert caught.value.reason_code == "not_hu"
