"""Lesion attribute questions: density, shape, boundary, size, enhancement and subregion per lesion, and count per organ.

A question is asked only when the accepted chain states the attribute: a
``has_<attribute>`` step for the KG finding attributes, a ``located_in`` step for
the subregion, and for size the chain's evidence or the report lesion the chain
is about. Only lesions that the chain describes are asked about
(``ChainView.described``), and only when a name distinguishes the lesion from
the other lesions of its organ (``engine.qa.primary.lesion_names``).

The count question is about the organ: the number of its described lesions,
split by impression when the organ has lesions of several kinds. An organ with
a rejected lesion chain gets no count question, because one of its lesions is missing.
"""

from __future__ import annotations

import random

from data_contracts import ImagingFeatures, ReasoningStep, ReportFeatures

from engine.qa.candidate import Candidate, describe_steps, step_evidence
from engine.qa.iir import iir_rounds
from engine.qa.primary import LesionNames, lesion_names
from engine.qa.templates import pick_question
from engine.qa.view import ChainView, TermRef
from engine.qa.wording import attribute_clause, capitalize, format_mm, join_words, organ_adjective

TERM_ATTRIBUTES = ("density", "shape", "boundary", "enhancement")
ATTRIBUTE_ALIASES = {"boundary": ("boundary", "margin")}
"""KG attribute names that a subtask reads; the organ KGs call the boundary attribute ``margin``."""
LESION_SUBTASKS = ("density", "shape", "boundary", "size", "enhancement", "subregion")
HU_AGREEMENT = {"hypodense": lambda lesion, organ: lesion < organ - 10, "hyperdense": lambda lesion, organ: lesion > organ + 10,
                "isodense": lambda lesion, organ: abs(lesion - organ) <= 10, "cystic": lambda lesion, organ: -10 <= lesion <= 25}
"""Density terms whose mean-HU relation to the organ mask can be checked; the think block cites the HU values only when they agree."""
SIZE_SOURCES = {"report": "the report", "imaging": "the lesion mask", "pathology": "the pathology report"}


def attribute_candidates(views: list[ChainView], imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random,
                         incomplete_organs: frozenset[str] = frozenset()) -> list[Candidate]:
    """Return every attribute question the accepted chains support: lesion attributes, then one count question per organ.

    ``incomplete_organs`` are organs with a rejected lesion chain; their lesions
    cannot all be counted, so they get no count question.
    """
    names = lesion_names(views)
    candidates: list[Candidate] = []
    for view in views:
        if not view.described:
            continue
        for subtask in LESION_SUBTASKS:
            built = _build(subtask, view, names[view.chain.chain_id], imaging)
            if built is None:
                continue
            steps, think, answer, fields, lesion = built
            candidates.append(_candidate(subtask, view, steps, think, answer, fields,
                                         pick_question(subtask, rng, organ=view.organ_name, lesion=lesion), imaging, report))
    candidates += count_candidates([v for v in views if v.organ not in incomplete_organs], names, imaging, report, rng)
    return candidates


def _candidate(subtask, view: ChainView, steps, think, answer, fields, question, imaging, report, chain_ids=None, key=None) -> Candidate:
    return Candidate(
        task_type="attribute", subtask=subtask, organ=view.organ, question_key=key or f"{subtask}:{view.chain.chain_id}",
        question=question, think=think, answer=answer, answer_fields={"organ": view.organ, "attribute": subtask, **fields},
        steps=steps, chain_ids=chain_ids or (view.chain.chain_id,), evidence=step_evidence(steps),
        iir_rounds=iir_rounds(view, view.organ, view.organ_name, answer, report, imaging),
    )


def _build(subtask: str, view: ChainView, names: LesionNames, imaging: ImagingFeatures | None):
    """Return ``(steps, think, answer, fields, lesion phrase for the question)``, or None when the question cannot be asked."""
    if subtask == "subregion":
        return _subregion_answer(view, names)
    if names.reference is None:
        return None
    if subtask == "size":
        return _size_answer(view, names.reference)
    refs = tuple(ref for name in ATTRIBUTE_ALIASES.get(subtask, (subtask,)) for ref in view.attributes.get(name, ()))
    return _term_answer(subtask, refs, view, names.reference, imaging)


def _located_steps(view: ChainView) -> tuple[ReasoningStep, ...]:
    return tuple(s for s in view.chain.steps if s.triplet.predicate == "located_in")


def _term_answer(subtask: str, refs: tuple[TermRef, ...], view: ChainView, reference: str, imaging: ImagingFeatures | None):
    if not refs:
        return None
    steps = view.steps(*(r.step_id for r in refs))
    names = [r.name for r in refs]
    clause = join_words(attribute_clause(subtask, name) for name in names)
    lines = [describe_steps(steps, view)]
    if subtask == "density":
        lines += _density_measurement(view, refs, imaging)
    lines.append(f"So {reference} {clause}.")
    answer = f"{capitalize(reference)} {clause}."
    return steps, "\n".join(lines), answer, {"values": [r.id for r in refs], "names": names}, reference


def _density_measurement(view: ChainView, refs: tuple[TermRef, ...], imaging: ImagingFeatures | None) -> list[str]:
    """Return the mean-HU comparison of lesion and organ masks when it agrees with the stated density, else nothing."""
    organ = imaging.organ(view.organ) if imaging is not None else None
    lesion = view.imaging_lesion
    if lesion is None or lesion.hu_mean is None or organ is None or organ.hu_mean is None:
        return []
    checks = [HU_AGREEMENT[r.id] for r in refs if r.id in HU_AGREEMENT]
    if not checks or not all(check(lesion.hu_mean, organ.hu_mean) for check in checks):
        return []
    return [f"The lesion mask averages {lesion.hu_mean:.0f} HU against {organ.hu_mean:.0f} HU for the whole {view.organ_name} mask."]


