"""Finding steps of a lesion chain: location, attributes, count, vessels, and the staging context of nodes and distant lesions.

Every function adds steps to a ``ChainBuilder`` of ``engine.reasoning.rules_backend``
and returns them. A step cites the extracted facts it states.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data_contracts import EvidenceRef, ReasoningStep
from engine.reasoning import kg_paths, sentences
from engine.reasoning.evidence import Fact, FactIndex
from engine.reasoning.finding_words import FindingWords, finding_words
from engine.reasoning.hints import RepairHints
from engine.reasoning.phrasing import Phraser
from engine.reasoning.targets import ChainTarget
from kg import OrganKG

if TYPE_CHECKING:
    from engine.reasoning.rules_backend import ChainBuilder

ATTRIBUTE_ORDER = ("density", "enhancement", "shape", "boundary", "count", "multiple", "signs")
ORGAN_LEVEL_SOURCES = ("vessel", "invasion", "node", "metastasis")
COUNT_NODES = ("finding:single", "finding:multiple")


def lesion_facts(target: ChainTarget, index: FactIndex) -> list[Fact]:
    """Return the report facts of the target's lesion."""
    return [f for f in index.facts if f.source == "lesion" and f.ref.ref_id == target.lesion.finding_id]


def organ_facts(index: FactIndex, organ: str, field_names: tuple[str, ...]) -> list[Fact]:
    """Return report facts of vessels, invasions, nodes or metastases of ``organ`` (or of no named organ)."""
    return [f for f in index.facts if f.source in ORGAN_LEVEL_SOURCES and f.ref.field in field_names and f.organ in (organ, None)]


def words_for(kg: OrganKG, node: str) -> FindingWords:
    """Return the grammatical forms of the KG finding ``node``."""
    data = kg.graph.nodes.get(node, {})
    return finding_words(str(data.get("attribute", "")), kg_paths.local_id(node), kg_paths.node_name(kg, node))


def finding_steps(builder: ChainBuilder, target: ChainTarget, index: FactIndex, phraser: Phraser, certainty: float, hints: RepairHints) -> list[ReasoningStep]:
    """Add the steps of the lesion's own findings: location, attributes, count, signs and (for the primary lesion) vessels."""
    kg = builder.kg
    facts = lesion_facts(target, index)
    by_node = _facts_by_node(kg, facts)
    several = "finding:multiple" in by_node
    steps = _location_steps(builder, target, index, facts, phraser, certainty, hints, several)

    for node, node_facts in by_node.items():
        edge = kg_paths.lesion_finding_edge(kg, node)
        if edge is None:
            continue
        if node in COUNT_NODES:
            number = max((int(float(f.ref.value)) for f in node_facts if f.ref.field == "count"), default=None)
            sentence = sentences.count(phraser, edge.edge_id, kg_paths.local_id(node), number)
        else:
            sentence = sentences.finding(phraser, edge.edge_id, kg_paths.local_id(node), words_for(kg, node), edge.predicate)
        steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in node_facts], certainty))

    if target.primary:
        steps += _vessel_steps(builder, target, index, phraser, certainty)
    return steps


def _facts_by_node(kg: OrganKG, facts: list[Fact]) -> dict[str, list[Fact]]:
    """Group the lesion's attribute facts by the KG finding they name, in attribute order, without spread findings.

    A report may state one finding twice ('multiple' and a count of 3), which
    gives one step. A report that calls the lesion both single and multiple
    gives no count step, because its count is unknown.
    """
    by_node: dict[str, list[Fact]] = {}
    for name in ATTRIBUTE_ORDER:
        for fact in [f for f in facts if f.ref.field == name]:
            node = fact.node or _count_node(kg, fact)
            if node and not kg_paths.is_spread_finding(kg, node):
                by_node.setdefault(node, []).append(fact)
    if all(node in by_node for node in COUNT_NODES):
        for node in COUNT_NODES:
            del by_node[node]
    return by_node


def _count_node(kg: OrganKG, fact: Fact) -> str | None:
    if fact.ref.field == "count":
        form = "single" if fact.ref.value == "1" else "multiple"
    elif fact.ref.field == "multiple":
        form = "multiple"
    else:
        return None
    return kg_paths.resolve_first(kg, (form,), "finding")


def _imaging_refs(target: ChainTarget, index: FactIndex, fields: tuple[str, ...]) -> list[EvidenceRef]:
    ids = {lesion.lesion_id for lesion in target.imaging_lesions}
    return [f.ref for f in index.facts if f.ref.kind == "imaging" and f.ref.ref_id in ids and f.ref.field in fields]


def _location_steps(builder, target, index, facts, phraser, certainty, hints, several) -> list[ReasoningStep]:
    """Add one step per subregion (or one for the organ); the first sentence states the size, later ones the extent."""
    kg = builder.kg
    regions = [f for f in facts if f.ref.field == "subregions" and f.node]
    organ_fact = next((f for f in facts if f.ref.field == "organ"), None)
    if hints.preferred_section:
        preferred = [f for f in regions if f.ref.span is not None and f.ref.span.section == hints.preferred_section]
        regions = preferred or regions
    size = next((f for f in facts if f.ref.field == "max_diameter_mm"), None)
    imaging = _imaging_refs(target, index, ("max_axial_diameter_mm", "bbox_norm_xyz", "subregion"))
    organ_box = [f.ref for f in index.facts if f.ref.kind == "imaging" and f.ref.ref_id == f"organ:{target.organ}" and f.ref.field == "bbox_norm_xyz"]
    extra = [ref for ref in hints.extra_features if ref.kind == "imaging"]
    shared = ([size.ref] if size else []) + imaging + organ_box + extra
    organ_name = kg_paths.node_name(kg, kg_paths.organ_node(kg))

    steps = []
    for fact in regions or [organ_fact]:
        region = fact.node if fact else kg_paths.organ_node(kg)
        edge = kg_paths.location_edge(kg, region)
        if edge is None:
            continue
        subregion = kg_paths.node_name(kg, region) if region.startswith("subregion:") else None
        place = sentences.region_phrase(target.organ, organ_name, subregion)
        if steps:
            sentence = sentences.further_location(phraser, edge.edge_id, place, several)
        else:
            sentence = sentences.location(phraser, edge.edge_id, place, float(size.ref.value) if size else None)
        evidence = ([fact.ref] if fact else []) + shared
        steps.append(builder.add("finding", "F", edge, sentence, evidence, certainty))
    return steps


