"""Geometric partitions of organ masks into subregions, so every lesion has a known subregion.

Each rule reads only the organ mask, in coordinates normalised to the mask's bounding
box: 0 at the minimum and 1 at the maximum of x, y and z in RAS+. So the same mask
always gives the same partition, and a test can recompute it from the written masks. The rules
are approximations of the anatomical boundaries, not a segmentation model.
Subregion names here are keys that ``engine.cohort.vocabulary`` maps to KG subregion ids.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.cohort.labels import TOTALSEG_TOTAL

SUBREGION_KEYS: dict[str, tuple[str, ...]] = {
    "liver": tuple(f"segment_{n}" for n in range(1, 9)),
    "pancreas": ("head", "neck", "body", "tail"),
    "stomach": ("cardia", "fundus", "body", "antrum", "pylorus"),
    "colon": ("ascending_colon", "transverse_colon", "descending_colon", "sigmoid_colon"),
    "esophagus": ("lower_thoracic", "abdominal"),
}
"""Partition keys per organ; a partition volume stores the 1-based position in this tuple."""


def _relative_coordinates(mask: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Return the voxel indices of ``mask`` and their (u, v, w) in [0, 1] over its bounding box."""
    indices = np.nonzero(mask)
    relative = []
    for axis in range(3):
        low, high = indices[axis].min(), indices[axis].max()
        relative.append((indices[axis] - low) / max(high - low, 1))
    return np.stack(indices), (relative[0], relative[1], relative[2])


def _liver(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    # u grows toward the patient's right: left lateral (2, 3), medial (4), right lobe (5-8).
    superior = w >= 0.5
    anterior = v >= 0.5
    codes = np.where(anterior, np.where(superior, 8, 5), np.where(superior, 7, 6))
    codes = np.where(u < 0.45, 4, codes)
    codes = np.where(u < 0.3, np.where(superior, 2, 3), codes)
    caudate = (u >= 0.3) & (u < 0.5) & (v < 0.35) & (w >= 0.35) & (w < 0.75)
    return np.where(caudate, 1, codes)


def _pancreas(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    # The head lies on the patient's right (high u), the tail toward the spleen.
    return np.select([u >= 0.7, u >= 0.55, u >= 0.25], [1, 2, 3], default=4)


def _stomach(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    top = w >= 0.7
    return np.select(
        [top & (u >= 0.55), top, u >= 0.8, (u >= 0.55) & (w < 0.45)],
        [1, 2, 5, 4],
        default=3,
    )


def _colon(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.select([w >= 0.75, u >= 0.5, w < 0.35], [2, 1, 4], default=3)


def _esophagus(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    # NOTE: the rule assumes the scan shows only the distal esophagus, as abdominal CT does.
    return np.where(w < 0.35, 2, 1)


_RULES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "liver": _liver, "pancreas": _pancreas, "stomach": _stomach, "colon": _colon, "esophagus": _esophagus,
}


def partition_organ(organ: str, mask: np.ndarray) -> np.ndarray:
    """Return a uint8 volume with the 1-based subregion code of ``SUBREGION_KEYS[organ]`` inside ``mask``, 0 outside."""
    codes = np.zeros(mask.shape, dtype=np.uint8)
    if not mask.any():
        return codes
    indices, (u, v, w) = _relative_coordinates(mask)
    codes[tuple(indices)] = _RULES[organ](u, v, w).astype(np.uint8)
    return codes


def partition_all(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Partition every KG organ present in the multilabel ``labels``."""
    return {organ: partition_organ(organ, labels == TOTALSEG_TOTAL[organ]) for organ in SUBREGION_KEYS}


def majority_subregion(organ: str, partition: np.ndarray, lesion: np.ndarray) -> str | None:
    """Return the subregion key that covers most voxels of ``lesion``, or None outside the organ."""
    codes = partition[lesion]
    codes = codes[codes > 0]
    if codes.size == 0:
        return None
    counts = np.bincount(codes, minlength=len(SUBREGION_KEYS[organ]) + 1)
    return SUBREGION_KEYS[organ][int(np.argmax(counts)) - 1]
