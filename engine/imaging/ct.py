"""CT loading: NIfTI file or DICOM series folder to Hounsfield units on a RAS+ grid."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from engine.imaging.dicom import read_dicom_series
from engine.imaging.errors import ImagingError
from engine.imaging.nifti import is_nifti_path, read_nifti
from engine.imaging.volume import CTVolume, volume_sha256

logger = logging.getLogger(__name__)

HU_AIR_CEILING = 0.0
"""A CT in HU has voxels below water (air at about -1000, fat at about -100); a minimum at or above this is not HU."""
HU_MIN_RANGE = 200.0
"""The HU range of any body CT spans several hundred units; a smaller range means normalized values."""


def load_ct(path: str | Path, case_id: str = "") -> CTVolume:
    """Load a CT (NIfTI file or DICOM series folder) in HU, reoriented to RAS+ (x, y, z).

    Raises ImagingError: ``missing_file``, ``corrupt_file``, ``uneven_slice_spacing``
    or ``not_hu``. A qform/sform disagreement becomes a flag on the volume.
    """
    path = Path(path)
    try:
        if path.is_dir():
            image = read_dicom_series(path, case_id)
        elif is_nifti_path(path):
            image = read_nifti(path, case_id)
        elif not path.exists():
            raise ImagingError("missing_file", f"CT not found: {path}", file=str(path), field="ct_path", case_id=case_id)
        else:
            raise ImagingError(
                "corrupt_file", f"unsupported CT file type {path.name}: expected .nii, .nii.gz or a DICOM series folder", file=str(path), field="ct_path", case_id=case_id
            )
    except ImagingError as error:
        raise error.with_case(case_id) from error.__cause__

    hu = image.array if image.array.dtype == np.float32 else image.array.astype(np.float32)
    hu_min, hu_max = float(hu.min()), float(hu.max())
    check_hu_range(hu_min, hu_max, str(path), case_id)
    ct = CTVolume(
        hu=hu,
        affine=image.affine,
        path=str(path),
        sha256=volume_sha256(hu, image.affine),
        flags=image.flags,
        hu_min=hu_min,
        hu_max=hu_max,
        source_orientation=image.source_orientation,
    )
    logger.debug("case %r: loaded CT %s shape %s spacing %s from %s", case_id, path.name, ct.shape_xyz, ct.spacing_mm_xyz, ct.source_orientation)
    return ct


def check_hu_range(hu_min: float, hu_max: float, path: str, case_id: str = "") -> None:
    """Raise ImagingError ``not_hu`` when the value range cannot be a CT in Hounsfield units."""
    problems = []
    if hu_min >= HU_AIR_CEILING:
        problems.append(f"minimum {hu_min:g} is not below {HU_AIR_CEILING:g} (no air or fat: values look unshifted or normalized)")
    if hu_max - hu_min < HU_MIN_RANGE:
        problems.append(f"range {hu_max - hu_min:g} is smaller than {HU_MIN_RANGE:g} HU (values look normalized)")
    if problems:
        raise ImagingError(
            "not_hu",
            f"CT values are not Hounsfield units: {'; '.join(problems)}. Export the CT in HU, applying RescaleSlope/RescaleIntercept",
            file=path,
            field="voxel values",
            case_id=case_id,
        )
