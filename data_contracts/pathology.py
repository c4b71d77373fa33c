"""Structured pathology report features: ground truth for the summarizer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from data_contracts.base import Record
from data_contracts.common import FieldEvidence, Flag


class StatedStage(Record):
    """A stage written in the report, kept apart from the stage TumorCoT computes."""

    T: str | None = None
    N: str | None = None
    M: str | None = None
    edition: str | None = Field(default=None, description="AJCC edition the report names, for example 'AJCC8' or 'AJCC7'; None when unstated.")
    text: str = ""


class PathologyFeatures(Record):
    """Everything the extractor read from one pathology report."""

    case_id: str
    organ: str | None = None
    histology: str | None = Field(default=None, description="KG histology endpoint id, for example 'ductal_adenocarcinoma'.")
    histology_text: str | None = None
    malignant: bool | None = None
    grade: str | None = None
    tumor_size_mm: float | None = Field(default=None, ge=0)
    tumor_count: int | None = Field(default=None, ge=1)
    depth: str | None = Field(default=None, description="KG layer id of the deepest invasion, for example 'muscularis_propria'.")
    invaded_structures: tuple[str, ...] = ()
    nodes_positive: int | None = Field(default=None, ge=0)
    nodes_examined: int | None = Field(default=None, ge=0)
    tumor_deposits: bool | None = None
    margins: Literal["negative", "positive", "close"] | None = None
    lymphovascular_invasion: bool | None = None
    perineural_invasion: bool | None = None
    distant_metastasis: bool | None = None
    metastasis_sites: tuple[str, ...] = Field(default=(), description="Sites of distant metastasis the report names, for example 'liver', 'peritoneum'.")
    stated_stage: StatedStage | None = None
    evidence: tuple[FieldEvidence, ...] = ()
    flags: tuple[Flag, ...] = ()
    encoding: str = "utf-8"
    backend: str = "rules"
    model: str | None = None
    prompt_hash: str | None = None
