"""Lesion measurements: connected components of a lesion mask, placed in organs and subregions by overlap."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from data_contracts.imaging import LesionImagingFeatures
from engine.imaging.volume import CTVolume, LabelVolume, memory_order_views

SUBREGION_ORGAN = "liver"
"""Subregion masks (Couinaud segments) are only consulted for lesions in this organ."""


def measure_lesions(
    ct: CTVolume, organs: LabelVolume, lesions: LabelVolume, segments: LabelVolume | None, subregion_ids: Mapping[str, str]
) -> tuple[LesionImagingFeatures, ...]:
    """Measure each connected component of each lesion label, ordered by label, then by volume (largest first)."""
    from scipy import ndimage

    crop = foreground_box(lesions.labels)
    if crop is None:
        return ()
    offset = np.array([s.start for s in crop])
    lesion_crop = lesions.labels[crop]

    # A component is a 26-connected blob of one lesion label; blobs of two labels that touch stay apart.
    components, _ = ndimage.label(lesion_crop > 0, structure=np.ones((3, 3, 3), dtype=bool))
    key = components.astype(np.int64) * (int(lesion_crop.max()) + 1) + lesion_crop
    keys = np.union1d([0], key)  # key 0 (background) becomes piece 0 even when lesions fill the whole crop
    pieces = np.searchsorted(keys, key)
    piece_labels = keys % (int(lesion_crop.max()) + 1)

    organ_votes = _overlap_votes(pieces, organs.labels[crop], len(keys))
    segment_votes = _overlap_votes(pieces, segments.labels[crop], len(keys)) if segments is not None else None
    boxes = ndimage.find_objects(pieces)
    hu_crop = ct.hu[crop]

    results = []
    for piece in range(1, len(keys)):
        piece_box = boxes[piece - 1]
        voxels = pieces[piece_box] == piece
        organ, overlap = _best_overlap(organ_votes[piece], organs.names)
        subregion = None
        if segment_votes is not None and organ == SUBREGION_ORGAN:
            name, _ = _best_overlap(segment_votes[piece], segments.names)
            subregion = subregion_ids.get(name, name) if name else None
        results.append(_lesion_record(ct, int(piece_labels[piece]), piece_box, offset, voxels, hu_crop, organ, overlap, subregion))

    results.sort(key=lambda item: (item["label"], -item["voxel_count"], item["bbox_voxel_xyz"]))
    return tuple(LesionImagingFeatures(lesion_id=f"img-L{n}", **item) for n, item in enumerate(results, start=1))


def foreground_box(labels: np.ndarray) -> tuple[slice, slice, slice] | None:
    """Return the slices of the box around all nonzero voxels, or None for an empty volume."""
    flat, _, order = memory_order_views(labels, labels)
    foreground = np.flatnonzero(flat)
    if foreground.size == 0:
        return None
    index = np.unravel_index(foreground, labels.shape, order=order)
    return tuple(slice(int(axis.min()), int(axis.max()) + 1) for axis in index)  # type: ignore[return-value]


def _overlap_votes(pieces: np.ndarray, labels: np.ndarray, piece_count: int) -> np.ndarray:
    """Return a (piece, label) table of overlapping voxel counts."""
    size = int(labels.max()) + 1
    inside = pieces > 0
    table = np.bincount(pieces[inside].astype(np.int64) * size + labels[inside], minlength=piece_count * size)
    return table.reshape(piece_count, size)


def _best_overlap(votes: np.ndarray, names: Mapping[int, str]) -> tuple[str | None, float]:
    total = int(votes.sum())
    counts = votes.copy()
    counts[0] = 0
    best = int(counts.argmax())
    if total == 0 or counts[best] == 0:
        return None, 0.0
    return names.get(best, f"label_{best}"), float(counts[best]) / total


def _lesion_record(ct, label, piece_box, offset, voxels, hu_crop, organ, overlap, subregion) -> dict:
    from engine.imaging.features import index_to_ras, normalize_box

    start = np.array([s.start for s in piece_box]) + offset
    box = tuple(int(v) for v in start) + tuple(int(v) for v in start + np.array(voxels.shape))
    local = np.argwhere(voxels)
    centroid_index = local.mean(axis=0) + start
    count = int(voxels.sum())
    return {
        "label": label,
        "organ": organ,
        "organ_overlap": overlap,
        "subregion": subregion,
        "voxel_count": count,
        "volume_ml": count * ct.voxel_volume_ml,
        "max_axial_diameter_mm": max_axial_diameter_mm(voxels, ct.spacing_mm_xyz),
        "bbox_voxel_xyz": box,
        "bbox_norm_xyz": normalize_box(box, ct.shape_xyz),
        "centroid_mm_ras": index_to_ras(ct.affine, centroid_index),
        "hu_mean": float(hu_crop[piece_box][voxels].astype(np.float64).mean()),
    }


def max_axial_diameter_mm(voxels: np.ndarray, spacing_mm_xyz: tuple[float, float, float]) -> float:
    """Return the longest in-plane distance across the mask over all axial (z) slices, in mm.

    Distances run between pixel corners, so a single pixel measures its diagonal,
    as a caliper laid across the outer edges of the lesion would.
    """
    from scipy.spatial import ConvexHull

    dx, dy = spacing_mm_xyz[0], spacing_mm_xyz[1]
    corner_offsets = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    longest = 0.0
    for z in range(voxels.shape[2]):
        pixels = np.argwhere(voxels[:, :, z])
        if pixels.size == 0:
            continue
        corners = np.unique((pixels[:, None, :] + corner_offsets[None]).reshape(-1, 2), axis=0) * np.array([dx, dy])
        hull = corners[ConvexHull(corners).vertices]
        distances = np.sqrt(((hull[:, None, :] - hull[None, :, :]) ** 2).sum(axis=-1))
        longest = max(longest, float(distances.max()))
    return longest