def structure_name(kg: OrganKG, value: str) -> str:
    """Return the KG name of a structure id or synonym ('cha' -> 'common hepatic artery'), else the value in words."""
    term = kg.resolve(value, "structure")
    return kg_paths.node_name(kg, term.node_id) if term is not None else value.replace("_", " ")


def _vessel_steps(builder, target, index, phraser, certainty) -> list[ReasoningStep]:
    """Add one step per KG vessel finding, naming each vessel with its relation to the tumour."""
    kg = builder.kg
    by_finding: dict[str, list[Fact]] = {}
    for relation in organ_facts(index, target.organ, ("relation",)):
        node = kg_paths.vessel_finding(kg, relation.ref.value)
        if node is not None:
            by_finding.setdefault(node, []).append(relation)
    steps = []
    for node, relations in by_finding.items():
        edge = kg_paths.lesion_finding_edge(kg, node)
        if edge is None:
            continue
        vessel_facts = [v for f in relations for v in index.facts if v.ref.ref_id == f.ref.ref_id and v.ref.field == "vessel"]
        named: dict[str, list[str]] = {}
        for relation in relations:
            vessels = [structure_name(kg, v.ref.value) for v in vessel_facts if v.ref.ref_id == relation.ref.ref_id]
            named.setdefault(relation.ref.value, [])
            named[relation.ref.value] += [name for name in vessels if name not in named[relation.ref.value]]
        pairs = [(relation, names or ["adjacent vessel"]) for relation, names in named.items()]
        sentence = sentences.vessels(phraser, edge.edge_id, pairs)
        steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in relations] + [v.ref for v in vessel_facts], certainty))
    return steps


def suspicious_node_facts(index: FactIndex, organ: str) -> list[Fact]:
    """Return the count and suspicion facts of the organ's non-negated lymph nodes that the report calls suspicious."""
    facts = organ_facts(index, organ, ("count", "suspicious"))
    suspicious = {f.ref.ref_id for f in facts if f.ref.field == "suspicious" and f.ref.value == "true"}
    return [f for f in facts if f.ref.ref_id in suspicious]


def _node_count(facts: list[Fact]) -> int | None:
    """Return the number of suspicious nodes when every suspicious node finding states its count, else None."""
    counts = {f.ref.ref_id: f.ref.value for f in facts if f.ref.field == "count"}
    groups = {f.ref.ref_id for f in facts}
    if not groups or set(counts) != groups:
        return None
    return sum(int(float(value)) for value in counts.values())


def organ_spread_nodes(kg: OrganKG, target: ChainTarget, index: FactIndex) -> tuple[str, ...]:
    """Return the node and distant-lesion findings the primary lesion's chain may state."""
    if not target.primary:
        return ()
    nodes = []
    if suspicious_node_facts(index, target.organ):
        nodes.append(kg_paths.resolve_first(kg, kg_paths.NODE_FORMS, "finding"))
    nodes += [kg_paths.metastasis_finding(kg, f.ref.value) for f in organ_facts(index, target.organ, ("site",))]
    return tuple(dict.fromkeys(node for node in nodes if node))


def spread_steps(builder, target, index, phraser, certainty) -> list[ReasoningStep]:
    """Add the staging-context steps: the lesion's spread signs, and the organ's suspicious nodes and distant lesions."""
    kg = builder.kg
    steps = []
    spread_signs: dict[str, list[Fact]] = {}
    for fact in lesion_facts(target, index):
        if fact.ref.field == "signs" and fact.node and kg_paths.is_spread_finding(kg, fact.node):
            spread_signs.setdefault(fact.node, []).append(fact)

    node_facts = suspicious_node_facts(index, target.organ) if target.primary else []
    lymph = kg_paths.resolve_first(kg, kg_paths.NODE_FORMS, "finding")
    if node_facts and lymph and (edge := kg_paths.lesion_finding_edge(kg, lymph)):
        sentence = sentences.nodes(phraser, edge.edge_id, _node_count(node_facts))
        steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in node_facts + spread_signs.pop(lymph, [])], certainty))

    by_finding: dict[str, list[Fact]] = {}
    for site in organ_facts(index, target.organ, ("site",)) if target.primary else []:
        if distant := kg_paths.metastasis_finding(kg, site.ref.value):
            by_finding.setdefault(distant, []).append(site)
    for distant, sites in by_finding.items():
        if edge := kg_paths.lesion_finding_edge(kg, distant):
            names = list(dict.fromkeys(structure_name(kg, f.ref.value) for f in sites))
            evidence = [f.ref for f in sites + spread_signs.pop(distant, [])]
            steps.append(builder.add("finding", "F", edge, sentences.metastases(phraser, edge.edge_id, names), evidence, certainty))

    for node, facts in spread_signs.items():
        if edge := kg_paths.lesion_finding_edge(kg, node):
            sentence = sentences.finding(phraser, edge.edge_id, kg_paths.local_id(node), words_for(kg, node), edge.predicate)
            steps.append(builder.add("finding", "F", edge, sentence, [f.ref for f in facts], certainty))
    return steps
