"""Write one synthetic case folder: images, masks, reports and truth.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.cohort.labels import LABEL_MAP_NAME

INT16_MIN, INT16_MAX = -32768, 32767
"""HU are stored as int16; a real CT's own values outside -1024..3071 are kept, not clipped."""


def write_case(
    case_dir: Path,
    case_id: str,
    affine: np.ndarray,
    hu: np.ndarray,
    labels: np.ndarray,
    lesion_labels: np.ndarray,
    liver_segments: np.ndarray,
    report: str,
    pathology: str | None,
    truth: dict[str, Any],
) -> dict[str, Any]:
    """Write the case files and return its manifest row, with paths relative to the cohort folder."""
    from engine.imaging.volume import write_nifti

    case_dir.mkdir(parents=True, exist_ok=True)
    ct = np.clip(np.rint(hu), INT16_MIN, INT16_MAX).astype(np.int16)
    write_nifti(ct, affine, case_dir / "ct.nii.gz")
    write_nifti(labels.astype(np.uint8), affine, case_dir / "masks.nii.gz")
    write_nifti(lesion_labels.astype(np.uint8), affine, case_dir / "lesions.nii.gz")
    write_nifti(liver_segments.astype(np.uint8), affine, case_dir / "liver_segments.nii.gz")
    (case_dir / "report.txt").write_text(report, encoding="utf-8")
    if pathology is not None:
        (case_dir / "pathology.txt").write_text(pathology, encoding="utf-8")
    (case_dir / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    prefix = case_dir.name
    return {
        "case_id": case_id,
        "ct_path": f"{prefix}/ct.nii.gz",
        "masks_path": f"{prefix}/masks.nii.gz",
        "mask_format": "multilabel",
        "label_map": LABEL_MAP_NAME,
        "lesions_path": f"{prefix}/lesions.nii.gz",
        "liver_segments_path": f"{prefix}/liver_segments.nii.gz",
        "report_path": f"{prefix}/report.txt",
        "pathology_path": f"{prefix}/pathology.txt" if pathology is not None else None,
        "patient_id": case_id,
        "language": "en",
    }
