"""In-memory volumes on the CT grid, and geometry helpers shared by the loaders.

Every array here is in RAS+ closest-canonical orientation, index order
(i, j, k) = (x, y, z), as ``data_contracts.imaging`` states. ``affine`` maps a
voxel index to RAS world millimetres.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_contracts.common import Flag

AFFINE_ATOL_MM = 1e-3
"""Two affines whose entries differ by at most this (mm, or mm per voxel) describe the same grid.

Masks written by other tools often differ from the CT by float rounding (about
1e-4 mm). A real shift of even a tenth of a voxel is far above this tolerance.
"""


@dataclass(frozen=True)
class CTVolume:
    """A CT in Hounsfield units on its own grid."""

    hu: np.ndarray
    """float32 array (x, y, z) in RAS+ canonical orientation, Hounsfield units."""
    affine: np.ndarray
    """4 x 4 voxel-to-RAS-world matrix in mm."""
    path: str
    sha256: str = ""
    """Hash of the voxel values, shape and affine; the cache key of segmentation output."""
    flags: tuple[Flag, ...] = ()
    hu_min: float = 0.0
    hu_max: float = 0.0
    source_orientation: str = "RAS"
    """Axis codes of the file before reorientation, for example 'LPS' for most DICOM series."""

    @property
    def shape_xyz(self) -> tuple[int, int, int]:
        """Array shape as (x, y, z)."""
        return tuple(int(n) for n in self.hu.shape)  # type: ignore[return-value]

    @property
    def spacing_mm_xyz(self) -> tuple[float, float, float]:
        """Voxel edge lengths in mm along x, y and z."""
        return spacing_from_affine(self.affine)

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in mL (cm^3)."""
        return float(abs(np.linalg.det(self.affine[:3, :3]))) / 1000.0


@dataclass(frozen=True)
class LabelVolume:
    """An integer label map resampled onto a CT grid, with the structure name of each label."""

    labels: np.ndarray
    """Integer array (x, y, z) with the shape of the reference CT; 0 is background."""
    affine: np.ndarray
    names: dict[int, str]
    """Label value -> structure name, for example {5: 'liver'}."""
    path: str
    flags: tuple[Flag, ...] = ()
    source_format: str = "nifti"

    def label_of(self, name: str) -> int | None:
        """Return the label value of structure ``name``, or None when the map has no such structure."""
        for value, structure in self.names.items():
            if structure == name:
                return value
        return None


def spacing_from_affine(affine: np.ndarray) -> tuple[float, float, float]:
    """Return the column norms of the affine's 3 x 3 part: voxel spacing in mm along each array axis."""
    norms = np.sqrt((np.asarray(affine, dtype=np.float64)[:3, :3] ** 2).sum(axis=0))
    return (float(norms[0]), float(norms[1]), float(norms[2]))


def affines_match(first: np.ndarray, second: np.ndarray, atol: float = AFFINE_ATOL_MM) -> bool:
    """Return True when two affines describe the same grid within ``atol``."""
    return bool(np.allclose(np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64), rtol=0.0, atol=atol))


def volume_sha256(array: np.ndarray, affine: np.ndarray) -> str:
    """Hash the array's dtype, shape and bytes and the affine rounded to 1e-4 mm."""
    digest = hashlib.sha256()
    digest.update(str(array.dtype).encode())
    digest.update(repr(tuple(array.shape)).encode())
    digest.update(np.round(np.asarray(affine, dtype=np.float64), 4).tobytes())
    digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    return digest.hexdigest()


def write_nifti(array: np.ndarray, affine: np.ndarray, path: str | Path) -> Path:
    """Write ``array`` (x, y, z) with ``affine`` to a NIfTI file, setting both sform and qform (code 1, scanner).

    The suffix decides compression: ``.nii.gz`` is gzip-compressed, ``.nii`` is not.
    """
    import nibabel as nib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(np.asarray(array), np.asarray(affine, dtype=np.float64))
    image.set_sform(image.affine, code=1)
    image.set_qform(image.affine, code=1)
    nib.save(image, str(path))
    return path


def memory_order_views(labels: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Return flat views of two same-shape arrays in one shared memory order, and that order ('C' or 'F').

    NIfTI data arrive Fortran-ordered, and flattening them in C order would copy
    the whole volume. So both arrays are walked in the order their bytes lie in.
    """
    order = "F" if values.flags.f_contiguous and not values.flags.c_contiguous else "C"
    values = np.asarray(values, order=order)
    labels = np.asarray(labels, order=order)
    return labels.ravel(order=order), values.ravel(order=order), order
