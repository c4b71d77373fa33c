"""The phantom cohort: procedural abdominal CTs with lesions of known kind, size and place."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy import ndimage

from engine.cohort.anatomy import HU, build_anatomy
from engine.cohort.catalogue import sample_case_plan
from engine.cohort.composer import finish_case
from engine.cohort.drawing import draw_lesions
from engine.cohort.labels import KG_ORGANS
from engine.cohort.manifest import write_manifest
from engine.cohort.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

NOISE_HU = 12.0
"""Standard deviation of the Gaussian image noise, about that of a routine portal-phase CT."""
SMOOTHING_SIGMA_VOXELS = 0.6
"""Gaussian blur of the noise-free image, a stand-in for the scanner's partial-volume blur."""


def make_phantom_cohort(n: int, out_dir: str | Path, seed: int = 0, normal_fraction: float = 0.2, id_prefix: str = "phantom") -> Path:
    """Generate ``n`` phantom cases under ``out_dir`` and return the path of ``manifest.csv``.

    The same ``n``, ``seed`` and KG files give the same images, masks and texts.
    """
    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocabulary = Vocabulary.load()
    rows = []
    for index in range(n):
        case_id = f"{id_prefix}-{seed}-{index:04d}"
        rows.append(make_phantom_case(out / case_id, case_id, np.random.default_rng([seed, index]), vocabulary, normal_fraction))
        logger.info("phantom case %s written", case_id)
    return write_manifest(rows, out)


def make_phantom_case(case_dir: Path, case_id: str, rng: np.random.Generator, vocabulary: Vocabulary, normal_fraction: float = 0.2) -> dict:
    """Build and write one phantom case; return its manifest row."""
    anatomy = build_anatomy(rng)
    spacing = anatomy.grid.spacing_mm_xyz
    plan = sample_case_plan(rng, vocabulary.usable_kinds(set(KG_ORGANS)), normal_fraction)
    growth_room = (anatomy.labels == 0) & (anatomy.hu == HU["visceral_fat"])

    # Lesions go in after the blur, so a thin wall lesion next to gas keeps its own HU; blend_lesion softens its edge.
    hu = ndimage.gaussian_filter(anatomy.hu, SMOOTHING_SIGMA_VOXELS)
    plan, painted = draw_lesions(hu, anatomy.labels, spacing, plan, rng, growth_room)
    hu += rng.normal(0.0, NOISE_HU, size=hu.shape).astype(np.float32)
    return finish_case(case_dir, case_id, "phantom", hu, anatomy.labels, anatomy.grid.affine, plan, painted, vocabulary, rng)
