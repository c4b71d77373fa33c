"""The ``llm`` extraction backend: report and pathology features from a model's JSON reply.

The model replies in a simplified schema (``LLMReport``, ``LLMPathology``) with
KG ids as plain strings and evidence as quoted text. This module turns quotes
into character spans by finding them in the source text. A quote that does not
occur there is dropped with an ``evidence_not_found`` flag, so no span is ever
invented. Values are resolved to KG ids through the organ KG synonyms where
possible and otherwise kept as written, for ``validate_report`` to flag.

LLM failures are raised as ``engine.llm.LLMError`` subclasses; their
``reason_code`` is the reject reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from data_contracts import (
    EvidenceSpan,
    FieldEvidence,
    Flag,
    InvasionFinding,
    LesionFinding,
    MetastasisFinding,
    NodeFinding,
    PathologyFeatures,
    ReportFeatures,
    StandardizedReport,
    StatedStage,
    VesselFinding,
)
from engine.extraction.language import detect_language
from engine.state import EngineContext
from engine.text.sections import Section, section_at, split_sections, standardize

CertaintyText = Literal["definite", "probable", "possible"]


class QuotedEvidence(BaseModel):
    """A value's support in the source: the field it backs and a verbatim quote."""

    field: str
    quote: str


class LLMLesion(BaseModel):
    organ: str
    subregions: list[str] = []
    impression: str | None = None
    density: str | None = None
    enhancement: list[str] = []
    shape: str | None = None
    boundary: str | None = None
    signs: list[str] = []
    count: int | None = None
    multiple: bool = False
    sizes_mm: list[float] = []
    negated: bool = False
    certainty: CertaintyText = "definite"
    historical: bool = False
    evidence: list[QuotedEvidence] = []


class LLMNode(BaseModel):
    organ: str | None = None
    station: str | None = None
    short_axis_mm: float | None = None
    count: int | None = None
    suspicious: bool = False
    negated: bool = False
    evidence: list[QuotedEvidence] = []


class LLMVessel(BaseModel):
    vessel: str
    relation: Literal["contact", "abutment", "encasement", "occlusion", "tumor_thrombus", "invasion"]
    organ: str | None = None
    negated: bool = False
    certainty: CertaintyText = "definite"
    evidence: list[QuotedEvidence] = []


class LLMInvasion(BaseModel):
    structure: str
    organ: str | None = None
    negated: bool = False
    certainty: CertaintyText = "definite"
    evidence: list[QuotedEvidence] = []


class LLMMetastasis(BaseModel):
    site: str
    count: int | None = None
    negated: bool = False
    certainty: CertaintyText = "definite"
    evidence: list[QuotedEvidence] = []


class LLMStandardized(BaseModel):
    findings: str = ""
    impression: str = ""
    conclusion: str = ""


class LLMReport(BaseModel):
    """The reply schema for a radiology report."""

    language: str = "en"
    standardized: LLMStandardized = LLMStandardized()
    lesions: list[LLMLesion] = []
    nodes: list[LLMNode] = []
    vessels: list[LLMVessel] = []
    invasions: list[LLMInvasion] = []
    metastases: list[LLMMetastasis] = []
    organs_normal: list[str] = []


class LLMStatedStage(BaseModel):
    T: str | None = None
    N: str | None = None
    M: str | None = None
    edition: str | None = None
    text: str = ""


class LLMPathology(BaseModel):
    """The reply schema for a pathology report."""

    organ: str | None = None
    histology: str | None = None
    histology_text: str | None = None
    malignant: bool | None = None
    grade: str | None = None
    tumor_size_mm: float | None = None
    tumor_count: int | None = None
    depth: str | None = None
    invaded_structures: list[str] = []
    nodes_positive: int | None = None
    nodes_examined: int | None = None
    tumor_deposits: bool | None = None
    margins: Literal["negative", "positive", "close"] | None = None
    lymphovascular_invasion: bool | None = None
    perineural_invasion: bool | None = None
    distant_metastasis: bool | None = None
    stated_stage: LLMStatedStage | None = None
    evidence: list[QuotedEvidence] = Field(default_factory=list)


