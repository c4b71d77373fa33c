"""Internal consistency: one lesion placed differently in the findings and in the impression or conclusion."""

from __future__ import annotations

from data_contracts.common import Flag
from engine.extraction.lesions import Draft

SIZE_MATCH_MM = 1.0
"""Two stated sizes this close (after conversion to mm) name the same lesion."""


def location_flags(drafts: list[Draft], case_id: str, file: str | None = None) -> list[Flag]:
    """Flag lesions of the findings that the impression or conclusion places in another organ or subregion.

    Two drafts name one lesion when they state the same size, or the same
    impression when each section has only one lesion with that impression.
    """
    body = [d for d in drafts if d.section == "findings" and not d.negated]
    summary = [d for d in drafts if d.section in ("impression", "conclusion") and not d.negated]
    flags = []
    for late in summary:
        early = _same_lesion(late, body, summary)
        if early is None:
            continue
        problem = _difference(early, late)
        if problem:
            flags.append(Flag(code="inconsistent_location", file=file, field="lesions",
                              message=f"case {case_id}: {problem} (findings at character {early.start}, {late.section} at character {late.start})"))
    return flags


def _same_lesion(late: Draft, body: list[Draft], summary: list[Draft]) -> Draft | None:
    if late.size is not None:
        for early in body:
            if early.size is not None and abs(early.size.max_mm - late.size.max_mm) <= SIZE_MATCH_MM:
                return early
    if late.impression:
        early = [d for d in body if d.impression == late.impression]
        peers = [d for d in summary if d.impression == late.impression]
        if len(early) == 1 and len(peers) == 1:
            return early[0]
    return None


def _difference(early: Draft, late: Draft) -> str | None:
    if early.organ != late.organ:
        return f"the findings place the lesion in the {early.organ}, the {late.section} in the {late.organ}"
    if early.subregions and late.subregions and not set(early.subregions) & set(late.subregions):
        return (f"the findings place the {early.organ} lesion in {', '.join(early.subregions)}, "
                f"the {late.section} in {', '.join(late.subregions)}")
    return None
