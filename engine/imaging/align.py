"""Bringing a mask onto the CT grid by affines, or rejecting it.

Rules, applied after both volumes are reoriented to RAS+:
1. same shape and affines equal within ``AFFINE_ATOL_MM``: the same grid;
2. affines equal but shapes differ: ``shape_mismatch`` (an array transposed or
   cropped without updating its header);
3. direction cosines differ (an oblique mask on an axial CT): ``orientation_mismatch``;
4. otherwise a parallel grid: resampled by nearest neighbour when most of the
   mask's box lies inside the CT, else ``affine_mismatch``.
"""

from __future__ import annotations

import itertools

import numpy as np

from data_contracts.common import Flag
from engine.imaging.errors import ImagingError
from engine.imaging.nifti import CanonicalImage
from engine.imaging.volume import CTVolume, affines_match, spacing_from_affine

MIN_INSIDE_FRACTION = 0.5
"""Share of the mask's world box that must lie inside the CT's box for resampling."""


def align_to_reference(image: CanonicalImage, reference: CTVolume, path: str, case_id: str = "") -> tuple[np.ndarray, tuple[Flag, ...]]:
    """Return ``image.array`` on the grid of ``reference``, with flags describing any reorientation or resampling."""
    flags = list(image.flags)
    if image.source_orientation != reference.source_orientation:
        flags.append(
            Flag(
                code="orientation_mismatch",
                message=f"case {case_id!r}: {path} is stored {image.source_orientation} and the CT {reference.source_orientation}; both were reoriented to RAS by their affines",
                severity="info",
                file=path,
            )
        )

    same_affine = affines_match(image.affine, reference.affine)
    if same_affine and image.array.shape == reference.shape_xyz:
        return image.array, tuple(flags)
    if same_affine:
        raise ImagingError(
            "shape_mismatch",
            f"mask shape {image.array.shape} differs from CT shape {reference.shape_xyz} on the same affine; the array was probably transposed or cropped without updating its header",
            file=path,
            field="dim",
            case_id=case_id,
        )

    _check_directions(image, reference, path, case_id)
    _check_overlap(image, reference, path, case_id)
    flags.append(
        Flag(
            code="affine_mismatch",
            message=f"case {case_id!r}: {path} lies on another grid than the CT (shape {image.array.shape}, spacing {np.round(spacing_from_affine(image.affine), 4).tolist()} mm); resampled by nearest neighbour",
            severity="info",
            file=path,
        )
    )
    return resample_nearest(image.array, image.affine, reference), tuple(flags)


def resample_nearest(array: np.ndarray, affine: np.ndarray, reference: CTVolume) -> np.ndarray:
    """Resample a label array onto the CT grid by nearest neighbour; voxels outside the array become 0."""
    from scipy import ndimage

    ct_to_mask = np.linalg.inv(affine) @ reference.affine
    return ndimage.affine_transform(array, ct_to_mask, output_shape=reference.shape_xyz, order=0, mode="constant", cval=0, prefilter=False)


def _directions(affine: np.ndarray) -> np.ndarray:
    return affine[:3, :3] / np.asarray(spacing_from_affine(affine))


def _check_directions(image: CanonicalImage, reference: CTVolume, path: str, case_id: str) -> None:
    if np.allclose(_directions(image.affine), _directions(reference.affine), atol=1e-3):
        return
    raise ImagingError(
        "orientation_mismatch",
        f"mask axes point in other directions than the CT's even after reorientation (mask {np.round(_directions(image.affine), 3).tolist()}, "
        f"CT {np.round(_directions(reference.affine), 3).tolist()}); resample the mask onto the CT grid",
        file=path,
        field="affine",
        case_id=case_id,
    )


def _world_box(affine: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[c - 0.5 for c in corner] + [1.0] for corner in itertools.product(*[(0, n) for n in shape[:3]])])
    world = (affine @ corners.T)[:3]
    return world.min(axis=1), world.max(axis=1)


def _check_overlap(image: CanonicalImage, reference: CTVolume, path: str, case_id: str) -> None:
    mask_low, mask_high = _world_box(image.affine, image.array.shape)
    ct_low, ct_high = _world_box(reference.affine, reference.shape_xyz)
    overlap = np.clip(np.minimum(mask_high, ct_high) - np.maximum(mask_low, ct_low), 0, None).prod()
    mask_volume = (mask_high - mask_low).prod()
    inside = float(overlap / mask_volume) if mask_volume > 0 else 0.0
    if inside >= MIN_INSIDE_FRACTION:
        return
    raise ImagingError(
        "affine_mismatch",
        f"mask affine places only {inside:.0%} of the mask inside the CT (at least {MIN_INSIDE_FRACTION:.0%} is required); "
        "the mask belongs to another scan or its affine is wrong",
        file=path,
        field="affine",
        case_id=case_id,
    )
