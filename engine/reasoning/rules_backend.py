"""The offline ``rules`` reasoner: walk the organ KG from the extracted facts and phrase each edge."""

from __future__ import annotations

from dataclasses import dataclass, field

from data_contracts import Chain, EvidenceRef, ReasoningStep, StageResult, Triplet
from engine.reasoning import kg_paths, sentences
from engine.reasoning.evidence import Fact, FactIndex, format_number, same_value
from engine.reasoning.finding_steps import (
    finding_steps,
    lesion_facts,
    organ_facts,
    organ_spread_nodes,
    spread_steps,
    structure_name,
    words_for,
)
from engine.reasoning.hints import RepairHints
from engine.reasoning.phrasing import Phraser
from engine.reasoning.staging import StageSources, expected_stage, rule_axis, staged_facts
from engine.reasoning.targets import ChainTarget
from kg import OrganKG

CERTAINTY_FACTOR = {"definite": 1.0, "probable": 0.75, "possible": 0.5}
MASK_ONLY_NORMAL_CONFIDENCE = 0.8
FINDING_CONFIDENCE = 1.0
INFERRED_IMPRESSION_FACTOR = 0.6
"""Confidence factor of an impression (and its stage) that the KG differential inferred because the report names none."""
RULE_FACT_FIELDS = {
    "max_diameter_mm": ("max_diameter_mm",),
    "tumor_count": ("count", "multiple"),
    "invaded_structures": ("vessel", "relation", "structure"),
    "nodes_positive": ("count", "suspicious"),
    "node_metastasis": ("count", "suspicious"),
    "distant_metastasis": ("site",),
    "metastasis_sites": ("site",),
}
"""Fact key of a staging rule -> fields of the report features that state it."""

PATHOLOGY_FACT_FIELDS = {
    "max_diameter_mm": ("tumor_size_mm",),
    "tumor_count": ("tumor_count",),
    "nodes_positive": ("nodes_positive", "nodes_examined"),
    "node_metastasis": ("nodes_positive",),
    "invaded_structures": ("invaded_structures",),
    "depth": ("depth",),
    "distant_metastasis": ("distant_metastasis",),
    "histology": ("histology",),
}
"""Fact key of a staging rule -> fields of the pathology features that state it."""


@dataclass
class ChainBuilder:
    """Collects steps with their running ids."""

    kg: OrganKG
    steps: list[ReasoningStep] = field(default_factory=list)

    def add(self, level: str, prefix: str, edge, sentence: str, evidence: list[EvidenceRef], confidence: float) -> ReasoningStep:
        number = sum(1 for s in self.steps if s.step_id.startswith(prefix) and s.step_id[len(prefix):].isdigit()) + 1
        step = ReasoningStep(
            step_id=f"{prefix}{number}", level=level, triplet=Triplet(subject=edge.subject, predicate=edge.predicate, object=edge.object),
            sentence=sentence, kg_edge_id=edge.edge_id, evidence=tuple(_unique(evidence)), confidence=round(min(max(confidence, 0.0), 1.0), 3),
        )
        self.steps.append(step)
        return step


def rules_chain(target: ChainTarget, index: FactIndex, kg: OrganKG, sources: StageSources, seed: int, hints: RepairHints | None = None) -> Chain:
    """Build the chain of ``target`` from the case's facts by walking ``kg``; ``sources`` feed the staging rules."""
    hints = hints or RepairHints()
    phraser = Phraser(seed, target.case_id, target.organ)
    builder = ChainBuilder(kg)
    if target.lesion is None:
        _normal_steps(builder, target, index, phraser)
        return Chain(chain_id=target.chain_id, case_id=target.case_id, organ=target.organ, lesion_ids=target.lesion_ids, normal=True, steps=tuple(builder.steps))

    # The report's hedging ("probable", "possible") qualifies its diagnosis, so it lowers impression and stage confidence only.
    certainty = CERTAINTY_FACTOR[target.lesion.certainty]
    lesion_steps = finding_steps(builder, target, index, phraser, FINDING_CONFIDENCE, hints)
    lesion_nodes = tuple(f.node for f in lesion_facts(target, index) if f.node and f.node.startswith("finding:"))
    stated_nodes = tuple(s.triplet.object for s in lesion_steps if s.triplet.object.startswith("finding:"))
    finding_nodes = tuple(dict.fromkeys(lesion_nodes + stated_nodes + organ_spread_nodes(kg, target, index)))

    # A diagnosis the report only calls possible ("metastasis cannot be excluded") is not
    # asserted: the chain keeps the lesion's findings, as the uncertainty is about the diagnosis.
    possible_only = target.lesion.certainty == "possible"
    named = None if possible_only else kg_paths.impression_node(kg, target.lesion.impression_id)
    truth = hints.pathology_truth
    causes_only = hints.strategy == "suspected_causes"
    if possible_only and truth is None:
        impression = None
    else:
        impression = kg_paths.choose_impression(kg, finding_nodes, named, hints.suspected_causes, truth.histology if truth else None, causes_only)
    stage = None
    # Nodes and distant disease are staging context, so only the chain of a staged malignant primary states them.
    if kg_paths.takes_staging_context(kg, impression):
        spread_steps(builder, target, index, phraser, FINDING_CONFIDENCE)
    if impression is not None:
        if _is_inferred(kg, impression, named, truth.histology if truth else None):
            certainty *= INFERRED_IMPRESSION_FACTOR
        _impression_steps(builder, lesion_steps, impression, phraser, certainty)
        stage = _staging_steps(builder, target, index, impression, sources, phraser, certainty)
    return Chain(
        chain_id=target.chain_id, case_id=target.case_id, organ=target.organ, lesion_ids=target.lesion_ids,
        steps=tuple(builder.steps), impression_id=kg_paths.local_id(impression) if impression else None, stage=stage,
    )


