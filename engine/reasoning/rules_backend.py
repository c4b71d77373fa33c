"""The offline ``rules`` reasoner: walk the organ KG from the extracted facts and phrase each edge."""

from __future__ import annotations

from dataclasses import dataclass, field

from data_contracts import Chain, EvidenceRef, ReasoningStep, StageResult, Triplet
from engine.reasoning import kg_paths
from engine.reasoning.evidence import Fact, FactIndex, format_number
from engine.reasoning.hints import RepairHints
from engine.reasoning.phrasing import Phraser
from engine.reasoning.staging import StageSources, expected_stage, fact_sources, rule_axis
from engine.reasoning.targets import ChainTarget
from kg import OrganKG

CERTAINTY_FACTOR = {"definite": 1.0, "probable": 0.75, "possible": 0.5}
MASK_ONLY_NORMAL_CONFIDENCE = 0.8
FINDING_CONFIDENCE = 1.0
ATTRIBUTE_ORDER = ("density", "enhancement", "shape", "boundary", "count", "multiple", "signs")
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
    finding_steps = _finding_steps(builder, target, index, phraser, FINDING_CONFIDENCE, hints)
    lesion_nodes = tuple(f.node for f in _lesion_facts(target, index) if f.node and f.node.startswith("finding:"))
    stated_nodes = tuple(s.triplet.object for s in finding_steps if s.triplet.object.startswith("finding:"))
    finding_nodes = tuple(dict.fromkeys(lesion_nodes + stated_nodes + _organ_spread_nodes(kg, target, index)))

    named = kg_paths.impression_node(kg, target.lesion.impression_id)
    truth = hints.pathology_truth
    causes_only = hints.strategy == "suspected_causes"
    impression = kg_paths.choose_impression(kg, finding_nodes, named, hints.suspected_causes, truth.histology if truth else None, causes_only)
    stage = None
    # Nodes and distant disease are staging context, so only the chain of a staged malignant primary states them.
    if kg_paths.takes_staging_context(kg, impression):
        _spread_steps(builder, target, index, phraser, FINDING_CONFIDENCE)
    if impression is not None:
        _impression_steps(builder, finding_steps, impression, phraser, certainty)
        stage = _staging_steps(builder, target, index, impression, sources, phraser, certainty)
    return Chain(
        chain_id=target.chain_id, case_id=target.case_id, organ=target.organ, lesion_ids=target.lesion_ids,
        steps=tuple(builder.steps), impression_id=kg_paths.local_id(impression) if impression else None, stage=stage,
    )


def _lesion_facts(target: ChainTarget, index: FactIndex) -> list[Fact]:
    return [f for f in index.facts if f.source == "lesion" and f.ref.ref_id == target.lesion.finding_id]


def _imaging_refs(target: ChainTarget, index: FactIndex, fields: tuple[str, ...]) -> list[EvidenceRef]:
    ids = {lesion.lesion_id for lesion in target.imaging_lesions}
    return [f.ref for f in index.facts if f.ref.kind == "imaging" and f.ref.ref_id in ids and f.ref.field in fields]


def _finding_steps(builder: ChainBuilder, target: ChainTarget, index: FactIndex, phraser: Phraser, certainty: float, hints: RepairHints) -> list[ReasoningStep]:
    """Add the steps of the lesion's own findings: location, attributes, signs and (for the primary lesion) vessels."""
    kg = builder.kg
    facts = _lesion_facts(target, index)
    steps = _location_steps(builder, target, index, facts, phraser, certainty, hints)

    # A report may state one finding twice ("multiple" and a count of 3), so facts are grouped by the node they name.
    by_node: dict[str, list[Fact]] = {}
    for name in ATTRIBUTE_ORDER:
        for fact in [f for f in facts if f.ref.field == name]:
            node = fact.node or _count_node(kg, fact)
            if node and not kg_paths.is_spread_finding(kg, node):
                by_node.setdefault(node, []).append(fact)
    for node, node_facts in by_node.items():
        edge = kg_paths.lesion_finding_edge(kg, node)
        if edge is None:
            continue
        kind = "feature" if edge.predicate in ("has_feature", "has_context") else "attribute"
        sentence = phraser.say(kind, edge.edge_id, value=kg_paths.node_name(kg, node))
        steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in node_facts], certainty))

    if target.primary:
        steps += _vessel_steps(builder, target, index, phraser, certainty)
    return steps


