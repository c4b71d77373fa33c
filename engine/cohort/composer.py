"""Finish a case whose lesions are drawn: measure, partition, write reports, truth and files.

The phantom and the implant tool build their images differently and meet here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.cohort.case_files import INT16_MAX, INT16_MIN, write_case
from engine.cohort.catalogue import CasePlan
from engine.cohort.drawing import PaintedLesion, describe_lesions, lesion_label_volume
from engine.cohort.pathology_text import write_pathology_report
from engine.cohort.reports import write_radiology_report
from engine.cohort.subregions import partition_all
from engine.cohort.truth import build_truth
from engine.cohort.vocabulary import Vocabulary


def finish_case(
    case_dir: Path,
    case_id: str,
    source: str,
    hu: np.ndarray,
    labels: np.ndarray,
    affine: np.ndarray,
    plan: CasePlan,
    painted: list[PaintedLesion],
    vocabulary: Vocabulary,
    rng: np.random.Generator,
    **truth_extra: Any,
) -> dict[str, Any]:
    """Write the case folder from the final CT and labels; return its manifest row."""
    spacing = tuple(float(v) for v in np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0)))
    hu = np.clip(np.rint(hu), INT16_MIN, INT16_MAX).astype(np.float32)
    partitions = partition_all(labels)
    lesions = describe_lesions(painted, hu, partitions, affine, spacing, vocabulary)  # type: ignore[arg-type]
    truth = build_truth(
        case_id, source, plan, lesions, vocabulary,
        shape_xyz=list(hu.shape), spacing_mm_xyz=[round(s, 4) for s in spacing], **truth_extra,
    )
    report = write_radiology_report(plan, lesions, vocabulary, rng)
    pathology = write_pathology_report(plan, lesions, truth, vocabulary, rng)
    truth["has_pathology"] = pathology is not None
    return write_case(
        case_dir, case_id, affine, hu, labels, lesion_label_volume(painted, hu.shape),
        partitions["liver"], report, pathology, truth,
    )
