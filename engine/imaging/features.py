"""Organ and lesion measurements from label volumes, in one pass over each volume.

Organ statistics come from ``np.bincount`` over the foreground voxels only
(counts, HU sums, HU sums of squares, index sums for centroids), and boxes from
per-axis projections of those same voxels. The only full-volume step is one
``np.flatnonzero``; no step scans the volume once per label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from data_contracts.imaging import ImagingFeatures, LesionImagingFeatures, OrganFeatures
from engine.imaging.errors import ImagingError
from engine.imaging.lesions import measure_lesions
from engine.imaging.volume import CTVolume, LabelVolume, memory_order_views

DEFAULT_ORGANS: tuple[str, ...] = (
    "liver",
    "pancreas",
    "stomach",
    "colon",
    "esophagus",
    "duodenum",
    "small_bowel",
    "gallbladder",
    "spleen",
    "kidney_right",
    "kidney_left",
)
"""Organs measured by default: the five KG organs and the abdominal neighbours that reports mention."""


class LabelStats:
    """Per-label counts, HU moments, index sums and boxes of one label volume."""

    def __init__(self, labels: np.ndarray, hu: np.ndarray):
        flat_labels, flat_hu, order = memory_order_views(labels, hu)
        foreground = np.flatnonzero(flat_labels)
        values = flat_labels[foreground].astype(np.intp)
        size = int(values.max()) + 1 if values.size else 1
        hu_values = flat_hu[foreground].astype(np.float64)
        index = np.unravel_index(foreground, labels.shape, order=order)

        self.shape = labels.shape
        self.counts = np.bincount(values, minlength=size)
        self.hu_sum = np.bincount(values, weights=hu_values, minlength=size)
        self.hu_sq_sum = np.bincount(values, weights=hu_values * hu_values, minlength=size)
        self.index_sum = np.stack([np.bincount(values, weights=axis, minlength=size) for axis in index], axis=1)
        self.box_min, self.box_max = _boxes_from_projections(values, index, size, labels.shape)

    def count(self, value: int) -> int:
        """Number of voxels with label ``value``."""
        return int(self.counts[value]) if 0 < value < len(self.counts) else 0

    def box(self, value: int) -> tuple[int, int, int, int, int, int]:
        """Voxel box (x_min, y_min, z_min, x_max, y_max, z_max) of ``value``, maxima exclusive."""
        return tuple(int(v) for v in self.box_min[value]) + tuple(int(v) + 1 for v in self.box_max[value])  # type: ignore[return-value]

    def hu_mean_std(self, value: int) -> tuple[float, float]:
        """Mean and standard deviation of HU under ``value``."""
        n = self.counts[value]
        mean = self.hu_sum[value] / n
        variance = max(self.hu_sq_sum[value] / n - mean * mean, 0.0)
        return float(mean), float(np.sqrt(variance))

    def centroid_index(self, value: int) -> np.ndarray:
        """Mean voxel index (x, y, z) of ``value``."""
        return self.index_sum[value] / self.counts[value]


def _boxes_from_projections(values: np.ndarray, index: tuple[np.ndarray, ...], size: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Return per-label minimum and maximum voxel index (inclusive) from the foreground voxels alone."""
    box_min = np.zeros((size, 3), dtype=np.int64)
    box_max = np.zeros((size, 3), dtype=np.int64)
    for axis, coordinate in enumerate(index):
        seen = np.zeros((size, shape[axis]), dtype=bool)
        seen[values, coordinate] = True
        any_seen = seen.any(axis=1)
        box_min[any_seen, axis] = seen[any_seen].argmax(axis=1)
        box_max[any_seen, axis] = shape[axis] - 1 - seen[any_seen, ::-1].argmax(axis=1)
    return box_min, box_max


def normalize_box(box: Sequence[int], shape: Sequence[int]) -> tuple[float, float, float, float, float, float]:
    """Divide a voxel box by the array shape, giving values in [0, 1]."""
    dims = list(shape) * 2
    return tuple(float(v) / float(n) for v, n in zip(box, dims, strict=True))  # type: ignore[return-value]


