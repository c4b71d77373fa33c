"""Records shared by the engine, the flows and the trainer, with their Arrow schemas.

This package imports nothing else from TumorCoT, so the trainer can depend on it
alone.
"""

from data_contracts.base import SCHEMA_VERSION, Record
from data_contracts.case import CaseInput, KeyValue
from data_contracts.common import CountItem, EvidenceSpan, FieldEvidence, Flag
from data_contracts.imaging import AXIS_ORDER, ORIENTATION, ImagingFeatures, LesionImagingFeatures, OrganFeatures
from data_contracts.manifest import DatasetManifest, ShardInfo
from data_contracts.pathology import PathologyFeatures, StatedStage
from data_contracts.reasoning import Chain, CheckFailure, EvidenceRef, ReasoningStep, RepairRecord, Triplet
from data_contracts.rejects import REASON_CODES, RejectRecord
from data_contracts.report import (
    InvasionFinding,
    LesionFinding,
    MetastasisFinding,
    NodeFinding,
    ReportFeatures,
    StandardizedReport,
    VesselFinding,
)
from data_contracts.sample import TASK_TYPES, AgentProvenance, IIRRound, Provenance, VQASample
from data_contracts.staging import StageResult

ALL_RECORDS: tuple[type[Record], ...] = (
    CaseInput,
    ImagingFeatures,
    ReportFeatures,
    PathologyFeatures,
    StageResult,
    Chain,
    VQASample,
    RejectRecord,
    DatasetManifest,
)
"""Top-level records that are written to files; each round-trips through Parquet."""

__all__ = [
    "ALL_RECORDS",
    "AXIS_ORDER",
    "AgentProvenance",
    "CaseInput",
    "Chain",
    "CheckFailure",
    "CountItem",
    "DatasetManifest",
    "EvidenceRef",
    "EvidenceSpan",
    "FieldEvidence",
    "Flag",
    "IIRRound",
    "ImagingFeatures",
    "InvasionFinding",
    "KeyValue",
    "LesionFinding",
    "LesionImagingFeatures",
    "MetastasisFinding",
    "NodeFinding",
    "ORIENTATION",
    "OrganFeatures",
    "PathologyFeatures",
    "Provenance",
    "REASON_CODES",
    "ReasoningStep",
    "Record",
    "RejectRecord",
    "RepairRecord",
    "SCHEMA_VERSION",
    "ShardInfo",
    "StageResult",
    "StandardizedReport",
    "StatedStage",
    "TASK_TYPES",
    "Triplet",
    "VQASample",
    "VesselFinding",
]
