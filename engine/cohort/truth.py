"""Ground truth of a synthetic case: every drawn lesion as measured on its mask, and the expected stage.

``truth.json`` is written from these records, and the reports are written from the same
records, so the text, the masks and the truth cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.cohort.catalogue import CasePlan, LesionPlan
from engine.cohort.lesions import LesionMeasurement
from engine.cohort.vocabulary import Vocabulary

TRUTH_FORMAT_VERSION = 1


@dataclass(frozen=True)
class DrawnLesion:
    """A lesion as drawn: its plan, label in the lesion mask, subregion and measurements."""

    label: int
    plan: LesionPlan
    impression_id: str
    subregion_key: str | None
    subregion_id: str | None
    measurement: LesionMeasurement
    hu_mean: float
    centroid_mm_ras: tuple[float, float, float]

    @property
    def organ(self) -> str:
        return self.plan.kind.organ


def centroid_mm(affine: np.ndarray, centroid_voxel: tuple[float, float, float]) -> tuple[float, float, float]:
    """Return the RAS+ world position in mm of a voxel position."""
    world = np.asarray(affine, dtype=np.float64) @ np.array([*centroid_voxel, 1.0])
    return (round(float(world[0]), 1), round(float(world[1]), 1), round(float(world[2]), 1))


def primary_lesions(lesions: list[DrawnLesion]) -> list[DrawnLesion]:
    """Return the lesions of the primary diagnosis, in label order."""
    return [lesion for lesion in lesions if lesion.plan.role == "primary"]


def staging_facts(plan: CasePlan, lesions: list[DrawnLesion], vocabulary: Vocabulary) -> dict[str, Any] | None:
    """Return the AJCC fact set of the primary tumour, or None when it is not staged (benign or no table)."""
    primary = plan.primary
    drawn = primary_lesions(lesions)
    if primary is None or not drawn or not primary.resected or not vocabulary.has_staging(primary):
        return None
    facts: dict[str, Any] = {
        "max_diameter_mm": max(lesion.measurement.max_axial_diameter_mm for lesion in drawn),
        "tumor_count": len(drawn),
        "nodes_positive": plan.nodes_positive,
        "invaded_structures": list(plan.invaded_structures),
        "distant_metastasis": bool(plan.metastasis_sites),
        "metastasis_sites": list(plan.metastasis_sites),
        "histology": vocabulary.histology(primary).id,
    }
    depth = depth_layer(plan, vocabulary)
    if depth is not None:
        facts["depth"] = depth
    if primary.organ == "liver":
        facts["vascular_invasion"] = plan.vascular_invasion
    return facts


def depth_layer(plan: CasePlan, vocabulary: Vocabulary) -> str | None:
    """Return the deepest wall layer a hollow-organ cancer reaches: a layer beyond the submucosa, since CT shows the thickening."""
    primary = plan.primary
    if primary is None or not primary.wall_thickening:
        return None
    layers = vocabulary.layer_ids(primary.organ)
    if not layers:
        return None
    start = layers.index("submucosa") + 1 if "submucosa" in layers else len(layers) // 2
    candidates = layers[start:] or layers[-1:]
    return candidates[min(int(plan.depth_index * len(candidates)), len(candidates) - 1)]


def lesion_record(lesion: DrawnLesion, vocabulary: Vocabulary, count_in_organ: int) -> dict[str, Any]:
    """Return the truth.json entry of one lesion."""
    kind = lesion.plan.kind
    m = lesion.measurement
    return {
        "label": lesion.label,
        "lesion_id": f"L{lesion.label}",
        "organ": kind.organ,
        "subregion": lesion.subregion_id,
        "subregion_key": lesion.subregion_key,
        "impression": lesion.impression_id,
        "catalogue_key": kind.key,
        "behaviour": vocabulary.impression_behaviour(kind),
        "role": lesion.plan.role,
        "max_axial_diameter_mm": m.max_axial_diameter_mm,
        "short_axis_mm": m.short_axis_mm,
        "volume_ml": m.volume_ml,
        "voxel_count": m.voxel_count,
        "hu_mean": round(lesion.hu_mean, 1),
        "centroid_mm_ras": list(lesion.centroid_mm_ras),
        "density": kind.density,
        "enhancement": kind.enhancement,
        "shape": lesion.plan.shape,
        "margin": lesion.plan.margin,
        "wall_thickening": kind.wall_thickening,
        "count_in_organ": count_in_organ,
    }


def build_truth(case_id: str, source: str, plan: CasePlan, lesions: list[DrawnLesion], vocabulary: Vocabulary, **extra: Any) -> dict[str, Any]:
    """Return the truth.json document of a case."""
    counts: dict[tuple[str, str], int] = {}
    for lesion in lesions:
        key = (lesion.organ, lesion.impression_id)
        counts[key] = counts.get(key, 0) + 1
    facts = staging_facts(plan, lesions, vocabulary)
    stage = None
    if facts is not None and plan.primary is not None:
        result = vocabulary.stage(plan.primary.organ, facts)
        stage = {"T": result.T, "N": result.N, "M": result.M, "table": result.table, "edition": result.edition}
    primary = plan.primary
    return {
        "format_version": TRUTH_FORMAT_VERSION,
        "case_id": case_id,
        "source": source,
        **extra,
        "normal": not lesions,
        "lesions": [lesion_record(lesion, vocabulary, counts[(lesion.organ, lesion.impression_id)]) for lesion in lesions],
        "primary": None if primary is None or not lesions else {
            "organ": primary.organ,
            "impression": lesions[0].impression_id,
            "behaviour": vocabulary.impression_behaviour(primary),
            "histology": vocabulary.histology(primary).id,
        },
        "nodes": {"positive": plan.nodes_positive, "examined": plan.nodes_examined} if facts is not None else None,
        "invaded_structures": list(plan.invaded_structures),
        "metastasis_sites": list(plan.metastasis_sites),
        "staging_facts": facts,
        "stage": stage,
    }