# Entry points


def extract_report_llm(text: str, case_id: str, ctx: EngineContext) -> ReportFeatures:
    """Extract report features with the extractor agent's LLM backend."""
    from engine.llm import load_prompt

    prompt = load_prompt("extractor_report")
    system = prompt.render(vocabulary=report_vocabulary(ctx.kgs))
    result = _client(ctx).structured(
        "extractor", ctx.config.extractor, _messages(system, text), LLMReport, case_id=case_id, prompt_hash=prompt.sha256
    )
    features = to_report_features(result.value, text, case_id, ctx.kgs)
    return features.model_copy(update={"backend": "llm", "model": result.model, "prompt_hash": prompt.sha256})


def extract_pathology_llm(text: str, case_id: str, ctx: EngineContext) -> PathologyFeatures:
    """Extract pathology features with the extractor agent's LLM backend."""
    from engine.llm import load_prompt

    prompt = load_prompt("extractor_pathology")
    system = prompt.render(vocabulary=pathology_vocabulary(ctx.kgs))
    result = _client(ctx).structured(
        "extractor", ctx.config.extractor, _messages(system, text), LLMPathology, case_id=case_id, prompt_hash=prompt.sha256
    )
    features = to_pathology_features(result.value, text, case_id, ctx.kgs)
    return features.model_copy(update={"backend": "llm", "model": result.model, "prompt_hash": prompt.sha256})


def _client(ctx: EngineContext) -> Any:
    if ctx.llm is None:
        from engine.llm import LLMClient

        ctx.llm = LLMClient(ctx.config.llm, ctx.usage)
    return ctx.llm