def _location_steps(builder, target, index, facts, phraser, certainty, hints) -> list[ReasoningStep]:
    kg = builder.kg
    regions = [f for f in facts if f.ref.field == "subregions" and f.node]
    organ_fact = next((f for f in facts if f.ref.field == "organ"), None)
    if hints.preferred_section:
        preferred = [f for f in regions if f.ref.span is not None and f.ref.span.section == hints.preferred_section]
        regions = preferred or regions
    size = next((f for f in facts if f.ref.field == "max_diameter_mm"), None)
    size_text = f"{size.ref.value} mm " if size else ""
    imaging = _imaging_refs(target, index, ("max_axial_diameter_mm", "bbox_norm_xyz", "subregion"))
    organ_box = [f.ref for f in index.facts if f.ref.kind == "imaging" and f.ref.ref_id == f"organ:{target.organ}" and f.ref.field == "bbox_norm_xyz"]
    extra = [ref for ref in hints.extra_features if ref.kind == "imaging"]
    shared = ([size.ref] if size else []) + imaging + organ_box + extra

    steps = []
    for fact in regions or [organ_fact]:
        region = fact.node if fact else kg_paths.organ_node(kg)
        edge = kg_paths.location_edge(kg, region)
        if edge is None:
            continue
        sentence = phraser.say("location", edge.edge_id, size=size_text, region=kg_paths.node_name(kg, region))
        evidence = ([fact.ref] if fact else []) + shared
        steps.append(builder.add("finding", "F", edge, sentence, evidence, certainty))
    return steps


def _count_node(kg: OrganKG, fact: Fact) -> str | None:
    if fact.ref.field == "count":
        form = "single" if fact.ref.value == "1" else "multiple"
    elif fact.ref.field == "multiple":
        form = "multiple"
    else:
        return None
    return kg_paths.resolve_first(kg, (form,), "finding")


ORGAN_LEVEL_SOURCES = ("vessel", "invasion", "node", "metastasis")


def _organ_facts(index: FactIndex, organ: str, field_names: tuple[str, ...]) -> list[Fact]:
    """Report facts of vessels, invasions, nodes or metastases of ``organ`` (or of no named organ)."""
    return [f for f in index.facts if f.source in ORGAN_LEVEL_SOURCES and f.ref.field in field_names and f.organ in (organ, None)]


def _vessel_steps(builder, target, index, phraser, certainty) -> list[ReasoningStep]:
    kg = builder.kg
    by_finding: dict[str, list[Fact]] = {}
    relations = [f for f in _organ_facts(index, target.organ, ("relation",))]
    for relation in relations:
        node = kg_paths.vessel_finding(kg, relation.ref.value)
        if node is not None:
            by_finding.setdefault(node, []).append(relation)
    steps = []
    for node, facts in by_finding.items():
        edge = kg_paths.lesion_finding_edge(kg, node)
        if edge is None:
            continue
        vessel_facts = [v for f in facts for v in index.facts if v.ref.ref_id == f.ref.ref_id and v.ref.field == "vessel"]
        names = [kg_paths.node_name(kg, t.node_id) if (t := kg.resolve(v.ref.value, "structure")) else v.ref.value.replace("_", " ") for v in vessel_facts]
        sentence = phraser.say("vessel", edge.edge_id, value=kg_paths.node_name(kg, node), vessel=" and ".join(dict.fromkeys(names)) or "vessel")
        steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in facts] + [v.ref for v in vessel_facts], certainty))
    return steps


