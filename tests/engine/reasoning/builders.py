"""Hand-set imaging measurements for reasoner and calibrator tests (the segmenter is tested elsewhere)."""

from __future__ import annotations

from data_contracts import ImagingFeatures, LesionImagingFeatures, OrganFeatures

SHAPE_XYZ = (100, 100, 50)


def _voxel_box(box: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(int(round(v * SHAPE_XYZ[i % 3])) for i, v in enumerate(box))


def organ_features(organ: str, box: tuple[float, ...], present: bool = True) -> OrganFeatures:
    voxel_box = _voxel_box(box)
    return OrganFeatures(organ=organ, present=present, voxel_count=5000 if present else 0, volume_ml=80.0 if present else None,
                         bbox_voxel_xyz=voxel_box if present else None, bbox_norm_xyz=box if present else None)


def imaging_features(case_id: str, organs: list[OrganFeatures], lesions: list[LesionImagingFeatures] = ()) -> ImagingFeatures:
    return ImagingFeatures(case_id=case_id, ct_path=f"/data/{case_id}/ct.nii.gz", ct_sha256="0" * 64, shape_xyz=(100, 100, 50),
                           spacing_mm_xyz=(1.5, 1.5, 3.0), hu_min=-1024.0, hu_max=1500.0, organs=tuple(organs), lesions=tuple(lesions))


def mask_lesion(lesion_id: str, organ: str | None, box: tuple[float, ...], diameter_mm: float = 29.0) -> LesionImagingFeatures:
    voxel_box = _voxel_box(box)
    return LesionImagingFeatures(lesion_id=lesion_id, label=1, organ=organ, organ_overlap=0.9 if organ else 0.0, voxel_count=900,
                                 volume_ml=12.0, max_axial_diameter_mm=diameter_mm, bbox_voxel_xyz=voxel_box, bbox_norm_xyz=box,
                                 centroid_mm_ras=(10.0, 20.0, 30.0))