def index_to_ras(affine: np.ndarray, index: np.ndarray) -> tuple[float, float, float]:
    """Map a voxel index (x, y, z) to RAS world millimetres."""
    world = affine[:3, :3] @ np.asarray(index, dtype=np.float64) + affine[:3, 3]
    return (float(world[0]), float(world[1]), float(world[2]))


def touches_edge(box: Sequence[int], shape: Sequence[int]) -> bool:
    """Return True when a voxel box reaches any face of the volume."""
    return any(box[a] == 0 or box[a + 3] == shape[a] for a in range(3))


def compute_features(
    case_id: str,
    ct: CTVolume,
    organs: LabelVolume,
    lesions: LabelVolume | None = None,
    segments: LabelVolume | None = None,
    organ_names: Sequence[str] | None = DEFAULT_ORGANS,
    mask_source: str = "given",
    subregion_ids: Mapping[str, str] | None = None,
) -> ImagingFeatures:
    """Measure every organ in ``organ_names`` (None: every named structure) and every lesion component.

    ``segments`` contains liver Couinaud segment masks; ``subregion_ids`` maps their
    structure names to KG subregion ids (default: the ``totalseg`` fields of the
    liver KG file).
    """
    _check_same_grid(ct, organs, lesions, segments)
    stats = LabelStats(organs.labels, ct.hu)
    names = list(organs.names.values()) if organ_names is None else list(organ_names)
    organ_features = tuple(_organ_features(name, organs, stats, ct) for name in names)

    lesion_features: tuple[LesionImagingFeatures, ...] = ()
    if lesions is not None:
        lesion_features = measure_lesions(ct, organs, lesions, segments, _subregion_ids(subregion_ids))

    flags = (*ct.flags, *organs.flags, *(lesions.flags if lesions else ()), *(segments.flags if segments else ()))
    return ImagingFeatures(
        case_id=case_id,
        ct_path=ct.path,
        ct_sha256=ct.sha256,
        shape_xyz=ct.shape_xyz,
        spacing_mm_xyz=ct.spacing_mm_xyz,
        hu_min=ct.hu_min,
        hu_max=ct.hu_max,
        mask_source=mask_source,
        organs=organ_features,
        lesions=lesion_features,
        flags=tuple(flags),
    )


def _organ_features(name: str, organs: LabelVolume, stats: LabelStats, ct: CTVolume) -> OrganFeatures:
    value = organs.label_of(name)
    count = stats.count(value) if value is not None else 0
    if count == 0:
        return OrganFeatures(organ=name, present=False, voxel_count=0)

    box = stats.box(value)
    hu_mean, hu_std = stats.hu_mean_std(value)
    return OrganFeatures(
        organ=name,
        present=True,
        voxel_count=count,
        volume_ml=count * ct.voxel_volume_ml,
        bbox_voxel_xyz=box,
        bbox_norm_xyz=normalize_box(box, ct.shape_xyz),
        centroid_mm_ras=index_to_ras(ct.affine, stats.centroid_index(value)),
        hu_mean=hu_mean,
        hu_std=hu_std,
        touches_edge=touches_edge(box, ct.shape_xyz),
    )


def _subregion_ids(explicit: Mapping[str, str] | None) -> dict[str, str]:
    from engine.imaging.subregions import kg_subregion_ids

    return dict(kg_subregion_ids("liver")) if explicit is None else dict(explicit)


def _check_same_grid(ct: CTVolume, *volumes: LabelVolume | None) -> None:
    for volume in volumes:
        if volume is not None and volume.labels.shape != ct.shape_xyz:
            raise ImagingError(
                "shape_mismatch",
                f"label volume shape {volume.labels.shape} differs from CT shape {ct.shape_xyz}; load masks with load_label_volume to align them",
                file=volume.path,
                field="dim",
            )