def _suspicious_node_facts(index: FactIndex, organ: str) -> list[Fact]:
    """Return the count and suspicion facts of the organ's non-negated lymph nodes that the report calls suspicious."""
    facts = _organ_facts(index, organ, ("count", "suspicious"))
    suspicious = {f.ref.ref_id for f in facts if f.ref.field == "suspicious" and f.ref.value == "true"}
    return [f for f in facts if f.ref.ref_id in suspicious]


def _node_count(facts: list[Fact]) -> int | None:
    """Return the number of suspicious nodes when every suspicious node finding states its count, else None."""
    counts = {f.ref.ref_id: f.ref.value for f in facts if f.ref.field == "count"}
    groups = {f.ref.ref_id for f in facts}
    if not groups or set(counts) != groups:
        return None
    return sum(int(float(value)) for value in counts.values())


def _organ_spread_nodes(kg: OrganKG, target: ChainTarget, index: FactIndex) -> tuple[str, ...]:
    """Return the node and distant-lesion findings the primary lesion's chain may state."""
    if not target.primary:
        return ()
    nodes = []
    if _suspicious_node_facts(index, target.organ):
        nodes.append(kg_paths.resolve_first(kg, kg_paths.NODE_FORMS, "finding"))
    nodes += [kg_paths.metastasis_finding(kg, f.ref.value) for f in _organ_facts(index, target.organ, ("site",))]
    return tuple(dict.fromkeys(node for node in nodes if node))


def _spread_steps(builder, target, index, phraser, certainty) -> list[ReasoningStep]:
    """Add the staging-context steps: the lesion's spread signs, and the organ's suspicious nodes and distant lesions."""
    kg = builder.kg
    steps = []
    spread_signs: dict[str, list[Fact]] = {}
    for fact in _lesion_facts(target, index):
        if fact.ref.field == "signs" and fact.node and kg_paths.is_spread_finding(kg, fact.node):
            spread_signs.setdefault(fact.node, []).append(fact)

    node_facts = _suspicious_node_facts(index, target.organ) if target.primary else []
    lymph = kg_paths.resolve_first(kg, kg_paths.NODE_FORMS, "finding")
    if node_facts and lymph and (edge := kg_paths.lesion_finding_edge(kg, lymph)):
        count = _node_count(node_facts)
        sentence = phraser.say("nodes", edge.edge_id, count=f"{count} " if count else "")
        steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in node_facts + spread_signs.pop(lymph, [])], certainty))

    by_finding: dict[str, list[Fact]] = {}
    for site in _organ_facts(index, target.organ, ("site",)) if target.primary else []:
        if distant := kg_paths.metastasis_finding(kg, site.ref.value):
            by_finding.setdefault(distant, []).append(site)
    for distant, sites in by_finding.items():
        if edge := kg_paths.lesion_finding_edge(kg, distant):
            names = ", ".join(dict.fromkeys(f.ref.value.replace("_", " ") for f in sites))
            evidence = [f.ref for f in sites + spread_signs.pop(distant, [])]
            steps.append(builder.add("finding", "F", edge, phraser.say("metastasis", edge.edge_id, site=names), evidence, certainty))

    for node, facts in spread_signs.items():
        if edge := kg_paths.lesion_finding_edge(kg, node):
            sentence = phraser.say("feature", edge.edge_id, value=kg_paths.node_name(kg, node))
            steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in facts], certainty))
    return steps


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
        sentence = phraser.say("impression", edge.edge_id, finding=kg_paths.node_name(kg, edge.subject), impression=kg_paths.node_name(kg, impression))
        builder.add("impression", "Im", edge, sentence, [kg_ref] + report_refs, strength * certainty)


