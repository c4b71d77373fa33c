"""Masks on other grids: rounding, flips, transposes, shifts, oblique axes and shape faults."""

from __future__ import annotations

import numpy as np
import pytest

from engine.imaging import ImagingError, load_ct, load_label_volume, write_nifti


def _load(tmp_path, case_files, mask, affine):
    ct = load_ct(case_files[0], "case-1")
    path = write_nifti(mask, affine, tmp_path / "mask.nii.gz")
    return ct, path, lambda: load_label_volume(path, ct, case_id="case-1")


def test_rounding_difference_accepted(tmp_path, case_files, synthetic):
    affine = synthetic.affine + 1e-4
    affine[3] = [0, 0, 0, 1]
    _, _, load = _load(tmp_path, case_files, synthetic.mask(), affine)
    organs = load()

    assert organs.flags == ()
    assert np.array_equal(organs.labels, synthetic.mask())


def test_lps_mask_reoriented(tmp_path, case_files, synthetic):
    flip = np.eye(4)
    flip[0, 0] = flip[1, 1] = -1
    flip[0, 3] = synthetic.shape[0] - 1
    flip[1, 3] = synthetic.shape[1] - 1
    _, _, load = _load(tmp_path, case_files, np.ascontiguousarray(synthetic.mask()[::-1, ::-1, :]), synthetic.affine @ flip)
    organs = load()

    assert np.array_equal(organs.labels, synthetic.mask())
    assert [flag.code for flag in organs.flags] == ["orientation_mismatch"]
    assert organs.flags[0].severity == "info"


def test_transposed_mask_with_matching_affine_reoriented(tmp_path, case_files, synthetic):
    swap = np.eye(4)[[2, 1, 0, 3]]
    _, _, load = _load(tmp_path, case_files, np.ascontiguousarray(synthetic.mask().transpose(2, 1, 0)), synthetic.affine @ swap)

    assert np.array_equal(load().labels, synthetic.mask())


def test_transposed_mask_with_ct_affine_rejected(tmp_path, case_files, synthetic):
    _, path, load = _load(tmp_path, case_files, np.ascontiguousarray(synthetic.mask().transpose(2, 1, 0)), synthetic.affine)
    with pytest.raises(ImagingError) as caught:
        load()

    assert caught.value.reason_code == "shape_mismatch"
    assert caught.value.file == str(path)
    assert "case-1" in str(caught.value)


def test_shifted_grid_resampled_by_affine(tmp_path, case_files, synthetic):
    shifted = synthetic.affine.copy()
    shifted[:3, 3] += synthetic.affine[:3, :3] @ [3, 2, 1]  # the mask array starts 3, 2, 1 voxels further in
    cropped = np.ascontiguousarray(synthetic.mask()[3:, 2:, 1:])
    _, _, load = _load(tmp_path, case_files, cropped, shifted)
    organs = load()

    assert np.array_equal(organs.labels, synthetic.mask())
    assert [flag.code for flag in organs.flags] == ["affine_mismatch"]


def test_mask_of_other_scan_rejected(tmp_path, case_files, synthetic):
    far = synthetic.affine.copy()
    far[2, 3] += 500.0
    _, _, load = _load(tmp_path, case_files, synthetic.mask(), far)
    with pytest.raises(ImagingError) as caught:
        load()

    assert caught.value.reason_code == "affine_mismatch"


def test_oblique_mask_rejected(tmp_path, case_files, synthetic):
    angle = np.deg2rad(20)
    rotation = np.eye(4)
    rotation[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    _, _, load = _load(tmp_path, case_files, synthetic.mask(), rotation @ synthetic.affine)
    with pytest.raises(ImagingError) as caught:
        load()

    assert caught.value.reason_code == "orientation_mismatch"


def test_float_mask_with_fractions_rejected(tmp_path, case_files, synthetic):
    _, _, load = _load(tmp_path, case_files, synthetic.mask().astype(np.float32) * 0.7, synthetic.affine)
    with pytest.raises(ImagingError) as caught:
        load()

    assert caught.value.reason_code == "corrupt_file"


def test_unknown_mask_format_rejected(case_files):
    ct = load_ct(case_files[0], "case-1")
    with pytest.raises(ImagingError) as caught:
        load_label_volume(case_files[1], ct, fmt="nrrd", case_id="case-1")

    assert caught.value.reason_code == "invalid_manifest_row"
