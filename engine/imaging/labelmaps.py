"""Label numberings of multilabel masks: label value -> structure name."""

from __future__ import annotations

import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

# TotalSegmentator v2 "total" task, abdominal structures only. Used when the
# totalsegmentator package is not importable; with it, its own full table of
# 117 classes (totalsegmentator.map_to_binary.class_map["total"]) is read.
TOTALSEG_TOTAL_FALLBACK: dict[int, str] = {
    1: "spleen",
    2: "kidney_right",
    3: "kidney_left",
    4: "gallbladder",
    5: "liver",
    6: "stomach",
    7: "pancreas",
    8: "adrenal_gland_right",
    9: "adrenal_gland_left",
    15: "esophagus",
    18: "small_bowel",
    19: "duodenum",
    20: "colon",
    21: "urinary_bladder",
    52: "aorta",
    63: "inferior_vena_cava",
    64: "portal_vein_and_splenic_vein",
}

TOTALSEG_LIVER_SEGMENTS_FALLBACK: dict[int, str] = {n: f"liver_segment_{n}" for n in range(1, 9)}

_TOTALSEG_TASKS = {"totalseg_total": ("total", TOTALSEG_TOTAL_FALLBACK), "totalseg_liver_segments": ("liver_segments", TOTALSEG_LIVER_SEGMENTS_FALLBACK)}
LABEL_MAP_NAMES = (*_TOTALSEG_TASKS, "lesions")


def resolve_label_map(label_map: str | dict[int, str], values: list[int] | None = None) -> dict[int, str]:
    """Return the label -> name table for ``label_map``.

    ``label_map`` is a name from ``LABEL_MAP_NAMES``, a path to a JSON object
    ``{"5": "liver", ...}``, or a dict. ``lesions`` names each value in ``values``
    ``lesion_<value>``.
    """
    if isinstance(label_map, dict):
        return {int(k): str(v) for k, v in label_map.items()}
    if label_map in _TOTALSEG_TASKS:
        task, fallback = _TOTALSEG_TASKS[label_map]
        return _totalseg_class_map(task, fallback)
    if label_map == "lesions":
        return {int(v): f"lesion_{int(v)}" for v in (values or []) if int(v) > 0}
    path = Path(label_map)
    if path.suffix.lower() == ".json" and path.is_file():
        return {int(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    raise ValueError(f"unknown label map {label_map!r}: use one of {', '.join(LABEL_MAP_NAMES)} or a path to a JSON file mapping label values to names")


def _totalseg_class_map(task: str, fallback: dict[int, str]) -> dict[int, str]:
    try:
        from totalsegmentator.map_to_binary import class_map
    except ImportError:
        logger.debug("totalsegmentator not importable; using the built-in %s label table", task)
        return dict(fallback)
    return {int(k): str(v) for k, v in class_map[task].items()}
