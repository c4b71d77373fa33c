"""Imaging features: the segmentation expert's output.

Axis convention, used everywhere in TumorCoT: a volume is held as a numpy array
in RAS+ closest-canonical orientation (nibabel ``as_closest_canonical``), index
order (i, j, k) = (x, y, z), with i growing toward the patient's Right, j toward
Anterior and k toward Superior. A voxel box is
``(x_min, y_min, z_min, x_max, y_max, z_max)`` with exclusive maxima; a
normalized box is the voxel box divided by the array shape, so every value is in
[0, 1]. Physical positions are millimetres in the RAS+ world frame of the CT.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from data_contracts.base import Record
from data_contracts.common import Flag

AXIS_ORDER = "xyz"
ORIENTATION = "RAS"

VoxelBox = tuple[int, int, int, int, int, int]
NormBox = tuple[float, float, float, float, float, float]
Vector3 = tuple[float, float, float]


class OrganFeatures(Record):
    """Measurements of one organ mask."""

    organ: str
    present: bool = Field(description="False when the mask is empty: organ not found, not an organ of volume 0.")
    voxel_count: int = Field(ge=0)
    volume_ml: float | None = Field(default=None, ge=0)
    bbox_voxel_xyz: VoxelBox | None = None
    bbox_norm_xyz: NormBox | None = None
    centroid_mm_ras: Vector3 | None = None
    hu_mean: float | None = None
    hu_std: float | None = None
    touches_edge: bool = Field(default=False, description="Mask reaches the first or last slice or an in-plane border: truncated field of view.")


class LesionImagingFeatures(Record):
    """Measurements of one connected lesion in the lesion mask."""

    lesion_id: str = Field(description="Stable id within the case, for example 'img-L1'.")
    label: int = Field(ge=1, description="Label value in the lesion mask.")
    organ: str | None = Field(default=None, description="Organ with the largest overlap, or None outside every organ mask.")
    organ_overlap: float = Field(default=0.0, ge=0, le=1)
    subregion: str | None = Field(default=None, description="KG subregion id, for example a Couinaud segment, by overlap.")
    voxel_count: int = Field(ge=1)
    volume_ml: float = Field(ge=0)
    max_axial_diameter_mm: float = Field(ge=0, description="Longest in-plane (x-y) extent over all axial slices.")
    bbox_voxel_xyz: VoxelBox
    bbox_norm_xyz: NormBox
    centroid_mm_ras: Vector3
    hu_mean: float | None = None


class ImagingFeatures(Record):
    """All imaging attributes of one case."""

    case_id: str
    ct_path: str
    ct_sha256: str = Field(description="Hash of the CT voxel data and geometry, for caching and near-duplicate detection.")
    shape_xyz: tuple[int, int, int]
    spacing_mm_xyz: Vector3
    orientation: Literal["RAS"] = ORIENTATION
    hu_min: float
    hu_max: float
    mask_source: Literal["given", "totalsegmentator", "phantom"] = "given"
    organs: tuple[OrganFeatures, ...] = ()
    lesions: tuple[LesionImagingFeatures, ...] = ()
    flags: tuple[Flag, ...] = ()

    def organ(self, name: str) -> OrganFeatures | None:
        """Return the features of organ ``name``, or None when it was not measured."""
        for organ in self.organs:
            if organ.organ == name:
                return organ
        return None
