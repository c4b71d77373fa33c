"""Lesions implanted into the real CT stay in its organs, leave the rest of the scan alone, and repeat for a seed."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

from engine.cohort import implant_cohort
from engine.imaging import load_ct, load_label_volume
from tests.engine.cohort.conftest import case_folders, load_truth
from tests.engine.cohort.test_manifest_and_determinism import _fingerprint


def _array(path: Path) -> np.ndarray:
    return np.asarray(nib.load(path).dataobj)


def test_masks_are_written_unchanged(implant_manifest: Path, example_ct: tuple[Path, Path]) -> None:
    ct_path, masks_path = example_ct
    source = load_label_volume(masks_path, load_ct(ct_path)).labels
    for case in case_folders(implant_manifest):
        assert np.array_equal(_array(case / "masks.nii.gz"), source), case.name


def test_ct_changes_only_near_lesions(implant_manifest: Path, example_ct: tuple[Path, Path]) -> None:
    original = np.rint(load_ct(example_ct[0]).hu)
    for case in case_folders(implant_manifest):
        ct = _array(case / "ct.nii.gz").astype(float)
        lesions = _array(case / "lesions.nii.gz") > 0
        near = ndimage.binary_dilation(lesions, structure=np.ones((3, 3, 3)), iterations=5)
        assert np.array_equal(ct[~near], original[~near]), case.name
        if lesions.any():
            assert not np.array_equal(ct[lesions], original[lesions]), case.name


def test_absent_organ_is_never_chosen(implant_manifest: Path) -> None:
    organs = {lesion["organ"] for case in case_folders(implant_manifest) for lesion in load_truth(case)["lesions"]}
    assert "esophagus" not in organs
    assert organs, "the implant cohort drew no lesion at all"


def test_implant_same_seed_same_files(tmp_path: Path, example_ct: tuple[Path, Path]) -> None:
    ct, masks = example_ct
    first = implant_cohort(ct, masks, tmp_path / "a", 3, seed=9)
    second = implant_cohort(ct, masks, tmp_path / "b", 3, seed=9)
    for case_a, case_b in zip(case_folders(first), case_folders(second), strict=True):
        assert _fingerprint(case_a) == _fingerprint(case_b)


def test_implant_reads_mask_folder(tmp_path: Path, example_ct: tuple[Path, Path]) -> None:
    ct, masks = example_ct
    manifest = implant_cohort(ct, masks.parent / "segmentations", tmp_path, 2, seed=1)
    assert len(case_folders(manifest)) == 2
