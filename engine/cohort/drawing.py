"""Draw a case plan's lesions into a CT and describe them from the final images.

Shared by the phantom and the implant tool: lesions are placed and blended first,
and measured only after the CT is final (noise included), so truth.json contains what a
reader of the written files would measure.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from engine.cohort.catalogue import CasePlan, LesionPlan
from engine.cohort.labels import TOTALSEG_TOTAL
from engine.cohort.lesions import blend_lesion, measure_lesion, place_lesion
from engine.cohort.subregions import majority_subregion
from engine.cohort.truth import DrawnLesion, centroid_mm
from engine.cohort.vocabulary import Vocabulary

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PaintedLesion:
    """A placed lesion: its plan and its voxels."""

    plan: LesionPlan
    mask: np.ndarray


def draw_lesions(
    hu: np.ndarray,
    labels: np.ndarray,
    spacing: tuple[float, float, float],
    plan: CasePlan,
    rng: np.random.Generator,
    growth_room: np.ndarray | None = None,
) -> tuple[CasePlan, list[PaintedLesion]]:
    """Place and blend every planned lesion into ``hu`` (in place); return the plan trimmed to what fitted.

    A wall-thickening lesion may take voxels of ``growth_room``, which then join its organ in ``labels``.
    A primary that does not fit turns the case normal; metastasis sites are kept only when a metastasis was drawn.
    """
    hu_before, labels_before = hu.copy(), labels.copy()
    painted: list[PaintedLesion] = []
    blocked = np.zeros(labels.shape, dtype=bool)
    for lesion_plan in plan.lesions:
        organ_label = TOTALSEG_TOTAL[lesion_plan.kind.organ]
        site = place_lesion(lesion_plan, labels == organ_label, blocked, spacing, rng, growth_room)
        if site is None:
            logger.debug("no room for a %.0f mm %s lesion; it is left out", lesion_plan.diameter_mm, lesion_plan.kind.key)
            continue
        labels[site.grown] = organ_label
        if growth_room is not None:
            growth_room &= ~site.mask
        blend_lesion(hu, site.mask, lesion_plan.kind.hu, lesion_plan.kind.texture_hu, lesion_plan.margin, rng)
        blocked |= site.mask
        painted.append(PaintedLesion(lesion_plan, site.mask))

    if not any(p.plan.role == "primary" for p in painted):
        if painted:
            logger.debug("the primary lesion did not fit, so the case is drawn as normal")
            hu[...] = hu_before
            labels[...] = labels_before
        return CasePlan(), []
    has_metastasis = any(p.plan.role == "metastasis" for p in painted)
    trimmed = dataclasses.replace(
        plan,
        lesions=tuple(p.plan for p in painted),
        metastasis_sites=plan.metastasis_sites if has_metastasis else (),
    )
    return trimmed, painted


def describe_lesions(
    painted: list[PaintedLesion],
    hu: np.ndarray,
    partitions: dict[str, np.ndarray],
    affine: np.ndarray,
    spacing: tuple[float, float, float],
    vocabulary: Vocabulary,
) -> list[DrawnLesion]:
    """Measure each painted lesion on the final CT and name its KG subregion."""
    described = []
    for label, lesion in enumerate(painted, start=1):
        kind = lesion.plan.kind
        key = majority_subregion(kind.organ, partitions[kind.organ], lesion.mask)
        subregion = vocabulary.subregion(kind.organ, key) if key is not None else None
        impression = vocabulary.impression(kind)
        if impression is None:
            raise KeyError(f"catalogue entry {kind.key}: impression '{kind.impression}' is not in the {kind.organ} KG")
        measurement = measure_lesion(lesion.mask, spacing)
        described.append(
            DrawnLesion(
                label=label,
                plan=lesion.plan,
                impression_id=impression.id,
                subregion_key=key,
                subregion_id=subregion.id if subregion is not None else None,
                measurement=measurement,
                hu_mean=float(hu[lesion.mask].mean()),
                centroid_mm_ras=centroid_mm(affine, measurement.centroid_voxel),
            )
        )
    return described


def lesion_label_volume(painted: list[PaintedLesion], shape: tuple[int, ...]) -> np.ndarray:
    """Return the lesion mask: label i (from 1) on the voxels of the i-th painted lesion."""
    volume = np.zeros(shape, dtype=np.uint8)
    for label, lesion in enumerate(painted, start=1):
        volume[lesion.mask] = label
    return volume
