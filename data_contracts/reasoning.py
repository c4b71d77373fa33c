"""Reasoning steps and chains: the CoT reasoner's and summarizer's output."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from data_contracts.base import Record
from data_contracts.common import EvidenceSpan
from data_contracts.staging import StageResult

Level = Literal["finding", "impression", "pathology"]
RepairStrategy = Literal["expand_region", "suspected_causes", "pathology_feedback", "reextract"]


class Triplet(Record):
    """A subject-predicate-object statement; in an accepted chain it is an edge of the organ KG."""

    subject: str
    predicate: str
    object: str


class EvidenceRef(Record):
    """What a step rests on: a report or pathology span, an imaging measurement, or a KG edge."""

    kind: Literal["report", "pathology", "imaging", "kg"]
    ref_id: str = Field(description="Feature id (rep-L1, img-L1, node id) or KG edge id.")
    field: str | None = Field(default=None, description="Field of the feature the step uses, for example 'max_diameter_mm'.")
    value: str | None = Field(default=None, description="The value used, as text.")
    span: EvidenceSpan | None = None


class ReasoningStep(Record):
    """One step of a chain, for example F1 (a finding) or Im1 (its impression)."""

    step_id: str = Field(description="F1..Fn for findings, Im1..Imn for impressions, P1.. for pathology.")
    level: Level
    triplet: Triplet
    sentence: str
    kg_edge_id: str | None = Field(default=None, description="Edge id in the organ KG; None only in a rejected chain.")
    evidence: tuple[EvidenceRef, ...] = ()
    confidence: float = Field(default=1.0, ge=0, le=1)


class CheckFailure(Record):
    """One failed calibrator check."""

    code: str = Field(description="Reason code, for example 'kg_edge_missing' or 'hallucinated_finding'.")
    message: str
    step_id: str | None = None


class RepairRecord(Record):
    """One round of the repair loop: what failed and what was done about it."""

    round: int = Field(ge=1)
    strategy: RepairStrategy
    failed_checks: tuple[CheckFailure, ...] = ()
    note: str = ""
    resolved: bool = False


class Chain(Record):
    """The reasoning chain for one organ (and lesion) of one case."""

    chain_id: str
    case_id: str
    organ: str
    lesion_ids: tuple[str, ...] = Field(default=(), description="Report and imaging feature ids the chain is about.")
    normal: bool = Field(default=False, description="True for a 'no lesion' chain of a normal organ.")
    steps: tuple[ReasoningStep, ...] = ()
    impression_id: str | None = None
    stage: StageResult | None = None
    repairs: tuple[RepairRecord, ...] = ()
    status: Literal["accepted", "rejected"] = "accepted"
    reject_code: str | None = None
    discordance: tuple[str, ...] = Field(default=(), description="Imaging-vs-pathology disagreements that repair could not resolve.")
    backend: str = "rules"
    model: str | None = None
    prompt_hash: str | None = None