def _subregion_answer(view: ChainView, names: LesionNames):
    if not view.subregions or names.unlocated is None or names.location is None:
        return None
    steps = view.steps(*(r.step_id for r in view.subregions))
    lines = [describe_steps(steps, view)]
    lesion = view.imaging_lesion
    if lesion is not None and lesion.subregion is not None and lesion.subregion in {r.id for r in view.subregions}:
        lines.append(f"The lesion mask overlaps the {view.organ_name} mask by {lesion.organ_overlap:.0%} and lies mostly in "
                     f"{next(r.name for r in view.subregions if r.id == lesion.subregion)} of the subregion masks.")
    lines.append(f"So {names.unlocated} lies in {names.location}.")
    answer = f"{capitalize(names.unlocated)} lies in {names.location}."
    fields = {"values": [r.id for r in view.subregions], "names": [r.name for r in view.subregions]}
    return steps, "\n".join(lines), answer, fields, names.unlocated


def _size_answer(view: ChainView, reference: str):
    if view.size_mm is None:
        return None
    located = _located_steps(view)
    source = SIZE_SOURCES.get(view.size_source or "", "the chain evidence")
    size = format_mm(view.size_mm)
    lines = [describe_steps(located, view)] if located else []
    lines.append(f"The maximum diameter stated by {source} is {size} mm.")
    if view.imaging_lesion is not None and view.size_source != "imaging":
        mask = view.imaging_lesion
        lines.append(f"The lesion mask measures {format_mm(mask.max_axial_diameter_mm)} mm in the axial plane ({format_mm(mask.volume_ml)} mL).")
    answer = f"{capitalize(reference)} measures {size} mm in maximum diameter."
    return located, "\n".join(lines), answer, {"max_diameter_mm": round(view.size_mm, 1), "source": view.size_source}, reference


def count_candidates(views: list[ChainView], names: dict[str, LesionNames], imaging, report, rng: random.Random) -> list[Candidate]:
    """Return one count question per organ with described lesions."""
    by_organ: dict[str, list[ChainView]] = {}
    for view in views:
        if view.described:
            by_organ.setdefault(view.organ, []).append(view)
    candidates = []
    for organ, organ_views in by_organ.items():
        first = organ_views[0]
        groups = _impression_groups(organ_views)
        counts = {key: _group_count(group) for key, group in groups.items()}
        total = None if None in counts.values() else sum(counts.values())
        steps = tuple(step for v in organ_views for step in _located_steps(v))
        answer = _count_sentence(first, groups, counts, total)
        lines = [_count_line(n, v, names, len(groups[_group_key(v)]) == 1) for n, v in enumerate(organ_views, start=1)]
        think = "\n".join([*lines, f"So {answer[:1].lower()}{answer[1:]}"])
        fields = {"count": total, "multiple": total is None or total > 1,
                  "by_impression": {key: count for key, count in counts.items()} if len(groups) > 1 else {}}
        question = pick_question("count", rng, organ=first.organ_name, adjective=organ_adjective(organ, first.organ_name))
        candidates.append(_candidate("count", first, steps, think, answer, fields, question, imaging, report,
                                     chain_ids=tuple(v.chain.chain_id for v in organ_views), key=f"count:{organ}"))
    return candidates


def _impression_groups(views: list[ChainView]) -> dict[str, list[ChainView]]:
    groups: dict[str, list[ChainView]] = {}
    for view in views:
        groups.setdefault(_group_key(view), []).append(view)
    return groups


def _group_key(view: ChainView) -> str:
    return view.impression.id if view.impression else "unspecified"


def _group_count(group: list[ChainView]) -> int | None:
    """Return the lesions of one impression: one per chain, or the report's number when one chain describes several; None for 'multiple'."""
    if len(group) > 1:
        return len(group)
    view = group[0]
    if view.count is not None:
        return view.count
    multiple = view.multiple or any(r.id == "multiple" for r in view.attributes.get("count", ()))
    return None if multiple else 1


def _count_line(number: int, view: ChainView, names: dict[str, LesionNames], alone: bool) -> str:
    """Return the think line of one lesion; ``alone`` is True when it is the only lesion of its impression, so a stated number counts."""
    name = names[view.chain.chain_id].reference or f"a {view.organ_name} lesion"
    size = f", {format_mm(view.size_mm)} mm" if view.size_mm is not None else ""
    what = f", in keeping with {view.impression.name}" if view.impression else ""
    several = f"; the report counts {view.count} such lesions" if alone and (view.count or 1) > 1 else ""
    return f"Lesion {number}: {name}{size}{what}{several}."


def _count_sentence(first: ChainView, groups: dict[str, list[ChainView]], counts: dict[str, int | None], total: int | None) -> str:
    organ = first.organ_name
    if total is None:
        return f"There are multiple lesions in the {organ}; the report gives no number."
    if total == 1:
        return f"There is a single lesion in the {organ}."
    sentence = f"There are {total} lesions in the {organ}"
    if len(groups) > 1:
        parts = [f"{counts[key]} in keeping with {group[0].impression.name if group[0].impression else 'an unspecified lesion'}"
                 for key, group in groups.items()]
        sentence += f": {join_words(parts)}"
    return sentence + "."
