"""The extracted features of one case as citable facts.

A chain step cites evidence as ``EvidenceRef(kind, ref_id, field, value)``. The
calibrator accepts a citation only when this index contains a fact with the same
kind, feature id and field and an equal value. Negated and historical report
findings are left out on purpose, so citing one is a hallucinated finding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from data_contracts import EvidenceRef, EvidenceSpan, FieldEvidence, ImagingFeatures, LesionFinding, PathologyFeatures, ReportFeatures
from kg.terms import normalize

NORMAL_REF_ID = "organs_normal"
PATHOLOGY_REF_ID = "path"
PATHOLOGY_SPAN_FIELDS = {"nodes_positive": "nodes", "nodes_examined": "nodes", "invaded_structures": "invaded_structures"}
"""Pathology feature field -> the evidence field the extractor records its span under, where they differ."""
SIZE_TOLERANCE_MM = 0.5
BOX_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Fact:
    """One citable feature value, with the KG node it names in its organ's KG (if any)."""

    ref: EvidenceRef
    organ: str | None = None
    node: str | None = None
    source: str = "lesion"
    """Feature kind: lesion, vessel, invasion, node, metastasis, normal, pathology, organ_mask or lesion_mask."""

    @property
    def fact_id(self) -> str:
        """Id the LLM backend cites, for example ``rep-L1.density``."""
        return f"{self.ref.ref_id}.{self.ref.field}"


