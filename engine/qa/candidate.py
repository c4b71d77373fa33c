"""A question with its answer, before the composer selects it and turns it into a ``VQASample``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from data_contracts import EvidenceRef, IIRRound, ReasoningStep
from engine.qa.view import ChainView
from engine.qa.wording import attribute_clause, location_phrase

PHRASED_ATTRIBUTES = {"density": "density", "shape": "shape", "margin": "boundary", "boundary": "boundary", "enhancement": "enhancement"}
"""KG finding attributes whose steps the think blocks state in this package's wording, mapped to the attribute subtask."""
COUNT_SENTENCES = {"single": "The lesion is solitary.", "multiple": "The report describes more than one such lesion."}


@dataclass(frozen=True)
class Candidate:
    """One possible sample of a case; ``question_key`` names what is asked, for the sample id."""

    task_type: str
    subtask: str
    organ: str
    question_key: str
    question: str
    think: str
    answer: str
    answer_fields: dict[str, Any]
    steps: tuple[ReasoningStep, ...] = ()
    chain_ids: tuple[str, ...] = ()
    evidence: tuple[EvidenceRef, ...] = ()
    iir_rounds: tuple[IIRRound, ...] = field(default=())

    @property
    def answer_json(self) -> str:
        """The structured answer as a JSON object string with sorted keys."""
        return json.dumps(self.answer_fields, sort_keys=True, ensure_ascii=False)


def step_evidence(steps: tuple[ReasoningStep, ...]) -> tuple[EvidenceRef, ...]:
    """Return the evidence of ``steps`` in order, without repeats."""
    seen: dict[tuple, EvidenceRef] = {}
    for step in steps:
        for ref in step.evidence:
            seen.setdefault((ref.kind, ref.ref_id, ref.field, ref.value), ref)
    return tuple(seen.values())


def describe_steps(steps: tuple[ReasoningStep, ...], view: ChainView | None = None) -> str:
    """Return the steps as lines the think block walks: ``F2: The lesion is hypodense. [KG: liver_lesion has_density hypodense]``.

    With the chain's ``view``, a subregion or lesion attribute step is stated in
    this package's wording; other steps keep the sentence their agent wrote.
    """
    return "\n".join(f"{step.step_id}: {step_sentence(step, view)} [KG: {triplet_text(step)}]" for step in steps)


def step_sentence(step: ReasoningStep, view: ChainView | None) -> str:
    """Return the sentence of one step: 'The lesion lies in segment 5 of the liver.' for a subregion step, else the step's own sentence."""
    if view is None:
        return step.sentence
    subregion = next((ref for ref in view.subregions if ref.step_id == step.step_id), None)
    if subregion is not None:
        return f"The lesion lies in {location_phrase(view.organ, view.organ_name, subregion.name)}."
    for attribute, refs in view.attributes.items():
        ref = next((r for r in refs if r.step_id == step.step_id), None)
        if ref is not None and attribute in PHRASED_ATTRIBUTES:
            return f"The lesion {attribute_clause(PHRASED_ATTRIBUTES[attribute], ref.name)}."
        if ref is not None and attribute == "count":
            return COUNT_SENTENCES.get(ref.id, step.sentence)
    return step.sentence


def triplet_text(step: ReasoningStep) -> str:
    """Return the step's KG edge as 'subject predicate object' with the node kinds dropped."""
    triplet = step.triplet
    return " ".join((_local(triplet.subject), triplet.predicate, _local(triplet.object)))


def _local(node: str) -> str:
    return node.split(":", 1)[1] if ":" in node else node
