"""Structured radiology report features: the extractor's output.

Vocabulary values (organ, subregion, density, enhancement, ...) are KG term ids,
so a clinician's KG edit changes what is accepted without a code change. Every
value keeps the report span it came from in ``evidence``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from data_contracts.base import Record
from data_contracts.common import FieldEvidence, Flag

Certainty = Literal["definite", "probable", "possible"]
VesselRelation = Literal["contact", "abutment", "encasement", "occlusion", "tumor_thrombus", "invasion"]


class StandardizedReport(Record):
    """The report rewritten into the three standard sections."""

    findings: str = ""
    impression: str = ""
    conclusion: str = ""


class LesionFinding(Record):
    """One lesion (or group of lesions of one kind) described in the report."""

    finding_id: str = Field(description="Stable id within the case, for example 'rep-L1'.")
    organ: str
    subregions: tuple[str, ...] = ()
    impression_id: str | None = Field(default=None, description="KG impression the report names for this lesion, if any.")
    impression_name: str | None = None
    density: str | None = None
    enhancement: tuple[str, ...] = ()
    shape: str | None = None
    boundary: str | None = None
    count: int | None = Field(default=None, ge=1, description="Number of lesions; None when the report says 'multiple' without a number.")
    multiple: bool = False
    sizes_mm: tuple[float, ...] = Field(default=(), description="Stated axes in mm, largest first.")
    max_diameter_mm: float | None = Field(default=None, ge=0)
    signs: tuple[str, ...] = Field(default=(), description="Other KG findings: duct dilatation, calcification, necrosis, capsule, ...")
    malignant: bool | None = Field(
        default=None, description="True when the report calls the lesion malignant, even without a histology ('oesophageal carcinoma'); None when unstated.",
    )
    negated: bool = False
    certainty: Certainty = "definite"
    historical: bool = Field(default=False, description="Mentioned as history or prior treatment, not a current finding.")
    evidence: tuple[FieldEvidence, ...] = ()


class NodeFinding(Record):
    """Regional or distant lymph nodes described in the report."""

    node_id: str
    organ: str | None = Field(default=None, description="Organ whose regional station this is, when known.")
    station: str | None = None
    short_axis_mm: float | None = Field(default=None, ge=0)
    count: int | None = Field(default=None, ge=0)
    suspicious: bool = False
    negated: bool = False
    evidence: tuple[FieldEvidence, ...] = ()


class VesselFinding(Record):
    """A relation between a tumour and a named vessel."""

    vessel_id: str
    vessel: str = Field(description="KG structure id of the vessel, for example 'common_hepatic_artery'.")
    relation: VesselRelation
    organ: str | None = None
    negated: bool = False
    certainty: Certainty = "definite"
    evidence: tuple[FieldEvidence, ...] = ()


class InvasionFinding(Record):
    """Direct invasion of a neighbouring structure."""

    invasion_id: str
    structure: str = Field(description="KG structure id.")
    organ: str | None = None
    negated: bool = False
    certainty: Certainty = "definite"
    evidence: tuple[FieldEvidence, ...] = ()


class MetastasisFinding(Record):
    """A distant metastasis (or its explicit absence)."""

    metastasis_id: str
    site: str = Field(description="Organ or region of the metastasis, for example 'liver', 'peritoneum', 'lung'.")
    count: int | None = Field(default=None, ge=1)
    negated: bool = False
    certainty: Certainty = "definite"
    evidence: tuple[FieldEvidence, ...] = ()


class ReportFeatures(Record):
    """Everything the extractor read from one radiology report."""

    case_id: str
    language: str = "en"
    encoding: str = Field(default="utf-8", description="Text encoding the file was decoded with.")
    standardized: StandardizedReport = StandardizedReport()
    lesions: tuple[LesionFinding, ...] = ()
    nodes: tuple[NodeFinding, ...] = ()
    vessels: tuple[VesselFinding, ...] = ()
    invasions: tuple[InvasionFinding, ...] = ()
    metastases: tuple[MetastasisFinding, ...] = ()
    organs_normal: tuple[str, ...] = Field(default=(), description="Organs the report states are normal.")
    flags: tuple[Flag, ...] = ()
    backend: str = "rules"
    model: str | None = None
    prompt_hash: str | None = None
