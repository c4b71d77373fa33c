"""Internal consistency: one lesion placed differently in the findings and in the impression or conclusion.

A lesion of the impression or conclusion is the same lesion as one of the findings in
three cases: both state the same size, each section has the only lesion with that
impression, or each section has the only lesion of that organ. If the two places disagree (another
organ, another subregion, the other side), the findings place is kept, because the
findings describe the images and the impression summarises them. The impression mention
then takes the findings place, so the two merge into one lesion, and an
``inconsistent_location`` flag quotes both spans.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data_contracts.common import Flag
from engine.extraction.lesions import Draft, subregions_overlap
from engine.extraction.mentions import OTHER_PLACE, Sentence
from engine.extraction.plausibility import unit_slip

SIZE_MATCH_MM = 1.0
"""Two stated sizes this close (after conversion to mm) name the same lesion."""
SUMMARY_SECTIONS = frozenset({"impression", "conclusion"})


def reconcile_locations(
    text: str, drafts: list[Draft], sentences: list[Sentence], kgs: Mapping[str, Any], case_id: str, file: str | None = None
) -> list[Flag]:
    """Give each impression or conclusion lesion the place of its findings lesion; return a flag per disagreement.

    ``drafts`` (one per mention, before merging) are changed in place.
    """
    body = [d for d in drafts if d.section == "findings" and not d.negated and not d.historical]
    summary = [d for d in drafts if d.section in SUMMARY_SECTIONS and not d.negated and not d.historical]
    flags = []
    for late in summary:
        early = _same_lesion(late, body, summary)
        if early is None:
            continue
        problem = _difference(early, late, kgs)
        if problem:
            flags.append(_flag(text, case_id, file, problem, early, late))
            _take_place(early, late, kgs)
    flags += _orphan_sizes(text, sentences, body, summary, case_id, file)
    return flags


def _same_lesion(late: Draft, body: list[Draft], summary: list[Draft]) -> Draft | None:
    if late.size is not None:
        sized = [d for d in body if d.size is not None and _same_size(d, late)]
        if sized:
            return sized[0]
        if any(d.size is not None and d.organ == late.organ for d in body):
            return None
    if late.impression:
        early = [d for d in body if d.impression == late.impression]
        peers = [d for d in summary if d.impression == late.impression]
        if len(early) == 1 and len(peers) == 1:
            return early[0]
    early = [d for d in body if d.organ == late.organ]
    peers = [d for d in summary if d.organ == late.organ]
    if len(early) == 1 and len(peers) == 1 and not (early[0].impression and late.impression and early[0].impression != late.impression):
        return early[0]
    return None


def _same_size(early: Draft, late: Draft) -> bool:
    """Return True for sizes within ``SIZE_MATCH_MM`` or apart by a cm/mm slip ("3.2 cm" in the findings, "32 cm" in the impression)."""
    first, second = early.size.max_mm, late.size.max_mm
    return abs(first - second) <= SIZE_MATCH_MM or unit_slip(early.organ, first, second)


def _difference(early: Draft, late: Draft, kgs: Mapping[str, Any]) -> str | None:
    if early.organ != late.organ:
        return f"the findings place the lesion in the {early.organ}, the {late.section} in the {late.organ}"
    if early.subregions and late.subregions and not subregions_overlap(early.subregions, late.subregions, kgs.get(early.organ)):
        return (f"the findings place the {early.organ} lesion in {', '.join(early.subregions)}, "
                f"the {late.section} in {', '.join(late.subregions)}")
    return None


def _take_place(early: Draft, late: Draft, kgs: Mapping[str, Any]) -> None:
    """Move the impression mention to the findings place so the two merge into one lesion."""
    if late.organ != early.organ and late.impression and kgs[early.organ].resolve(late.impression, "impression") is None:
        late.impression = None
    late.organ = early.organ
    late.subregions = list(early.subregions)
    late.evidence = [item for item in late.evidence if item.field not in ("subregions", "organ")]


def _orphan_sizes(text: str, sentences: list[Sentence], body: list[Draft], summary: list[Draft], case_id: str, file: str | None) -> list[Flag]:
    """Flag a findings lesion whose size the impression repeats in a place outside every organ KG ("4.5 cm right renal mass")."""
    owned = {d.size.start for d in summary if d.size is not None}
    flags = []
    for sentence in sentences:
        if sentence.section not in SUMMARY_SECTIONS:
            continue
        for size in sentence.sizes:
            early = next((d for d in body if d.size is not None and size.start not in owned and abs(d.size.max_mm - size.max_mm) <= SIZE_MATCH_MM), None)
            if early is None:
                continue
            places = [p for p in sentence.other_places({early.organ}) if p[2] == OTHER_PLACE]
            named = {p[2] for p in sentence.organs({early.organ})}
            if places and early.organ not in named:
                start, end, _ = min(places, key=lambda p: abs(p[0] - size.start))
                problem = f"the findings place the {size.text} lesion in the {early.organ}, the {sentence.section} outside it ('{text[start:end]}')"
                flags.append(_flag(text, case_id, file, problem, early, None, (start, end)))
    return flags


def _flag(text: str, case_id: str, file: str | None, problem: str, early: Draft, late: Draft | None, late_span: tuple[int, int] | None = None) -> Flag:
    first = _place_span(early)
    second = _place_span(late) if late is not None else late_span
    where = f"findings {_quote(text, first)}, {late.section if late else 'impression'} {_quote(text, second)}"
    return Flag(code="inconsistent_location", file=file, field="lesions", message=f"case {case_id}: {problem} ({where}); the findings place is kept")


def _place_span(draft: Draft) -> tuple[int, int]:
    for name in ("subregions", "organ", "lesion"):
        item = next((e for e in draft.evidence if e.field == name), None)
        if item is not None:
            return item.span.start, item.span.end
    return draft.start, draft.start


def _quote(text: str, span: tuple[int, int]) -> str:
    start, end = span
    return f"'{text[start:end]}' at {start}-{end}" if text and end > start else f"at character {start}"