def _staging_steps(builder, target, index, impression, sources, phraser, certainty) -> StageResult | None:
    kg = builder.kg
    table = kg_paths.staging_table(kg, impression)
    if table is None:
        return None
    stage = expected_stage(target.organ, sources.report, sources.pathology, kg, table)
    if stage is None:
        return None
    for rule_id in stage.rules:
        axis = rule_axis(kg, rule_id)
        category = getattr(stage, axis)
        edge = kg_paths.edge_between(kg, impression, f"stage:{category}", "staged_as")
        if edge is None:
            continue
        facts = _rule_evidence(kg, rule_id, target, index, fact_sources(target.organ, sources.report, sources.pathology, kg))
        reason = _reason(kg, axis, facts)
        sentence = phraser.say(f"stage_{axis}", axis, category=category, reason=f", {reason}" if reason else "", reason_lead=f"{reason[:1].upper()}{reason[1:]}, " if reason else "")
        kg_ref = EvidenceRef(kind="kg", ref_id=f"rule:{rule_id}", field="category", value=category)
        builder.add("pathology", "P", edge, sentence, [kg_ref] + [f.ref for f in facts], certainty)
    return stage


def _rule_evidence(kg: OrganKG, rule_id: str, target: ChainTarget, index: FactIndex, origin: dict[str, str]) -> list[Fact]:
    """Return the facts a fired rule read, from the pathology report where its values won, else from the radiology report."""
    used = kg_paths.rule_facts(kg, rule_id)
    from_pathology = {name for key in used if origin.get(key) == "pathology" for name in PATHOLOGY_FACT_FIELDS.get(key, ())}
    fields = {name for key in used if origin.get(key) != "pathology" for name in RULE_FACT_FIELDS.get(key, ())}
    lesion_fields = {"max_diameter_mm", "count", "multiple"} & fields
    found = [f for f in _lesion_facts(target, index) if f.ref.field in lesion_fields]
    found += _organ_facts(index, target.organ, tuple(fields - {"max_diameter_mm", "multiple"}))
    found += [f for f in index.facts if f.source == "pathology" and f.ref.field in from_pathology]
    return found


def _reason(kg: OrganKG, axis: str, facts: list[Fact]) -> str:
    sizes = [f.ref.value for f in facts if f.ref.field in ("max_diameter_mm", "tumor_size_mm")]
    vessels = [f.ref.value.replace("_", " ") for f in facts if f.ref.field in ("vessel", "structure", "invaded_structures")]
    counts = [f.ref.value for f in facts if (f.ref.field == "count" and f.source == "node") or f.ref.field == "nodes_positive"]
    sites = [f.ref.value.replace("_", " ") for f in facts if f.ref.field == "site"]
    if axis == "T" and vessels:
        return "because it involves the " + " and ".join(dict.fromkeys(vessels))
    if axis == "T" and sizes:
        return f"because it measures {sizes[0]} mm"
    if axis == "N" and counts:
        return f"with {counts[0]} positive regional nodes"
    if axis == "M" and sites:
        return "with metastasis to the " + ", ".join(dict.fromkeys(sites))
    return ""


def _normal_steps(builder: ChainBuilder, target: ChainTarget, index: FactIndex, phraser: Phraser) -> None:
    kg = builder.kg
    organ = kg_paths.organ_node(kg)
    edge = kg_paths.location_edge(kg, organ)
    evidence = [f.ref for f in index.facts if f.ref.ref_id == "organs_normal" and f.ref.value == target.organ]
    evidence += [f.ref for f in index.facts if f.ref.kind == "imaging" and f.ref.ref_id == f"organ:{target.organ}" and f.ref.field in ("present", "volume_ml")]
    confidence = 1.0 if target.normal_source == "report" else MASK_ONLY_NORMAL_CONFIDENCE
    builder.add("finding", "F", edge, phraser.say("normal", edge.edge_id, organ=kg_paths.node_name(kg, organ)), evidence, confidence)


def _unique(refs: list[EvidenceRef]) -> list[EvidenceRef]:
    seen, out = set(), []
    for ref in refs:
        key = (ref.kind, ref.ref_id, ref.field, ref.value)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return out
