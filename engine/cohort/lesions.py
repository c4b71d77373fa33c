"""Lesion masks: where a lesion goes inside its organ, its shape, and how it is measured.

A solid lesion is centred where the organ's inner distance map leaves room for its
radius, so it stays inside the organ. A wall-thickening lesion of a hollow organ is a
band along the organ wall. Where the caller allows it (the phantom), the band may also
grow a few mm outward into fat, and the organ mask grows with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from engine.cohort.catalogue import LesionPlan

MIN_LESION_VOXELS = 4
MAX_PLACEMENT_TRIES = 25


@dataclass(frozen=True)
class LesionSite:
    """The voxels a lesion occupies and the organ voxels it added (wall growth)."""

    mask: np.ndarray
    grown: np.ndarray


@dataclass(frozen=True)
class LesionMeasurement:
    """Sizes measured on a lesion mask, in mm and mL."""

    max_axial_diameter_mm: float
    short_axis_mm: float
    volume_ml: float
    voxel_count: int
    centroid_voxel: tuple[float, float, float]


def place_lesion(
    plan: LesionPlan,
    organ: np.ndarray,
    blocked: np.ndarray,
    spacing: tuple[float, float, float],
    rng: np.random.Generator,
    growth_room: np.ndarray | None = None,
) -> LesionSite | None:
    """Return the voxels of a lesion for ``plan`` inside ``organ``, away from ``blocked``, or None when it does not fit.

    ``growth_room`` marks voxels outside the organ that a wall-thickening lesion may take.
    """
    inner = ndimage.distance_transform_edt(organ, sampling=spacing)
    radius = plan.diameter_mm / 2.0
    free = organ & ~ndimage.binary_dilation(blocked, iterations=2)
    if plan.kind.wall_thickening:
        candidates = free & (inner <= 4.0)
    else:
        radius = min(radius, float(inner[free].max(initial=0.0)) * 0.9)
        candidates = free & (inner >= radius * 0.95)
    if radius < 2.0 or not candidates.any():
        return None

    allowed = organ & ~blocked
    if plan.kind.wall_thickening:
        thickness = float(rng.uniform(8.0, 14.0))
        allowed &= inner <= thickness
        if growth_room is not None:
            outer = ndimage.distance_transform_edt(~organ, sampling=spacing)
            allowed |= growth_room & ~blocked & (outer <= 5.0)
    positions = np.argwhere(candidates)
    for _ in range(MAX_PLACEMENT_TRIES):
        center = tuple(int(c) for c in positions[int(rng.integers(len(positions)))])
        body = _shape_mask(organ.shape, center, radius, plan.shape, spacing, rng) & allowed
        body = _component_at(body, center)
        if body is not None and int(body.sum()) >= MIN_LESION_VOXELS and not (ndimage.binary_dilation(body) & blocked).any():
            return LesionSite(mask=body, grown=body & ~organ)
    return None


def _shape_mask(shape, center, radius_mm, kind, spacing, rng) -> np.ndarray:
    """Return a round, oval, lobulated or irregular solid of about ``2 * radius_mm`` long axis."""
    reach = [int(np.ceil(radius_mm * 1.4 / s)) + 1 for s in spacing]
    box = tuple(slice(max(c - r, 0), min(c + r + 1, n)) for c, r, n in zip(center, reach, shape, strict=True))
    x, y, z = np.meshgrid(*[(np.arange(b.start, b.stop) - c) * s for b, c, s in zip(box, center, spacing, strict=True)], indexing="ij")
    angle = float(rng.uniform(0.0, np.pi))
    along = x * np.cos(angle) + y * np.sin(angle)
    across = -x * np.sin(angle) + y * np.cos(angle)
    ratio = {"round": (1.0, 0.95, 0.9), "oval": (1.0, 0.7, 0.75)}.get(kind, (1.0, 0.85, 0.8))
    distance = np.sqrt((along / ratio[0]) ** 2 + (across / ratio[1]) ** 2 + (z / ratio[2]) ** 2) / radius_mm
    if kind == "lobulated":
        lobes = int(rng.integers(3, 6))
        distance /= 1.0 + 0.18 * np.cos(lobes * np.arctan2(across, along) + rng.uniform(0, 2 * np.pi))
    elif kind == "irregular":
        roughness = ndimage.gaussian_filter(rng.standard_normal(distance.shape), 1.2)
        distance += 0.25 * roughness / max(float(np.abs(roughness).max()), 1e-6)
    solid = np.zeros(shape, dtype=bool)
    solid[box] = distance <= 1.0
    return solid


def _component_at(mask: np.ndarray, center: tuple[int, int, int]) -> np.ndarray | None:
    labeled, count = ndimage.label(mask)
    if count == 0:
        return None
    label = labeled[center]
    if label == 0:
        label = int(np.argmax(np.bincount(labeled.ravel())[1:])) + 1
    return labeled == label


def blend_lesion(hu: np.ndarray, mask: np.ndarray, target_hu: float, texture_hu: float, margin: str, rng: np.random.Generator) -> None:
    """Blend a lesion of mean ``target_hu`` into ``hu`` in place, with a smooth edge and texture.

    An ill-defined or infiltrative margin gets a wider transition zone than a well-defined one.
    """
    sigma = 0.5 if margin == "well_defined" else 1.1
    profile = ndimage.gaussian_filter(mask.astype(np.float32), sigma)
    profile[mask] = np.maximum(profile[mask], 0.85)
    texture = ndimage.gaussian_filter(rng.standard_normal(hu.shape).astype(np.float32), 1.0)
    texture *= texture_hu / max(float(texture[mask].std()), 1e-6)
    lesion_hu = target_hu + texture
    hu[...] = hu * (1.0 - profile) + lesion_hu * profile
    hu[mask] = lesion_hu[mask]


def measure_lesion(mask: np.ndarray, spacing: tuple[float, float, float]) -> LesionMeasurement:
    """Measure a lesion mask: longest in-plane (x-y) extent over all axial slices, and the short axis in that slice.

    Extents are between voxel centres plus one voxel, so a lesion of one voxel measures one voxel.
    """
    best_long, best_short = 0.0, 0.0
    for k in np.unique(np.nonzero(mask)[2]):
        section = mask[:, :, k]
        # The extreme points of a slice lie on its outline, so only outline pixels are compared.
        outline = section & ~ndimage.binary_erosion(section)
        points = np.argwhere(outline).astype(np.float64) * np.asarray(spacing[:2])
        long_axis, short_axis = _slice_axes(points, spacing)
        if long_axis > best_long:
            best_long, best_short = long_axis, short_axis
    indices = np.argwhere(mask)
    return LesionMeasurement(
        max_axial_diameter_mm=round(best_long, 1),
        short_axis_mm=round(best_short, 1),
        volume_ml=round(float(mask.sum()) * float(np.prod(spacing)) / 1000.0, 3),
        voxel_count=int(mask.sum()),
        centroid_voxel=tuple(float(v) for v in indices.mean(axis=0)),  # type: ignore[arg-type]
    )


def _slice_axes(points: np.ndarray, spacing: tuple[float, float, float]) -> tuple[float, float]:
    pixel = (spacing[0] + spacing[1]) / 2.0
    if len(points) == 1:
        return pixel, pixel
    differences = points[:, None, :] - points[None, :, :]
    distances = np.sqrt((differences**2).sum(axis=-1))
    i, j = np.unravel_index(int(np.argmax(distances)), distances.shape)
    direction = (points[j] - points[i]) / distances[i, j]
    across = points @ np.array([-direction[1], direction[0]])
    return float(distances[i, j]) + pixel, float(across.max() - across.min()) + pixel
