"""Synthetic volumes for the imaging tests: a small CT in HU and an organ mask on its grid."""

from __future__ import annotations

import numpy as np
import pytest

from engine.imaging import write_nifti

SHAPE = (40, 36, 24)
AFFINE = np.array([[2.0, 0, 0, -40.0], [0, 2.0, 0, -30.0], [0, 0, 3.0, 10.0], [0, 0, 0, 1]])
LIVER, SPLEEN = 5, 1


def synthetic_ct() -> np.ndarray:
    """Air around a water-density body, with a liver at 60 HU."""
    rng = np.random.default_rng(0)
    ct = rng.normal(0, 10, size=SHAPE).astype(np.int16)
    ct[:4] = -1000
    ct[-4:] = -1000
    ct[10:25, 8:28, 5:18] += 60
    return ct


def synthetic_mask() -> np.ndarray:
    """Liver (label 5) inside the volume and a spleen (label 1) away from every edge."""
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[10:25, 8:28, 5:18] = LIVER
    mask[28:33, 10:16, 8:12] = SPLEEN
    return mask


@pytest.fixture
def case_files(tmp_path):
    """Paths of a synthetic CT and its multilabel mask, both written with AFFINE."""
    ct_path = write_nifti(synthetic_ct(), AFFINE, tmp_path / "ct.nii.gz")
    mask_path = write_nifti(synthetic_mask(), AFFINE, tmp_path / "seg.nii.gz")
    return ct_path, mask_path


class Synthetic:
    """Constants and builders of the synthetic case, handed to tests as one fixture."""

    shape = SHAPE
    affine = AFFINE
    liver = LIVER
    spleen = SPLEEN
    ct = staticmethod(synthetic_ct)
    mask = staticmethod(synthetic_mask)


@pytest.fixture
def synthetic() -> type[Synthetic]:
    """The synthetic case's constants and builders."""
    return Synthetic
