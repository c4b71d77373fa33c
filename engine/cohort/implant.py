"""The implant cohort: synthetic lesions blended into a real CT inside its real organ masks.

Every case starts from the same CT and masks. Each case draws its own lesion plan
from the organs that are present and large enough in the masks. An organ missing
from the scan, such as the esophagus in an upper-abdominal crop, is never chosen.
Lesions stay strictly inside the organ mask, and the masks are written unchanged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from engine.cohort.catalogue import sample_case_plan
from engine.cohort.composer import finish_case
from engine.cohort.drawing import draw_lesions
from engine.cohort.labels import KG_ORGANS, TOTALSEG_TOTAL
from engine.cohort.manifest import write_manifest
from engine.cohort.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

MIN_ORGAN_VOLUME_ML = 5.0
"""An organ mask smaller than this (a sliver at the scan edge) gets no lesion."""


def implant_cohort(
    ct: str | Path,
    masks: str | Path,
    out_dir: str | Path,
    n: int,
    seed: int = 0,
    mask_format: str = "auto",
    label_map: str = "totalseg_total",
    normal_fraction: float = 0.2,
    id_prefix: str = "implant",
) -> Path:
    """Write ``n`` cases of lesions implanted into ``ct`` under ``out_dir``; return the path of ``manifest.csv``.

    ``masks`` is a multilabel NIfTI or a folder of binary masks (see ``engine.imaging.load_label_volume``).
    Raises ``engine.imaging.ImagingError`` when the CT or masks cannot be read or do not share a grid.
    """
    from engine.imaging import load_ct, load_label_volume

    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    volume = load_ct(ct)
    label_volume = load_label_volume(masks, volume, mask_format, label_map)
    labels = _to_totalseg_numbering(label_volume.labels, label_volume.names, label_map)
    organs = present_organs(labels, volume.voxel_volume_ml)
    logger.info("implanting into %s: organs with room for lesions: %s", Path(ct).name, ", ".join(sorted(organs)) or "none")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocabulary = Vocabulary.load()
    kinds = vocabulary.usable_kinds(organs)
    rows = []
    for index in range(n):
        case_id = f"{id_prefix}-{seed}-{index:04d}"
        rng = np.random.default_rng([seed, index])
        hu = volume.hu.copy()
        case_labels = labels.copy()
        plan = sample_case_plan(rng, kinds, normal_fraction)
        plan, painted = draw_lesions(hu, case_labels, volume.spacing_mm_xyz, plan, rng)
        rows.append(finish_case(out / case_id, case_id, "implant", hu, case_labels, volume.affine, plan, painted, vocabulary, rng,
                                source_ct=str(Path(ct).name)))
        logger.info("implant case %s written", case_id)
    return write_manifest(rows, out)


def present_organs(labels: np.ndarray, voxel_volume_ml: float) -> set[str]:
    """Return the KG organs whose mask contains at least ``MIN_ORGAN_VOLUME_ML``."""
    counts = np.bincount(labels.ravel(), minlength=256)
    return {organ for organ in KG_ORGANS if counts[TOTALSEG_TOTAL[organ]] * voxel_volume_ml >= MIN_ORGAN_VOLUME_ML}


def _to_totalseg_numbering(labels: np.ndarray, names: dict[int, str], label_map: str) -> np.ndarray:
    """Return the masks in TotalSegmentator "total" numbering; other numberings keep only the structures in ``TOTALSEG_TOTAL``."""
    if label_map == "totalseg_total":
        return labels.astype(np.uint8)
    remapped = np.zeros(labels.shape, dtype=np.uint8)
    for value, name in names.items():
        if name in TOTALSEG_TOTAL:
            remapped[labels == value] = TOTALSEG_TOTAL[name]
    return remapped