def _is_inferred(kg: OrganKG, impression: str, named: str | None, histology: str | None) -> bool:
    """True when neither the report nor the pathology histology names ``impression``, so the KG differential chose it."""
    if impression == named:
        return False
    return not (histology and impression in kg_paths.impressions_with_histology(kg, histology))


def _impression_steps(builder, finding_steps, impression, phraser, certainty) -> None:
    kg = builder.kg
    by_object = {}
    for step in finding_steps:
        by_object.setdefault(step.triplet.object, step)
    for edge in kg_paths.impression_support(kg, list(by_object), impression):
        finding_step = by_object[edge.subject]
        strength = edge.strength or 0.0
        kg_ref = EvidenceRef(kind="kg", ref_id=edge.edge_id, field="strength", value=format_number(strength))
        report_refs = [ref for ref in finding_step.evidence if ref.kind == "report"][:2]
        sentence = sentences.impression(phraser, edge.edge_id, words_for(kg, edge.subject), kg_paths.node_name(kg, impression))
        builder.add("impression", "Im", edge, sentence, [kg_ref] + report_refs, strength * certainty)


def _staging_steps(builder, target, index, impression, sources, phraser, certainty) -> StageResult | None:
    kg = builder.kg
    table = kg_paths.staging_table(kg, impression)
    if table is None:
        return None
    stage = expected_stage(target.organ, sources.report, sources.pathology, kg, table)
    if stage is None:
        return None
    values, origin = staged_facts(target.organ, sources.report, sources.pathology, kg)
    for rule_id in stage.rules:
        axis = rule_axis(kg, rule_id)
        category = getattr(stage, axis)
        edge = kg_paths.edge_between(kg, impression, f"stage:{category}", "staged_as")
        if edge is None:
            continue
        used = kg_paths.rule_facts(kg, rule_id)
        facts = _rule_evidence(used, target, index, values, origin)
        sentence = sentences.stage(phraser, axis, category, _reason(kg, axis, {key: values[key] for key in used if key in values}, origin))
        kg_ref = EvidenceRef(kind="kg", ref_id=f"rule:{rule_id}", field="category", value=category)
        builder.add("pathology", "P", edge, sentence, [kg_ref] + [f.ref for f in facts], certainty)
    return stage


def _rule_evidence(used: tuple[str, ...], target: ChainTarget, index: FactIndex, values: dict, origin: dict[str, str]) -> list[Fact]:
    """Return the facts a fired rule read, from the pathology report where its values won, else from the radiology report.

    The staged size is the organ's largest tumour, so a chain of a smaller
    lesion cites the report fact that states that size.
    """
    from_pathology = {name for key in used if origin.get(key) == "pathology" for name in PATHOLOGY_FACT_FIELDS.get(key, ())}
    fields = {name for key in used if origin.get(key) != "pathology" for name in RULE_FACT_FIELDS.get(key, ())}
    found = [f for f in lesion_facts(target, index) if f.ref.field in {"count", "multiple"} & fields]
    if "max_diameter_mm" in fields and "max_diameter_mm" in values:
        sizes = [f for f in index.facts if f.source == "lesion" and f.organ == target.organ and f.ref.field == "max_diameter_mm"]
        found += [f for f in sizes if same_value(format_number(values["max_diameter_mm"]), f.ref.value)][:1]
    found += organ_facts(index, target.organ, tuple(fields - {"max_diameter_mm", "multiple"}))
    found += [f for f in index.facts if f.source == "pathology" and f.ref.field in from_pathology]
    return found


def _reason(kg: OrganKG, axis: str, values: dict, origin: dict[str, str]) -> str:
    """Return why a staging rule fired, in words, from the staging facts it read."""
    structures = [structure_name(kg, str(value)) for value in values.get("invaded_structures") or ()]
    depth = _layer_name(kg, str(values["depth"])) if values.get("depth") else None
    sites = [structure_name(kg, str(value)) for value in values.get("metastasis_sites") or ()]
    return sentences.stage_reason(
        axis, size_mm=values.get("max_diameter_mm"), tumours=values.get("tumor_count"), structures=structures, depth=depth,
        node_count=values.get("nodes_positive"), node_metastasis=values.get("node_metastasis"),
        nodes_confirmed=origin.get("nodes_positive", origin.get("node_metastasis")) == "pathology", sites=sites,
        distant_metastasis=values.get("distant_metastasis"),
    )


def _layer_name(kg: OrganKG, value: str) -> str:
    term = kg.resolve(value, "layer")
    return kg_paths.node_name(kg, term.node_id) if term is not None else value.replace("_", " ")


def _normal_steps(builder: ChainBuilder, target: ChainTarget, index: FactIndex, phraser: Phraser) -> None:
    kg = builder.kg
    organ = kg_paths.organ_node(kg)
    edge = kg_paths.location_edge(kg, organ)
    evidence = [f.ref for f in index.facts if f.ref.ref_id == "organs_normal" and f.ref.value == target.organ]
    evidence += [f.ref for f in index.facts if f.ref.kind == "imaging" and f.ref.ref_id == f"organ:{target.organ}" and f.ref.field in ("present", "volume_ml")]
    from_report = target.normal_source == "report"
    confidence = 1.0 if from_report else MASK_ONLY_NORMAL_CONFIDENCE
    sentence = sentences.normal(phraser, edge.edge_id, kg_paths.node_name(kg, organ), from_report)
    builder.add("finding", "F", edge, sentence, evidence, confidence)


def _unique(refs: list[EvidenceRef]) -> list[EvidenceRef]:
    seen, out = set(), []
    for ref in refs:
        key = (ref.kind, ref.ref_id, ref.field, ref.value)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out
