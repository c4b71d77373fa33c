"""Phantom images: geometry, orientation, organ volumes and HU."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from engine.cohort.anatomy import PHANTOM_SHAPE, PHANTOM_SPACING_MM
from engine.cohort.labels import TOTALSEG_TOTAL
from tests.engine.cohort.conftest import case_folders

VOLUME_RANGES_ML = {
    "liver": (1000.0, 2500.0),
    "spleen": (100.0, 500.0),
    "kidney_right": (80.0, 250.0),
    "kidney_left": (80.0, 250.0),
    "pancreas": (30.0, 150.0),
    "stomach": (100.0, 600.0),
    "colon": (200.0, 900.0),
}
HU_RANGES = {"liver": (45.0, 75.0), "spleen": (40.0, 70.0), "aorta": (120.0, 180.0), "kidney_right": (120.0, 180.0), "pancreas": (30.0, 60.0)}


@pytest.fixture(scope="module")
def first_case(phantom_manifest: Path) -> Path:
    return case_folders(phantom_manifest)[0]


def test_ct_is_int16_hu_on_ras_grid(first_case: Path) -> None:
    image = nib.load(first_case / "ct.nii.gz")
    assert image.get_data_dtype() == np.int16
    assert image.shape == PHANTOM_SHAPE
    assert nib.aff2axcodes(image.affine) == ("R", "A", "S")
    assert np.allclose(np.diag(image.affine)[:3], PHANTOM_SPACING_MM)
    hu = np.asarray(image.dataobj)
    assert hu.min() <= -900
    assert hu.max() >= 500


def test_organ_volumes_are_plausible(first_case: Path) -> None:
    labels = np.asarray(nib.load(first_case / "masks.nii.gz").dataobj)
    voxel_ml = float(np.prod(PHANTOM_SPACING_MM)) / 1000.0
    for organ, (low, high) in VOLUME_RANGES_ML.items():
        volume = float((labels == TOTALSEG_TOTAL[organ]).sum()) * voxel_ml
        assert low <= volume <= high, f"{organ} volume {volume:.0f} mL outside {low}-{high} mL"


def test_organ_hu_is_plausible(first_case: Path) -> None:
    hu = np.asarray(nib.load(first_case / "ct.nii.gz").dataobj).astype(float)
    labels = np.asarray(nib.load(first_case / "masks.nii.gz").dataobj)
    lesions = np.asarray(nib.load(first_case / "lesions.nii.gz").dataobj) > 0
    for organ, (low, high) in HU_RANGES.items():
        core = ndimage.binary_erosion(labels == TOTALSEG_TOTAL[organ], iterations=2) & ~lesions
        mean = float(hu[core].mean())
        assert low <= mean <= high, f"{organ} mean {mean:.0f} HU outside {low}-{high} HU"


def test_organs_sit_at_anatomical_sides(first_case: Path) -> None:
    labels = np.asarray(nib.load(first_case / "masks.nii.gz").dataobj)

    def centroid(name: str) -> np.ndarray:
        return np.argwhere(labels == TOTALSEG_TOTAL[name]).mean(axis=0)

    # x grows toward the patient's right, z toward superior.
    assert centroid("liver")[0] > centroid("spleen")[0]
    assert centroid("kidney_right")[0] > centroid("kidney_left")[0]
    assert centroid("esophagus")[2] > centroid("pancreas")[2]
    assert centroid("liver")[2] > centroid("small_bowel")[2]


def test_every_listed_structure_is_drawn(first_case: Path) -> None:
    labels = np.asarray(nib.load(first_case / "masks.nii.gz").dataobj)
    present = set(np.unique(labels).tolist())
    missing = [name for name, value in TOTALSEG_TOTAL.items() if value not in present]
    assert missing == []


def test_liver_segments_cover_liver(first_case: Path) -> None:
    labels = np.asarray(nib.load(first_case / "masks.nii.gz").dataobj)
    segments = np.asarray(nib.load(first_case / "liver_segments.nii.gz").dataobj)
    liver = labels == TOTALSEG_TOTAL["liver"]
    assert np.array_equal(segments > 0, liver)
    assert set(np.unique(segments[liver]).tolist()) == set(range(1, 9))
