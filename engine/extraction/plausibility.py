"""Plausible lesion sizes per organ: a stated size outside them is flagged as a suspected unit error.

A report that writes "a 30 cm pancreatic mass" for 30 mm keeps the stated value on the
lesion (with its evidence span) and gets an ``implausible_size`` flag. The value is left
out of the staging facts, so it never decides a T category.
"""

from __future__ import annotations

from data_contracts.common import Flag

# NOTE: these limits are estimates for clinician review, not published thresholds. Each is
# a little above the largest primary tumours described for the organ. Giant hepatic
# haemangiomas and HCCs reach 20-25 cm and gastric GISTs about 25 cm. Pancreatic tumours
# reach about 15 cm, the length of the whole gland. Colorectal tumours reach about 20 cm,
# and oesophageal tumours about 15 cm of the 25 cm oesophagus.
MAX_LESION_MM: dict[str, float] = {"liver": 250.0, "pancreas": 150.0, "stomach": 250.0, "colon": 200.0, "esophagus": 150.0}
"""Largest plausible single-lesion diameter per organ, in mm."""
DEFAULT_MAX_LESION_MM = 300.0
"""Limit for an organ missing from ``MAX_LESION_MM``."""
MIN_LESION_MM = 1.0
"""Smallest plausible stated lesion diameter, in mm; below it "mm" was likely written for "cm"."""


def is_plausible_size(organ: str | None, size_mm: float | None) -> bool:
    """Return False for a size outside the organ's plausible range; True for a plausible or missing size."""
    if size_mm is None:
        return True
    limit = MAX_LESION_MM.get(organ or "", DEFAULT_MAX_LESION_MM)
    return MIN_LESION_MM <= size_mm <= limit


def implausible_size_flag(case_id: str, finding: str, organ: str | None, size_mm: float, stated: str | None, field: str, start: int | None = None) -> Flag:
    """Return the ``implausible_size`` flag for one stated size.

    ``finding`` names what the size belongs to ("lesion rep-L1", "the pathology tumour
    size"), and ``stated`` is the report text of the size, when known.
    """
    limit = MAX_LESION_MM.get(organ or "", DEFAULT_MAX_LESION_MM)
    quoted = f" ('{stated}'{f' at character {start}' if start is not None else ''})" if stated else ""
    return Flag(
        code="implausible_size", field=field,
        message=(f"case {case_id}: {finding} in the {organ or 'unknown organ'} is stated as {size_mm:g} mm{quoted}, outside the plausible "
                 f"{MIN_LESION_MM:g}-{limit:g} mm; check the unit (cm written for mm?). The size is kept but not used for staging."),
    )


def unit_slip(organ: str | None, first_mm: float, second_mm: float) -> bool:
    """Return True when two sizes differ by a factor of 10 and the larger is impossible: one lesion, with cm written for mm."""
    small, large = sorted((first_mm, second_mm))
    return small > 0 and not is_plausible_size(organ, large) and abs(large / 10 - small) <= 0.05 * small
