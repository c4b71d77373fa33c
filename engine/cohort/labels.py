"""Label numbers of the organ masks that the cohort tools read and write.

The numbering is TotalSegmentator's task "total" (v2); label 0 is background.
"""

from __future__ import annotations

TOTALSEG_TOTAL: dict[str, int] = {
    "spleen": 1,
    "kidney_right": 2,
    "kidney_left": 3,
    "gallbladder": 4,
    "liver": 5,
    "stomach": 6,
    "pancreas": 7,
    "esophagus": 15,
    "small_bowel": 18,
    "duodenum": 19,
    "colon": 20,
    "aorta": 52,
    "inferior_vena_cava": 63,
    "portal_vein_and_splenic_vein": 64,
}
"""Structure name -> label value of every structure the phantom draws."""

LABEL_MAP_NAME = "totalseg_total"
"""Name of this numbering in the case manifest's ``label_map`` column."""

KG_ORGANS: tuple[str, ...] = ("liver", "pancreas", "stomach", "colon", "esophagus")
"""Organs that have a knowledge graph, and so can carry a lesion."""
