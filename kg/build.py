"""Build the typed ``networkx.MultiDiGraph`` and the compiled staging tables of a checked organ file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import networkx as nx

from kg.checks import make_resolver
from kg.conditions import compile_condition, facts_of, referenced_ids
from kg.model import CompiledRule, CompiledTable, OrganKG
from kg.schema import BEHAVIOURS, FACTS, OrganFile, node_id
from kg.terms import TermIndex, build_index, stage_categories

HASH_LENGTH = 16


def content_hash(doc: OrganFile) -> str:
    """Return a short hex hash of the file's meaning: comments, whitespace and key order do not change it."""
    canonical = json.dumps(doc.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def build_organ(doc: OrganFile, path: Path | None = None) -> OrganKG:
    """Build an ``OrganKG`` from a file that passed every check."""
    index = build_index(doc)
    resolver = make_resolver(doc, index)
    tables = tuple(_compile_table(table, resolver) for table in doc.staging.tables)
    graph = _build_graph(doc, index, tables)
    return OrganKG(
        organ=doc.organ, version=content_hash(doc), file_version=doc.version, source=doc.source, path=path,
        doc=doc, graph=graph, index=index, tables=tables, resolver=resolver,
    )


def _compile_table(table, resolver) -> CompiledTable:
    rules = {
        axis: tuple(CompiledRule(r.id, axis, r.category, compile_condition(r.when, resolver), r.note) for r in getattr(table, axis))
        for axis in ("T", "N", "M")
    }
    applies = compile_condition(table.applies_when, resolver) if table.applies_when else None
    return CompiledTable(table.id, table.title, table.default, applies, rules)


class _GraphBuilder:
    def __init__(self, index: TermIndex) -> None:
        self.graph = nx.MultiDiGraph()
        self.index = index

    def term_node(self, kind: str, spec_id: str, **attrs) -> str:
        term = self.index.terms[(kind, spec_id)]
        synonyms = {lang: list(forms) for lang, forms in term.synonyms.items()}
        self.graph.add_node(term.node_id, kind=kind, id=spec_id, name=term.name, synonyms=synonyms, **attrs)
        return term.node_id

    def edge(self, u: str, predicate: str, v: str, **attrs) -> None:
        edge_id = f"{u}|{predicate}|{v}"
        self.graph.add_edge(u, v, key=edge_id, predicate=predicate, edge_id=edge_id, **attrs)


def _build_graph(doc: OrganFile, index: TermIndex, tables: tuple[CompiledTable, ...]) -> nx.MultiDiGraph:
    b = _GraphBuilder(index)
    b.graph.graph.update(organ=doc.organ, file_version=doc.version, source=doc.source)
    _add_anatomy(b, doc)
    _add_findings(b, doc)
    _add_impressions(b, doc)
    _add_staging(b, doc, tables)
    return b.graph


def _add_anatomy(b: _GraphBuilder, doc: OrganFile) -> None:
    organ = b.term_node("organ", doc.organ, snomed=doc.snomed, totalseg_label=doc.totalsegmentator.get("total", {}).get(doc.organ))
    lesion = b.term_node("lesion", doc.lesion.id)
    b.edge(lesion, "located_in", organ)
    for spec in doc.structures:
        b.term_node("structure", spec.id, group=spec.group, snomed=spec.snomed, totalseg=spec.totalseg)
    for spec in doc.subregions:
        b.term_node("subregion", spec.id, snomed=spec.snomed, totalseg=spec.totalseg)
    for spec in doc.subregions:
        sub = node_id("subregion", spec.id)
        parent = node_id("subregion", spec.part_of) if spec.part_of else organ
        b.edge(organ, "has_subregion", sub)
        b.edge(sub, "part_of", parent)
        b.edge(lesion, "located_in", sub)
        for name in spec.neighbours:
            kind = "subregion" if ("subregion", name) in b.index.terms else "structure"
            b.edge(sub, "adjacent_to", node_id(kind, name))
    for name in doc.neighbours:
        b.edge(organ, "adjacent_to", node_id("structure", name))
    for order, spec in enumerate(doc.layers):
        layer = b.term_node("layer", spec.id, order=order)
        b.edge(organ, "has_layer", layer)


def _add_findings(b: _GraphBuilder, doc: OrganFile) -> None:
    lesion = node_id("lesion", doc.lesion.id)
    for attribute, spec in doc.findings.items():
        predicate = doc.attribute_predicate(attribute)
        for term in spec.terms:
            finding = b.term_node("finding", term.id, attribute=attribute)
            b.edge(lesion, predicate, finding, attribute=attribute)


def _add_impressions(b: _GraphBuilder, doc: OrganFile) -> None:
    for behaviour in BEHAVIOURS:
        b.term_node("endpoint", behaviour, endpoint_type="behaviour")
    for spec in doc.endpoints:
        histology = b.term_node("endpoint", spec.id, endpoint_type="histology", behaviour=spec.behaviour)
        b.edge(histology, "is_a", node_id("endpoint", spec.behaviour))
    for imp in doc.impressions:
        b.term_node("impression", imp.id, behaviour=imp.behaviour, histology=imp.histology, staging_table=imp.staging_table)
    for imp in doc.impressions:
        node = node_id("impression", imp.id)
        b.edge(node, "has_endpoint", node_id("endpoint", imp.behaviour))
        b.edge(node, "histology", node_id("endpoint", imp.histology))
        for evidence in imp.supports:
            b.edge(node_id("finding", evidence.finding), "suggests", node, strength=evidence.strength)
        for evidence in imp.contradicts:
            b.edge(node_id("finding", evidence.finding), "contradicts", node, strength=evidence.strength)
        for other in imp.differential:
            b.edge(node, "differential_of", node_id("impression", other))
        if imp.subtype_of:
            b.edge(node, "subtype_of", node_id("impression", imp.subtype_of))


def _add_staging(b: _GraphBuilder, doc: OrganFile, tables: tuple[CompiledTable, ...]) -> None:
    for category in stage_categories(doc):
        b.term_node("stage_category", category, axis=category[0])
    table_categories: dict[str, list[str]] = {}
    for table in tables:
        t_node = b.term_node("table", table.id, default=table.default)
        categories = ["TX", "NX", "MX"]
        for axis in ("T", "N", "M"):
            for order, rule in enumerate(table.rules[axis]):
                _add_rule(b, t_node, rule, order)
                if rule.category not in categories:
                    categories.append(rule.category)
        table_categories[table.id] = categories
    for imp in doc.impressions:
        if imp.staging_table:
            node = node_id("impression", imp.id)
            b.edge(node, "staged_by", node_id("table", imp.staging_table))
            for category in table_categories[imp.staging_table]:
                b.edge(node, "staged_as", node_id("stage_category", category), table=imp.staging_table)


def _add_rule(b: _GraphBuilder, table_node: str, rule: CompiledRule, order: int) -> None:
    rule_node = node_id("rule", rule.id)
    b.graph.add_node(rule_node, kind="rule", id=rule.id, name=rule.id, axis=rule.axis, category=rule.category, precedence=order, note=rule.note, when=dict(rule.when))
    b.edge(table_node, "has_rule", rule_node, precedence=order)
    b.edge(rule_node, "assigns", node_id("stage_category", rule.category))
    for fact in facts_of(rule.when):
        fact_node = node_id("fact", fact)
        if fact_node not in b.graph:
            spec = FACTS[fact]
            b.graph.add_node(fact_node, kind="fact", id=fact, name=fact, type=spec.type, unit=spec.unit, description=spec.description)
        b.edge(rule_node, "uses_fact", fact_node)
    kinds = {"structure_list": "structure", "layer": "layer", "histology": "endpoint"}
    for fact_type, ref in referenced_ids(rule.when):
        target = node_id(kinds[fact_type], ref)
        if not b.graph.has_edge(rule_node, target, key=f"{rule_node}|refers_to|{target}"):
            b.edge(rule_node, "refers_to", target)
