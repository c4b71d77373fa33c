"""The procedural abdominal phantom: organs at anatomical positions, HU values and exact masks.

Geometry is written in a template frame in mm (RAS+, origin at the grid centre, x toward
the patient's Right, y Anterior, z Superior). Each case scales the template by one body
size factor and moves every organ by a few mm, so cases differ but stay anatomical.
The HU values are portal-venous-phase soft-tissue values before noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.cohort.labels import TOTALSEG_TOTAL
from engine.cohort.shapes import Grid, Point, centered_grid, ellipsoid, elliptic_cylinder, polyline_distance_mm, tube

PHANTOM_SHAPE: tuple[int, int, int] = (128, 128, 80)
PHANTOM_SPACING_MM: tuple[float, float, float] = (3.0, 3.0, 4.0)
"""128 x 128 x 80 voxels at 3 x 3 x 4 mm covers 384 x 384 x 320 mm, the abdomen from the lung
bases to the pelvis, at the slice spacing of a routine portal-phase CT. It keeps one case at
1.3 M voxels, so a 16-case demo cohort builds in seconds."""

HU = {
    "air": -1000.0, "subcutaneous_fat": -100.0, "visceral_fat": -90.0, "muscle": 50.0, "lung": -850.0,
    "bone_cortex": 700.0, "bone_marrow": 250.0, "liver": 60.0, "spleen": 55.0, "kidney": 150.0,
    "pancreas": 45.0, "gallbladder": 10.0, "bowel_wall": 40.0, "fluid": 10.0, "gas": -950.0,
    "small_bowel": 30.0, "aorta": 150.0, "inferior_vena_cava": 120.0, "portal_vein": 160.0,
}
"""Attenuation in HU of each tissue in the noise-free phantom."""


@dataclass
class Anatomy:
    """A noise-free phantom: HU per voxel and the TotalSegmentator multilabel mask."""

    grid: Grid
    hu: np.ndarray
    labels: np.ndarray


@dataclass
class _Painter:
    grid: Grid
    hu: np.ndarray
    labels: np.ndarray
    rng: np.random.Generator

    def shift(self, point: Point, jitter_mm: float = 4.0) -> Point:
        offset = self.rng.uniform(-jitter_mm, jitter_mm, size=3)
        return (point[0] + offset[0], point[1] + offset[1], point[2] + offset[2])

    def paint(self, region: np.ndarray, hu: float, structure: str | None = None) -> None:
        self.hu[region] = hu
        if structure is not None:
            self.labels[region] = TOTALSEG_TOTAL[structure]


def build_anatomy(rng: np.random.Generator) -> Anatomy:
    """Build one noise-free phantom; ``rng`` sets body size and organ positions."""
    body_scale = float(rng.uniform(0.93, 1.07))
    spacing = PHANTOM_SPACING_MM
    # Drawing on a grid with spacing / scale in template mm is the same as scaling the body.
    template_grid = centered_grid(PHANTOM_SHAPE, tuple(s / body_scale for s in spacing))  # type: ignore[arg-type]
    painter = _Painter(
        template_grid,
        np.full(PHANTOM_SHAPE, HU["air"], dtype=np.float32),
        np.zeros(PHANTOM_SHAPE, dtype=np.uint8),
        rng,
    )
    for step in _PAINT_ORDER:
        step(painter)
    return Anatomy(centered_grid(PHANTOM_SHAPE, spacing), painter.hu, painter.labels)


def _body(p: _Painter) -> None:
    p.paint(elliptic_cylinder(p.grid, (0.0, 0.0), (165.0, 120.0)), HU["subcutaneous_fat"])
    p.paint(elliptic_cylinder(p.grid, (0.0, 0.0), (150.0, 105.0)), HU["muscle"])
    p.paint(elliptic_cylinder(p.grid, (0.0, 0.0), (138.0, 93.0)), HU["visceral_fat"])
    for side in (-1.0, 1.0):
        lung = ellipsoid(p.grid, (side * 80.0, -30.0, 185.0), (60.0, 60.0, 60.0)) & elliptic_cylinder(p.grid, (0.0, 0.0), (138.0, 93.0))
        p.paint(lung, HU["lung"])


def _small_bowel(p: _Painter) -> None:
    region = ellipsoid(p.grid, p.shift((0.0, 15.0, -70.0)), (65.0, 45.0, 55.0))
    p.paint(region, HU["small_bowel"], "small_bowel")
    # Loops: fluid-filled lumen in a regular pattern so the region is not uniform.
    x, y, z = p.grid.axes_mm()
    loops = (np.sin(x / 9.0) * np.sin(y / 9.0) * np.sin(z / 11.0)) > 0.35
    p.paint(region & np.broadcast_to(loops, p.grid.shape), HU["fluid"])


def _hollow_tube(p: _Painter, points: list[Point], radius_mm: float, wall_mm: float, structure: str, lumen_hu: float) -> None:
    distance = polyline_distance_mm(p.grid, points)
    p.paint(distance <= radius_mm, HU["bowel_wall"], structure)
    p.paint(distance <= radius_mm - wall_mm, lumen_hu)


def _colon(p: _Painter) -> None:
    cecum = p.shift((90.0, 0.0, -120.0))
    hepatic_flexure = p.shift((85.0, 10.0, -5.0))
    splenic_flexure = p.shift((-95.0, -5.0, 5.0))
    path = [
        cecum, p.shift((95.0, -5.0, -30.0)), hepatic_flexure, p.shift((40.0, 50.0, -20.0)), p.shift((-30.0, 50.0, -15.0)),
        splenic_flexure, p.shift((-100.0, -10.0, -90.0)), p.shift((-70.0, 15.0, -125.0)), p.shift((-25.0, 20.0, -140.0)),
        (0.0, -15.0, -150.0),
    ]
    _hollow_tube(p, path, 16.0, 4.0, "colon", HU["gas"])
    cecum_pouch = ellipsoid(p.grid, cecum, (22.0, 22.0, 20.0))
    p.paint(cecum_pouch, HU["bowel_wall"], "colon")
    p.paint(ellipsoid(p.grid, cecum, (18.0, 18.0, 16.0)), HU["gas"])


def _kidneys_and_spleen(p: _Painter) -> None:
    p.paint(ellipsoid(p.grid, p.shift((75.0, -50.0, -10.0)), (25.0, 28.0, 50.0)), HU["kidney"], "kidney_right")
    p.paint(ellipsoid(p.grid, p.shift((-70.0, -50.0, 0.0)), (25.0, 28.0, 50.0)), HU["kidney"], "kidney_left")
    p.paint(ellipsoid(p.grid, p.shift((-95.0, -40.0, 60.0)), (30.0, 45.0, 50.0)), HU["spleen"], "spleen")


def _stomach(p: _Painter) -> None:
    body = ellipsoid(p.grid, p.shift((-50.0, 20.0, 60.0)), (40.0, 32.0, 42.0))
    antrum = tube(p.grid, [p.shift((-30.0, 35.0, 35.0)), p.shift((0.0, 42.0, 28.0)), (22.0, 35.0, 22.0)], 16.0)
    stomach = body | antrum
    p.paint(stomach, HU["bowel_wall"], "stomach")
    lumen = _erode_mm(stomach, p.grid, 5.0)
    _, _, z = p.grid.axes_mm()
    gas_level = float(p.rng.uniform(55.0, 80.0))
    p.paint(lumen & np.broadcast_to(z < gas_level, p.grid.shape), HU["fluid"])
    p.paint(lumen & np.broadcast_to(z >= gas_level, p.grid.shape), HU["gas"])


def _liver_and_gallbladder(p: _Painter) -> None:
    right_lobe = ellipsoid(p.grid, p.shift((65.0, 0.0, 70.0)), (75.0, 80.0, 62.0))
    left_lobe = ellipsoid(p.grid, p.shift((-15.0, 40.0, 100.0)), (40.0, 28.0, 28.0))
    interior = elliptic_cylinder(p.grid, (0.0, 0.0), (138.0, 93.0))
    p.paint((right_lobe | left_lobe) & interior, HU["liver"], "liver")
    p.paint(ellipsoid(p.grid, p.shift((55.0, 45.0, 15.0)), (14.0, 14.0, 28.0)), HU["gallbladder"], "gallbladder")


def _duodenum_and_pancreas(p: _Painter) -> None:
    c_loop = [(30.0, 25.0, 20.0), (55.0, 10.0, 5.0), (55.0, 5.0, -20.0), (30.0, 0.0, -30.0), (0.0, 5.0, -30.0), (-20.0, 10.0, -22.0)]
    _hollow_tube(p, [p.shift(point, 2.0) for point in c_loop], 10.0, 3.0, "duodenum", HU["fluid"])
    head, neck, body, tail = p.shift((35.0, 5.0, -5.0)), p.shift((10.0, 12.0, 0.0)), p.shift((-25.0, 5.0, 8.0)), p.shift((-70.0, -20.0, 20.0))
    pancreas = ellipsoid(p.grid, head, (17.0, 15.0, 17.0)) | tube(p.grid, [head, neck, body], 11.0) | tube(p.grid, [body, tail], 9.0)
    p.paint(pancreas, HU["pancreas"], "pancreas")


def _esophagus(p: _Painter) -> None:
    path = [(-5.0, -18.0, 165.0), p.shift((-12.0, -18.0, 130.0), 2.0), p.shift((-25.0, -5.0, 110.0), 2.0), p.shift((-38.0, 5.0, 98.0), 2.0)]
    distance = polyline_distance_mm(p.grid, path)
    p.paint(distance <= 9.0, HU["bowel_wall"], "esophagus")
    p.paint(distance <= 2.5, HU["gas"])


def _vessels(p: _Painter) -> None:
    confluence = p.shift((10.0, -2.0, 2.0), 2.0)
    portal = [confluence, p.shift((45.0, 0.0, 45.0), 2.0)]
    splenic = [confluence, (-30.0, -8.0, 10.0), p.shift((-72.0, -30.0, 25.0), 2.0)]
    p.paint(tube(p.grid, portal, 7.0) | tube(p.grid, splenic, 5.0), HU["portal_vein"], "portal_vein_and_splenic_vein")
    p.paint(tube(p.grid, [(25.0, -35.0, 170.0), (25.0, -38.0, -60.0)], 11.0), HU["inferior_vena_cava"], "inferior_vena_cava")
    p.paint(tube(p.grid, [(-15.0, -40.0, 170.0), (-12.0, -45.0, -60.0)], 12.0), HU["aorta"], "aorta")


def _spine(p: _Painter) -> None:
    p.paint(elliptic_cylinder(p.grid, (0.0, -75.0), (20.0, 18.0)), HU["bone_cortex"])
    p.paint(elliptic_cylinder(p.grid, (0.0, -75.0), (14.0, 12.0)), HU["bone_marrow"])


def _erode_mm(mask: np.ndarray, grid: Grid, depth_mm: float) -> np.ndarray:
    from scipy import ndimage

    distance = ndimage.distance_transform_edt(mask, sampling=grid.spacing_mm_xyz)
    return distance > depth_mm


_PAINT_ORDER: tuple[Callable[[_Painter], None], ...] = (
    _body, _small_bowel, _colon, _kidneys_and_spleen, _stomach, _liver_and_gallbladder,
    _duodenum_and_pancreas, _esophagus, _vessels, _spine,
)
"""Later steps paint over earlier ones, so each voxel ends with exactly one label."""
