"""Boolean shape primitives on a voxel grid, in world millimetres (RAS+)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float, float]


@dataclass(frozen=True)
class Grid:
    """A voxel grid in RAS+ index order (x, y, z) with its world coordinates in mm."""

    shape: tuple[int, int, int]
    spacing_mm_xyz: tuple[float, float, float]
    origin_mm: tuple[float, float, float]

    @property
    def affine(self) -> np.ndarray:
        """Return the 4x4 voxel-to-world matrix (RAS+, no rotation)."""
        affine = np.diag([*self.spacing_mm_xyz, 1.0])
        affine[:3, 3] = self.origin_mm
        return affine

    def axes_mm(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the world coordinate of every index along x, y and z, broadcastable to the grid."""
        x, y, z = (self.origin_mm[a] + self.spacing_mm_xyz[a] * np.arange(self.shape[a], dtype=np.float32) for a in range(3))
        return x[:, None, None], y[None, :, None], z[None, None, :]


def centered_grid(shape: tuple[int, int, int], spacing_mm_xyz: tuple[float, float, float]) -> Grid:
    """Return a grid whose centre is the world origin."""
    origin = tuple(-(n - 1) * s / 2.0 for n, s in zip(shape, spacing_mm_xyz, strict=True))
    return Grid(shape, spacing_mm_xyz, origin)  # type: ignore[arg-type]


def ellipsoid(grid: Grid, center: Point, semi_axes_mm: Point) -> np.ndarray:
    """Return the voxels whose centres lie inside an axis-aligned ellipsoid."""
    x, y, z = grid.axes_mm()
    distance = ((x - center[0]) / semi_axes_mm[0]) ** 2 + ((y - center[1]) / semi_axes_mm[1]) ** 2 + ((z - center[2]) / semi_axes_mm[2]) ** 2
    return distance <= 1.0


def elliptic_cylinder(grid: Grid, center_xy: tuple[float, float], semi_axes_xy: tuple[float, float]) -> np.ndarray:
    """Return the voxels inside an ellipse in every axial slice."""
    x, y, _ = grid.axes_mm()
    inside = ((x - center_xy[0]) / semi_axes_xy[0]) ** 2 + ((y - center_xy[1]) / semi_axes_xy[1]) ** 2 <= 1.0
    return np.broadcast_to(inside, grid.shape).copy()


def polyline_distance_mm(grid: Grid, points: Sequence[Point]) -> np.ndarray:
    """Return each voxel's distance in mm to a polyline through ``points``."""
    x, y, z = grid.axes_mm()
    best = np.full(grid.shape, np.inf, dtype=np.float32)
    for start, end in zip(points[:-1], points[1:], strict=True):
        a = np.asarray(start, dtype=np.float32)
        direction = np.asarray(end, dtype=np.float32) - a
        length_sq = float(direction @ direction)
        dx, dy, dz = x - a[0], y - a[1], z - a[2]
        t = np.clip((dx * direction[0] + dy * direction[1] + dz * direction[2]) / length_sq, 0.0, 1.0)
        distance = np.sqrt((dx - t * direction[0]) ** 2 + (dy - t * direction[1]) ** 2 + (dz - t * direction[2]) ** 2)
        np.minimum(best, distance, out=best)
    return best


def tube(grid: Grid, points: Sequence[Point], radius_mm: float) -> np.ndarray:
    """Return the voxels within ``radius_mm`` of a polyline."""
    return polyline_distance_mm(grid, points) <= radius_mm
