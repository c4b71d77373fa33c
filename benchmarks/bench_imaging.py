"""Imaging feature extraction time against NIfTI load time on a synthetic full-size case."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

FULL_SHAPE = (512, 512, 300)
QUICK_SHAPE = (256, 256, 120)
GOAL_RATIO = 0.5

# (label, centre as a fraction of the shape, radii as a fraction, mean HU): liver, spleen, pancreas, stomach, kidneys.
ORGANS = (
    (5, (0.35, 0.45, 0.6), (0.16, 0.18, 0.2), 60),
    (1, (0.75, 0.35, 0.62), (0.07, 0.08, 0.1), 50),
    (7, (0.55, 0.55, 0.5), (0.12, 0.04, 0.05), 40),
    (6, (0.68, 0.6, 0.65), (0.09, 0.1, 0.12), 20),
    (2, (0.3, 0.3, 0.4), (0.05, 0.05, 0.09), 30),
    (3, (0.7, 0.3, 0.4), (0.05, 0.05, 0.09), 30),
)


def synthetic_case(shape: tuple[int, int, int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return an int16 CT (air around a water-density body with noise) and a uint8 organ label map."""
    rng = np.random.default_rng(seed)
    ct = rng.normal(0, 20, size=shape).astype(np.int16)
    ct[: shape[0] // 10] = -1000
    ct[-shape[0] // 10 :] = -1000
    labels = np.zeros(shape, dtype=np.uint8)
    for label, centre, radii, hu in ORGANS:
        c = np.array(centre) * shape
        r = np.array(radii) * shape
        low = np.maximum((c - r).astype(int), 0)
        high = np.minimum((c + r).astype(int) + 1, shape)
        grid = np.ogrid[tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))]
        inside = sum(((g - ci) / ri) ** 2 for g, ci, ri in zip(grid, c, r, strict=True)) <= 1.0
        labels[tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))][inside] = label
        ct[tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))][inside] += hu
    return ct, labels


def _best_of(repeats: int, function) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(quick: bool = False) -> list[dict]:
    """Time load_ct, load_label_volume and compute_features; return benchmark rows."""
    from engine.imaging import compute_features, load_ct, load_label_volume, write_nifti

    shape = QUICK_SHAPE if quick else FULL_SHAPE
    ct_array, labels = synthetic_case(shape)
    affine = np.diag([0.8, 0.8, 1.5, 1.0])
    with tempfile.TemporaryDirectory(prefix="tumorcot-bench-imaging-") as folder:
        ct_path = write_nifti(ct_array, affine, Path(folder) / "ct.nii.gz")
        mask_path = write_nifti(labels, affine, Path(folder) / "seg.nii.gz")
        del ct_array
        load_s, ct = _best_of(3, lambda: load_ct(ct_path, "bench"))
        labels_s, organs = _best_of(3, lambda: load_label_volume(mask_path, ct, case_id="bench"))
        features_s, _ = _best_of(3, lambda: compute_features("bench", ct, organs))

    size = "x".join(str(n) for n in shape)
    note = f"synthetic {size} int16 CT, gzip NIfTI, best of 3"
    return [
        {"name": "imaging: CT NIfTI load", "value": round(load_s, 3), "unit": "s", "goal": "", "note": note},
        {"name": "imaging: label NIfTI load", "value": round(labels_s, 3), "unit": "s", "goal": "", "note": note},
        {"name": "imaging: compute_features", "value": round(features_s, 3), "unit": "s", "goal": "", "note": f"{len(ORGANS)} organs; {note}"},
        {
            "name": "imaging: features / CT load",
            "value": round(features_s / load_s, 3),
            "unit": "ratio",
            "goal": f"<= {GOAL_RATIO}",
            "note": note,
        },
    ]


if __name__ == "__main__":
    for row in run(quick=False):
        print(row)
