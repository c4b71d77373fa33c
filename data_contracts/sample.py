"""The VQA sample: one row of a Parquet shard, and its provenance."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from data_contracts.base import Record
from data_contracts.imaging import NormBox
from data_contracts.reasoning import EvidenceRef, ReasoningStep, RepairRecord

TaskType = Literal["localization", "attribute", "tnm", "cot_report"]
Split = Literal["train", "val", "test"]

TASK_TYPES: tuple[str, ...] = ("localization", "attribute", "tnm", "cot_report")


class IIRRound(Record):
    """One round of organ-guided iterative interleaved reasoning."""

    round: int = Field(ge=1)
    attend_organ: str = Field(description="Organ whose local tokens the model attends to in this round.")
    roi_bbox_norm_xyz: NormBox | None = None
    intermediate_answer: str


class AgentProvenance(Record):
    """Which backend and model one agent used for this sample."""

    agent: Literal["segmenter", "extractor", "reasoner", "calibrator", "summarizer", "composer"]
    backend: str
    model: str | None = None
    prompt_hash: str | None = None


class Provenance(Record):
    """Everything needed to trace a sample back to its evidence and reproduce it."""

    case_id: str
    input_hash: str = Field(description="Hash of the case inputs, config and KG version; the resume key.")
    kg_version: str
    engine_version: str
    schema_version: str
    agents: tuple[AgentProvenance, ...] = ()
    chain_ids: tuple[str, ...] = ()
    repair_history: tuple[RepairRecord, ...] = ()
    evidence: tuple[EvidenceRef, ...] = ()


class VQASample(Record):
    """One chain-of-thought VQA training sample."""

    sample_id: str = Field(description="Deterministic hash of case, task, subtask, organ and question key.")
    case_id: str
    split: Split
    task_type: TaskType
    subtask: str = Field(description="For example 'organ_bbox', 'density', 'T', 'report'.")
    organ: str
    ct_path: str
    masks_path: str | None = None
    question: str
    think: str = Field(description="Reasoning text shown inside <think> ... </think>.")
    answer: str
    answer_json: str = Field(description="Structured answer as a JSON object string.")
    chain: tuple[ReasoningStep, ...] = ()
    iir_rounds: tuple[IIRRound, ...] = ()
    provenance: Provenance
