"""Lesion attribute questions: density, shape, count, boundary, size, enhancement and subregion.

A question is asked only when the accepted chain states the attribute: a
``has_<attribute>`` step for the KG finding attributes, a ``located_in`` step for
the subregion, and for size and count the chain's evidence or the report lesion
the chain is about.
"""

from __future__ import annotations

import random

from data_contracts import ImagingFeatures, ReasoningStep, ReportFeatures

from engine.qa.candidate import Candidate, describe_steps, format_mm, step_evidence
from engine.qa.iir import iir_rounds
from engine.qa.templates import pick_question
from engine.qa.view import ChainView, TermRef

TERM_ATTRIBUTES = ("density", "shape", "boundary", "enhancement")
ATTRIBUTE_ALIASES = {"boundary": ("boundary", "margin")}
"""KG attribute names that a subtask reads; the organ KGs call the boundary attribute ``margin``."""
ATTRIBUTE_SUBTASKS = ("density", "shape", "count", "boundary", "size", "enhancement", "subregion")


def lesion_phrase(view: ChainView) -> str:
    """Return a phrase naming the chain's lesion, for example 'the head lesion of the pancreas'."""
    if view.subregions:
        sub = view.subregions[0].name
        # "pancreatic head" already names the organ, so the phrase is "the pancreatic head lesion", not "... of the pancreas".
        if view.organ_name[:5].casefold() in sub.casefold():
            return f"the {sub} lesion"
        return f"the {sub} lesion of the {view.organ_name}"
    return f"the {view.organ_name} lesion"


def _located_steps(view: ChainView) -> tuple[ReasoningStep, ...]:
    return tuple(s for s in view.chain.steps if s.triplet.predicate == "located_in")


def attribute_candidates(views: list[ChainView], imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random) -> list[Candidate]:
    """Return every attribute question the accepted chains support."""
    candidates: list[Candidate] = []
    for view in views:
        if view.normal:
            continue
        for subtask in ATTRIBUTE_SUBTASKS:
            built = _build(subtask, view)
            if built is None:
                continue
            steps, think, answer, fields = built
            candidates.append(Candidate(
                task_type="attribute", subtask=subtask, organ=view.organ, question_key=f"{subtask}:{view.chain.chain_id}",
                question=pick_question(subtask, rng, organ=view.organ_name, lesion=lesion_phrase(view)),
                think=think, answer=answer, answer_fields={"organ": view.organ, "attribute": subtask, **fields},
                steps=steps, chain_ids=(view.chain.chain_id,), evidence=step_evidence(steps),
                iir_rounds=iir_rounds(view, view.organ, view.organ_name, answer, report, imaging),
            ))
    return candidates


def _build(subtask: str, view: ChainView):
    if subtask in TERM_ATTRIBUTES:
        refs = tuple(ref for name in ATTRIBUTE_ALIASES.get(subtask, (subtask,)) for ref in view.attributes.get(name, ()))
        return _term_answer(subtask, refs, view)
    if subtask == "subregion":
        return _term_answer("subregion", view.subregions, view)
    if subtask == "size":
        return _size_answer(view)
    return _count_answer(view)


def _term_answer(subtask: str, refs: tuple[TermRef, ...], view: ChainView):
    if not refs:
        return None
    steps = view.steps(*(r.step_id for r in refs))
    names = [r.name for r in refs]
    label = subtask if subtask != "subregion" else "location"
    think = f"{describe_steps(steps)}\nThese steps give the {label} of {lesion_phrase(view) if subtask != 'subregion' else 'the lesion'}: {', '.join(names)}."
    if subtask == "subregion":
        where = " and ".join(names)
        answer = f"The lesion is located in the {where}." if view.organ_name[:5].casefold() in where.casefold() else f"The lesion is located in the {where} of the {view.organ_name}."
    else:
        verb = "shows" if subtask == "enhancement" else "is"
        answer = f"{_capital(lesion_phrase(view))} {verb} {' and '.join(names)}."
    return steps, think, answer, {"values": [r.id for r in refs], "names": names}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _size_answer(view: ChainView):
    if view.size_mm is None:
        return None
    located = _located_steps(view)
    source = {"report": "the report", "imaging": "the lesion mask", "pathology": "the pathology report"}.get(view.size_source or "", "the chain evidence")
    size = format_mm(view.size_mm)
    think = (f"{describe_steps(located)}\n" if located else "") + f"The largest diameter stated by {source} is {size} mm."
    if view.imaging_lesion is not None:
        think += f" The lesion mask measures {view.imaging_lesion.max_axial_diameter_mm:.0f} mm in the axial plane."
    answer = f"{_capital(lesion_phrase(view))} measures {size} mm in maximum diameter."
    return located, think, answer, {"max_diameter_mm": view.size_mm, "source": view.size_source}


def _count_answer(view: ChainView):
    refs = view.attributes.get("count", ())
    if refs:
        steps = view.steps(*(r.step_id for r in refs))
        multiple = any(r.id == "multiple" for r in refs) or view.multiple or (view.count or 1) > 1
        if not multiple:
            answer = f"There is a single lesion in the {view.organ_name}."
        elif view.count is not None:
            answer = f"There are {view.count} lesions in the {view.organ_name}."
        else:
            answer = f"There are multiple lesions in the {view.organ_name}."
        think = f"{describe_steps(steps)}\nThe chain states the lesion count as {', '.join(r.name for r in refs)}."
        fields = {"values": [r.id for r in refs], "names": [r.name for r in refs], "count": view.count if multiple else 1, "multiple": multiple}
        return steps, think, answer, fields
    if view.report_lesion is None or (view.count is None and not view.multiple):
        return None
    located = _located_steps(view)
    if view.count == 1 and not view.multiple:
        answer, kind = f"There is a single lesion in the {view.organ_name}.", "single"
    elif view.count is not None:
        answer, kind = f"There are {view.count} lesions in the {view.organ_name}.", "multiple"
    else:
        answer, kind = f"There are multiple lesions in the {view.organ_name}; the report gives no number.", "multiple"
    think = (f"{describe_steps(located)}\n" if located else "") + f"The report describes {kind} lesion{'s' if kind == 'multiple' else ''} ({view.report_lesion.finding_id})."
    return located, think, answer, {"count": view.count, "multiple": kind == "multiple"}
