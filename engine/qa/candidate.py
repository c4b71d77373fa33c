"""A question with its answer, before the composer selects it and turns it into a ``VQASample``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from data_contracts import EvidenceRef, IIRRound, ReasoningStep


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


def describe_steps(steps: tuple[ReasoningStep, ...]) -> str:
    """Return the steps as ``F1: sentence`` lines, the chain the think block walks."""
    return "\n".join(f"{step.step_id}: {step.sentence}" for step in steps)


def format_mm(value: float) -> str:
    """Return a size in mm without a trailing ``.0``."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
