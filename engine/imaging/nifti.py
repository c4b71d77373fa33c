"""NIfTI reading with one stated affine rule and reorientation to RAS+.

Affine rule: the sform is used when ``sform_code > 0``, otherwise the qform when
``qform_code > 0``, otherwise nibabel's fallback from the voxel sizes. This is
the order nibabel itself applies; ITK-based readers prefer the qform, so a file
whose two matrices disagree is flagged ``qform_sform_mismatch``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_contracts.common import Flag
from engine.imaging.errors import ImagingError
from engine.imaging.volume import AFFINE_ATOL_MM, affines_match

logger = logging.getLogger(__name__)

NIFTI_SUFFIXES = (".nii", ".nii.gz")


@dataclass(frozen=True)
class CanonicalImage:
    """An array and its affine after reorientation to RAS+ (x, y, z)."""

    array: np.ndarray
    affine: np.ndarray
    source_orientation: str
    flags: tuple[Flag, ...]


def is_nifti_path(path: Path) -> bool:
    """Return True when the file name ends in .nii or .nii.gz."""
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def read_nifti(path: str | Path, case_id: str = "") -> CanonicalImage:
    """Read a NIfTI file into RAS+ canonical orientation, applying scl_slope/scl_inter.

    Raises ImagingError ``missing_file`` or ``corrupt_file`` (bad gzip, truncated
    data, invalid header), naming the file.
    """
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise ImagingError("missing_file", f"NIfTI file not found: {path}", file=str(path), case_id=case_id)
    try:
        image = nib.load(str(path))
        affine, flags = _choose_affine(image, path, case_id)
        array = np.asarray(image.dataobj)
    except ImagingError:
        raise
    except Exception as exc:  # nibabel, gzip and zlib raise many unrelated types for one cause: unreadable bytes
        raise ImagingError(
            "corrupt_file",
            f"cannot read NIfTI file {path.name}: {type(exc).__name__}: {exc}. Re-export or re-download the file",
            file=str(path),
            case_id=case_id,
        ) from exc

    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise ImagingError(
            "corrupt_file", f"expected a 3D volume, got shape {array.shape} (dim field of the header)", file=str(path), field="dim", case_id=case_id
        )
    return reorient_to_ras(array, affine, tuple(flags))


def reorient_to_ras(array: np.ndarray, affine: np.ndarray, flags: tuple[Flag, ...] = ()) -> CanonicalImage:
    """Flip and transpose ``array`` so its axes point to R, A, S (closest canonical), and update the affine."""
    import nibabel as nib
    from nibabel import orientations

    source = "".join(nib.aff2axcodes(affine))
    ornt = orientations.io_orientation(affine)
    if np.array_equal(ornt, [[0, 1], [1, 1], [2, 1]]):
        return CanonicalImage(array, np.asarray(affine, dtype=np.float64), source, flags)
    canonical = orientations.apply_orientation(array, ornt)
    new_affine = np.asarray(affine, dtype=np.float64) @ orientations.inv_ornt_aff(ornt, array.shape)
    return CanonicalImage(np.ascontiguousarray(canonical), new_affine, source, flags)


def _choose_affine(image, path: Path, case_id: str) -> tuple[np.ndarray, list[Flag]]:
    header = image.header
    flags: list[Flag] = []
    if not hasattr(header, "get_sform"):
        return np.asarray(image.affine, dtype=np.float64), flags

    sform, sform_code = header.get_sform(coded=True)
    qform, qform_code = header.get_qform(coded=True)
    if sform_code and sform_code > 0:
        chosen = sform
    elif qform_code and qform_code > 0:
        chosen = qform
    else:
        chosen = header.get_base_affine()

    if sform_code and qform_code and sform_code > 0 and qform_code > 0 and not affines_match(sform, qform):
        difference = float(np.abs(np.asarray(sform) - np.asarray(qform)).max())
        message = (
            f"case {case_id!r}: {path.name}: qform and sform disagree by up to {difference:.4g} mm "
            f"(tolerance {AFFINE_ATOL_MM} mm); the sform was used. Rewrite the file with one affine if the qform is the correct one"
        )
        logger.warning(message)
        flags.append(Flag(code="qform_sform_mismatch", message=message, severity="warning", file=str(path), field="qform/sform"))
    return np.asarray(chosen, dtype=np.float64), flags