@dataclass
class FactIndex:
    """Every fact of a case, looked up by (kind, feature id, field)."""

    facts: tuple[Fact, ...]
    _by_key: dict[tuple[str, str, str | None], list[Fact]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for fact in self.facts:
            self._by_key.setdefault((fact.ref.kind, fact.ref.ref_id, fact.ref.field), []).append(fact)

    def match(self, ref: EvidenceRef) -> Fact | None:
        """Return the fact ``ref`` cites, or None when no extracted feature has that value."""
        for fact in self._by_key.get((ref.kind, ref.ref_id, ref.field), []):
            if ref.value is None or same_value(ref.value, fact.ref.value):
                return fact
        return None

    def by_id(self, fact_id: str) -> list[Fact]:
        """Return the facts with ``fact_id`` (one per value of a multi-valued field)."""
        return [fact for fact in self.facts if fact.fact_id == fact_id]


def same_value(claimed: str, extracted: str | None) -> bool:
    """Compare two fact values: numbers within a small tolerance, boxes per coordinate, text by its normalized form."""
    if extracted is None:
        return False
    a_numbers, b_numbers = parse_numbers(claimed), parse_numbers(extracted)
    if a_numbers is not None and b_numbers is not None and len(a_numbers) == len(b_numbers):
        tolerance = SIZE_TOLERANCE_MM if len(a_numbers) == 1 else BOX_TOLERANCE
        return all(abs(a - b) <= max(tolerance, 0.01 * abs(b)) for a, b in zip(a_numbers, b_numbers))
    return normalize(claimed) == normalize(extracted)


def parse_numbers(text: str) -> list[float] | None:
    """Return the numbers of a value such as ``30`` or ``(0.1, 0.2, 0.3, 0.4, 0.5, 0.6)``, or None for text."""
    parts = [p for p in text.strip("()[] ").replace(",", " ").split() if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    return values if values and all(math.isfinite(v) for v in values) else None


def format_number(value: float) -> str:
    return f"{value:g}"


def format_box(box: Iterable[float]) -> str:
    return "(" + ", ".join(f"{v:.4f}" for v in box) + ")"


def case_facts(report: ReportFeatures | None, imaging: ImagingFeatures | None, kgs: dict, pathology: PathologyFeatures | None = None) -> FactIndex:
    """Collect every citable fact of a case from its report, pathology and imaging features."""
    facts: list[Fact] = []
    if report is not None:
        facts += _report_facts(report, kgs)
    if pathology is not None:
        facts += _pathology_facts(pathology)
    if imaging is not None:
        facts += _imaging_facts(imaging, kgs)
    return FactIndex(tuple(facts))


def _report_facts(report: ReportFeatures, kgs: dict) -> list[Fact]:
    facts: list[Fact] = []
    for lesion in report.lesions:
        if lesion.negated or lesion.historical:
            continue
        facts += lesion_facts(lesion, kgs.get(lesion.organ))
    for vessel in report.vessels:
        if not vessel.negated:
            facts.append(_fact("vessel", vessel.vessel_id, "vessel", vessel.vessel, vessel.evidence, vessel.organ))
            facts.append(_fact("vessel", vessel.vessel_id, "relation", vessel.relation, vessel.evidence, vessel.organ))
    for invasion in report.invasions:
        if not invasion.negated:
            facts.append(_fact("invasion", invasion.invasion_id, "structure", invasion.structure, invasion.evidence, invasion.organ))
    for node in report.nodes:
        if node.negated:
            continue
        for name, value in (("count", node.count), ("short_axis_mm", node.short_axis_mm), ("station", node.station)):
            if value is not None:
                text = format_number(value) if isinstance(value, (int, float)) else value
                facts.append(_fact("node", node.node_id, name, text, node.evidence, node.organ))
        facts.append(_fact("node", node.node_id, "suspicious", str(node.suspicious).lower(), node.evidence, node.organ))
    for metastasis in report.metastases:
        if not metastasis.negated:
            facts.append(_fact("metastasis", metastasis.metastasis_id, "site", metastasis.site, metastasis.evidence, None))
    for organ in report.organs_normal:
        facts.append(Fact(EvidenceRef(kind="report", ref_id=NORMAL_REF_ID, field="organ", value=organ), organ, f"organ:{organ}", "normal"))
    return facts


def lesion_facts(lesion: LesionFinding, kg) -> list[Fact]:
    """Return the facts of one report lesion, each with the KG node its value names."""
    values: list[tuple[str, str, str | None]] = [("organ", lesion.organ, "organ")]
    for sub in lesion.subregions:
        values.append(("subregions", sub, "subregion"))
    if lesion.density:
        values.append(("density", lesion.density, "finding"))
    for item in lesion.enhancement:
        values.append(("enhancement", item, "finding"))
    if lesion.shape:
        values.append(("shape", lesion.shape, "finding"))
    if lesion.boundary:
        values.append(("boundary", lesion.boundary, "finding"))
    for sign in lesion.signs:
        values.append(("signs", sign, "finding"))
    if lesion.count is not None:
        values.append(("count", format_number(lesion.count), None))
    if lesion.multiple:
        values.append(("multiple", "true", None))
    if lesion.max_diameter_mm is not None:
        values.append(("max_diameter_mm", format_number(lesion.max_diameter_mm), None))
    if lesion.impression_id:
        values.append(("impression_id", lesion.impression_id, "impression"))

    facts = []
    for name, value, kind in values:
        node = None
        if kg is not None and kind is not None:
            term = kg.resolve(value, kind)
            node = term.node_id if term is not None else None
        span = find_span(lesion.evidence, name, value, kg)
        if name == "organ" and span is None:
            span = find_span(lesion.evidence, "lesion", value, kg)
        facts.append(Fact(EvidenceRef(kind="report", ref_id=lesion.finding_id, field=name, value=value, span=span), lesion.organ, node))
    return facts


def _fact(source: str, ref_id: str, name: str, value: str, evidence: tuple[FieldEvidence, ...], organ: str | None) -> Fact:
    span = find_span(evidence, name, value, None)
    return Fact(EvidenceRef(kind="report", ref_id=ref_id, field=name, value=value, span=span), organ, None, source)


def _field_key(name: str) -> str:
    key = name.casefold()
    for suffix in ("_mm", "s"):
        key = key.removesuffix(suffix)
    return key


def find_span(evidence: tuple[FieldEvidence, ...], name: str, value: str, kg) -> EvidenceSpan | None:
    """Return the report span of ``name``; among several, the one whose text names ``value``."""
    candidates = [e.span for e in evidence if _field_key(e.field) == _field_key(name)]
    if not candidates:
        return None
    forms = {normalize(value)}
    if kg is not None:
        term = kg.resolve(value)
        if term is not None:
            forms |= {normalize(term.name)} | {normalize(s) for syns in term.synonyms.values() for s in syns}
    for span in candidates:
        text = normalize(span.text)
        if any(form and form in text for form in forms):
            return span
    return candidates[0]


def _pathology_facts(pathology: PathologyFeatures) -> list[Fact]:
    values: list[tuple[str, object]] = [
        ("histology", pathology.histology), ("tumor_size_mm", pathology.tumor_size_mm), ("tumor_count", pathology.tumor_count),
        ("depth", pathology.depth), ("nodes_positive", pathology.nodes_positive), ("nodes_examined", pathology.nodes_examined),
        ("distant_metastasis", pathology.distant_metastasis),
    ]
    values += [("invaded_structures", structure) for structure in pathology.invaded_structures]
    facts = []
    for name, value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, (int, float)):
            text = format_number(value)
        else:
            text = str(value)
        span = find_span(pathology.evidence, PATHOLOGY_SPAN_FIELDS.get(name, name), text, None)
        ref = EvidenceRef(kind="pathology", ref_id=PATHOLOGY_REF_ID, field=name, value=text, span=span)
        facts.append(Fact(ref, pathology.organ, None, "pathology"))
    return facts


def _imaging_facts(imaging: ImagingFeatures, kgs: dict) -> list[Fact]:
    facts: list[Fact] = []
    for organ in imaging.organs:
        ref_id = f"organ:{organ.organ}"
        facts.append(Fact(EvidenceRef(kind="imaging", ref_id=ref_id, field="present", value=str(organ.present).lower()), organ.organ, None, "organ_mask"))
        if organ.volume_ml is not None:
            facts.append(Fact(EvidenceRef(kind="imaging", ref_id=ref_id, field="volume_ml", value=format_number(round(organ.volume_ml, 1))), organ.organ, None, "organ_mask"))
        if organ.bbox_norm_xyz is not None:
            facts.append(Fact(EvidenceRef(kind="imaging", ref_id=ref_id, field="bbox_norm_xyz", value=format_box(organ.bbox_norm_xyz)), organ.organ, None, "organ_mask"))
    for lesion in imaging.lesions:
        values = [
            ("max_axial_diameter_mm", format_number(round(lesion.max_axial_diameter_mm, 1))),
            ("volume_ml", format_number(round(lesion.volume_ml, 2))),
            ("bbox_norm_xyz", format_box(lesion.bbox_norm_xyz)),
        ]
        if lesion.organ:
            values.append(("organ", lesion.organ))
        if lesion.subregion:
            values.append(("subregion", lesion.subregion))
        for name, value in values:
            node = None
            if name == "subregion" and lesion.organ in kgs:
                term = kgs[lesion.organ].resolve(value, "subregion")
                node = term.node_id if term is not None else None
            facts.append(Fact(EvidenceRef(kind="imaging", ref_id=lesion.lesion_id, field=name, value=value), lesion.organ, node, "lesion_mask"))
    return facts