def _messages(system: str, text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": f"Report:\n{text}"}]


# Vocabulary listed in the prompt


def report_vocabulary(kgs: Mapping[str, Any]) -> str:
    """List, per organ KG, the ids the report reply may use, with their names."""
    blocks = []
    for organ, kg in kgs.items():
        lines = [f"organ {organ}"]
        lines.append("  subregions: " + _terms(kg.subregions))
        for attribute, terms in kg.vocabulary.items():
            lines.append(f"  {attribute}: " + _terms(terms))
        lines.append("  impressions: " + ", ".join(f"{key}: {info.name}" for key, info in kg.impressions.items()))
        lines.append("  structures (vessels, invasions): " + _terms(kg.structures))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def pathology_vocabulary(kgs: Mapping[str, Any]) -> str:
    """List, per organ KG, the ids the pathology reply may use."""
    blocks = []
    for organ, kg in kgs.items():
        endpoints = [kg.index.terms[("endpoint", key)] for key in kg.index.ids("endpoint")]
        lines = [f"organ {organ}", "  histology: " + _terms(endpoints), "  structures: " + _terms(kg.structures)]
        if kg.layers:
            lines.append("  depth (wall layers, inner to outer): " + _terms(kg.layers))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _terms(terms: list[Any]) -> str:
    return ", ".join(f"{t.id}: {t.name}" if t.name != t.id else t.id for t in terms) or "(none)"


# Reply -> contract records


class _Grounding:
    """Turns quotes into evidence spans of one source text and collects the flags for missing ones."""

    def __init__(self, text: str, source: Literal["report", "pathology"], case_id: str):
        self.text = text
        self.source = source
        self.case_id = case_id
        self.sections: list[Section] = split_sections(text)
        self.flags: list[Flag] = []

    def evidence(self, items: list[QuotedEvidence], owner: str) -> tuple[FieldEvidence, ...]:
        found = []
        for item in items:
            located = locate_quote(self.text, item.quote)
            if located is None:
                self.flags.append(Flag(
                    code="evidence_not_found",
                    message=f"case {self.case_id}: {owner}, field {item.field}: the model's evidence quote "
                            f"({len(item.quote)} characters) does not occur in the {self.source} text; the evidence was dropped",
                    field=f"{owner}.evidence",
                ))
                continue
            start, end = located
            span = EvidenceSpan(source=self.source, start=start, end=end, text=self.text[start:end],
                                section=section_at(self.sections, start))
            found.append(FieldEvidence(field=item.field, span=span))
        return tuple(found)


def locate_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Return the span of ``quote`` in ``text``: exact first, then ignoring case and runs of whitespace."""
    quote = quote.strip()
    if not quote:
        return None
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    pattern = r"\s+".join(re.escape(word) for word in quote.split())
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def to_report_features(reply: LLMReport, text: str, case_id: str, kgs: Mapping[str, Any]) -> ReportFeatures:
    """Convert a validated reply into ``ReportFeatures`` with spans located in ``text``."""
    grounding = _Grounding(text, "report", case_id)
    lesions = tuple(_lesion(item, number, kgs, grounding) for number, item in enumerate(reply.lesions, start=1))
    nodes = tuple(
        NodeFinding(node_id=f"rep-N{n}", organ=_organ(item.organ, kgs), station=item.station,
                    short_axis_mm=_non_negative(item.short_axis_mm), count=_at_least(item.count, 0),
                    suspicious=item.suspicious, negated=item.negated, evidence=grounding.evidence(item.evidence, f"rep-N{n}"))
        for n, item in enumerate(reply.nodes, start=1)
    )
    vessels = tuple(
        VesselFinding(vessel_id=f"rep-V{n}", vessel=_resolve(item.vessel, "structure", kgs, item.organ), relation=item.relation,
                      organ=_organ(item.organ, kgs), negated=item.negated, certainty=item.certainty,
                      evidence=grounding.evidence(item.evidence, f"rep-V{n}"))
        for n, item in enumerate(reply.vessels, start=1)
    )
    invasions = tuple(
        InvasionFinding(invasion_id=f"rep-I{n}", structure=_resolve(item.structure, "structure", kgs, item.organ),
                        organ=_organ(item.organ, kgs), negated=item.negated, certainty=item.certainty,
                        evidence=grounding.evidence(item.evidence, f"rep-I{n}"))
        for n, item in enumerate(reply.invasions, start=1)
    )
    metastases = tuple(
        MetastasisFinding(metastasis_id=f"rep-M{n}", site=_organ(item.site, kgs) or item.site, count=_at_least(item.count, 1),
                          negated=item.negated, certainty=item.certainty, evidence=grounding.evidence(item.evidence, f"rep-M{n}"))
        for n, item in enumerate(reply.metastases, start=1)
    )
    return ReportFeatures(
        case_id=case_id,
        language=detect_language(text),
        standardized=_standardized(reply.standardized, text, grounding.sections),
        lesions=lesions, nodes=nodes, vessels=vessels, invasions=invasions, metastases=metastases,
        organs_normal=tuple(dict.fromkeys(_organ(name, kgs) or name for name in reply.organs_normal)),
        flags=tuple(grounding.flags),
        backend="llm",
    )


def _lesion(item: LLMLesion, number: int, kgs: Mapping[str, Any], grounding: _Grounding) -> LesionFinding:
    finding_id = f"rep-L{number}"
    organ = _organ(item.organ, kgs) or item.organ
    sizes = tuple(sorted((float(s) for s in item.sizes_mm if s > 0), reverse=True))
    impression = _resolve(item.impression, "impression", kgs, organ) if item.impression else None
    impression_term = _term(impression, "impression", kgs, organ) if impression else None
    return LesionFinding(
        finding_id=finding_id,
        organ=organ,
        subregions=tuple(_resolve(s, "subregion", kgs, organ) for s in item.subregions),
        impression_id=impression,
        impression_name=impression_term.name if impression_term else None,
        density=_resolve(item.density, "finding", kgs, organ) if item.density else None,
        enhancement=tuple(_resolve(e, "finding", kgs, organ) for e in item.enhancement),
        shape=_resolve(item.shape, "finding", kgs, organ) if item.shape else None,
        boundary=_resolve(item.boundary, "finding", kgs, organ) if item.boundary else None,
        count=_at_least(item.count, 1),
        multiple=item.multiple or (item.count or 0) > 1,
        sizes_mm=sizes,
        max_diameter_mm=sizes[0] if sizes else None,
        signs=tuple(_resolve(s, "finding", kgs, organ) for s in item.signs),
        negated=item.negated,
        certainty=item.certainty,
        historical=item.historical,
        evidence=grounding.evidence(item.evidence, finding_id),
    )


def to_pathology_features(reply: LLMPathology, text: str, case_id: str, kgs: Mapping[str, Any]) -> PathologyFeatures:
    """Convert a validated pathology reply into ``PathologyFeatures`` with spans located in ``text``."""
    grounding = _Grounding(text, "pathology", case_id)
    organ = _organ(reply.organ, kgs) if reply.organ else None
    histology = _resolve_histology(reply.histology, kgs, organ) if reply.histology else None
    stage = reply.stated_stage
    return PathologyFeatures(
        case_id=case_id,
        organ=organ or reply.organ,
        histology=histology,
        histology_text=reply.histology_text,
        malignant=reply.malignant,
        grade=reply.grade,
        tumor_size_mm=_non_negative(reply.tumor_size_mm),
        tumor_count=_at_least(reply.tumor_count, 1),
        depth=_resolve(reply.depth, "layer", kgs, organ) if reply.depth else None,
        invaded_structures=tuple(_resolve(s, "structure", kgs, organ) for s in reply.invaded_structures),
        nodes_positive=_at_least(reply.nodes_positive, 0),
        nodes_examined=_at_least(reply.nodes_examined, 0),
        tumor_deposits=reply.tumor_deposits,
        margins=reply.margins,
        lymphovascular_invasion=reply.lymphovascular_invasion,
        perineural_invasion=reply.perineural_invasion,
        distant_metastasis=reply.distant_metastasis,
        stated_stage=StatedStage(**stage.model_dump()) if stage else None,
        evidence=grounding.evidence(reply.evidence, "pathology"),
        flags=tuple(grounding.flags),
        backend="llm",
    )


# KG resolution helpers


def _organ(name: str | None, kgs: Mapping[str, Any]) -> str | None:
    """Return the KG organ id that ``name`` names, or None."""
    if not name:
        return None
    if name in kgs:
        return name
    for organ, kg in kgs.items():
        if kg.resolve(name, "organ") is not None:
            return organ
    return None


def _term(value: str, kind: str, kgs: Mapping[str, Any], organ: str | None) -> Any | None:
    candidates = [kgs[organ]] if organ in kgs else list(kgs.values())
    for kg in candidates:
        term = kg.resolve(value, kind)
        if term is not None:
            return term
    return None


def _resolve(value: str, kind: str, kgs: Mapping[str, Any], organ: str | None) -> str:
    """Return the KG id of ``value`` (a term of ``kind``), or ``value`` unchanged when no KG term matches."""
    term = _term(value, kind, kgs, organ)
    return term.id if term is not None else value


def _resolve_histology(value: str, kgs: Mapping[str, Any], organ: str | None) -> str:
    term = _term(value, "endpoint", kgs, organ) or _term(value, "impression", kgs, organ)
    return term.id if term is not None else value


def _at_least(value: int | None, minimum: int) -> int | None:
    return value if value is not None and value >= minimum else None


def _non_negative(value: float | None) -> float | None:
    return float(value) if value is not None and value >= 0 else None


def _standardized(reply: LLMStandardized, text: str, sections: list[Section]) -> StandardizedReport:
    """Use the model's sections when it wrote any, else the deterministic split of the text."""
    if reply.findings or reply.impression or reply.conclusion:
        return StandardizedReport(findings=reply.findings, impression=reply.impression, conclusion=reply.conclusion)
    return standardize(text, sections)

