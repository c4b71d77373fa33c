"""``kg diff``: what an edit of an organ file adds, removes or changes, in clinical terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kg.conditions import describe
from kg.model import OrganKG


@dataclass(frozen=True, order=True)
class Change:
    """One difference between two versions of an organ KG."""

    section: str
    action: str
    subject: str
    detail: str

    def __str__(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.action]
        return f"{sign} {self.section}: {self.subject}: {self.detail}"


def diff_kgs(old: OrganKG, new: OrganKG) -> list[Change]:
    """Return every node, edge, synonym and rule change from ``old`` to ``new``."""
    changes: list[Change] = []
    if old.file_version != new.file_version:
        changes.append(Change("file", "changed", "version", f"{old.file_version} -> {new.file_version}"))
    elif old.version != new.version:
        changes.append(Change("file", "changed", "version", f"content changed but 'version' is still {new.file_version}; bump it"))
    changes += _diff_nodes(old, new)
    changes += _diff_synonyms(old, new)
    changes += _diff_edges(old, new)
    changes += _diff_rules(old, new)
    return changes


def _label(kg: OrganKG, node: str) -> str:
    data = kg.graph.nodes[node]
    return f"{data['kind'].replace('_', ' ')} '{data.get('name', node)}'"


_SKIPPED_NODE_KINDS = {"rule", "fact"}
_NODE_FIELDS = ("name", "behaviour", "histology", "group", "attribute", "snomed", "totalseg", "staging_table", "order")


def _diff_nodes(old: OrganKG, new: OrganKG) -> list[Change]:
    changes: list[Change] = []
    old_nodes = {n for n, d in old.graph.nodes(data=True) if d["kind"] not in _SKIPPED_NODE_KINDS}
    new_nodes = {n for n, d in new.graph.nodes(data=True) if d["kind"] not in _SKIPPED_NODE_KINDS}
    for node in sorted(new_nodes - old_nodes):
        changes.append(Change("node", "added", _label(new, node), f"id {node}"))
    for node in sorted(old_nodes - new_nodes):
        changes.append(Change("node", "removed", _label(old, node), f"id {node}"))
    for node in sorted(old_nodes & new_nodes):
        a, b = old.graph.nodes[node], new.graph.nodes[node]
        for key in _NODE_FIELDS:
            if a.get(key) != b.get(key):
                changes.append(Change("node", "changed", _label(new, node), f"{key} {a.get(key)!r} -> {b.get(key)!r}"))
    return changes


def _diff_synonyms(old: OrganKG, new: OrganKG) -> list[Change]:
    changes: list[Change] = []
    for node in sorted(set(old.graph) & set(new.graph)):
        a = old.graph.nodes[node].get("synonyms") or {}
        b = new.graph.nodes[node].get("synonyms") or {}
        for lang in sorted(set(a) | set(b)):
            before, after = set(a.get(lang, [])), set(b.get(lang, []))
            for form in sorted(after - before):
                changes.append(Change("synonym", "added", _label(new, node), f"{lang} '{form}'"))
            for form in sorted(before - after):
                changes.append(Change("synonym", "removed", _label(new, node), f"{lang} '{form}'"))
    return changes


_EDGE_WORDS = {
    "suggests": "supports", "contradicts": "contradicts", "adjacent_to": "is next to", "part_of": "is part of",
    "differential_of": "has in its differential", "has_endpoint": "has behaviour", "histology": "has histology",
    "subtype_of": "is a subtype of", "located_in": "may be located in", "staged_by": "is staged by the table",
}


def _edge_text(kg: OrganKG, u: str, predicate: str, v: str) -> str:
    verb = _EDGE_WORDS.get(predicate, predicate.replace("_", " "))
    return f"{_label(kg, u)} {verb} {_label(kg, v)}"


def _edge_map(kg: OrganKG) -> dict[str, tuple[str, str, str, dict[str, Any]]]:
    skipped = {"has_rule", "assigns", "uses_fact", "refers_to", "staged_as"}
    return {
        data["edge_id"]: (u, data["predicate"], v, data)
        for u, v, data in kg.graph.edges(data=True)
        if data["predicate"] not in skipped
    }


def _diff_edges(old: OrganKG, new: OrganKG) -> list[Change]:
    changes: list[Change] = []
    a, b = _edge_map(old), _edge_map(new)
    for edge_id in sorted(set(b) - set(a)):
        u, p, v, data = b[edge_id]
        changes.append(Change("edge", "added", _edge_text(new, u, p, v), _strength(data)))
    for edge_id in sorted(set(a) - set(b)):
        u, p, v, data = a[edge_id]
        changes.append(Change("edge", "removed", _edge_text(old, u, p, v), _strength(data)))
    for edge_id in sorted(set(a) & set(b)):
        before, after = a[edge_id][3].get("strength"), b[edge_id][3].get("strength")
        if before != after:
            u, p, v, _ = b[edge_id]
            changes.append(Change("edge", "changed", _edge_text(new, u, p, v), f"strength {before} -> {after}"))
    return changes


def _strength(data: dict[str, Any]) -> str:
    return f"strength {data['strength']}" if "strength" in data else f"edge {data['edge_id']}"


def _rule_map(kg: OrganKG) -> dict[str, tuple[str, str, Any, int]]:
    rules = {}
    for table in kg.tables:
        for axis_rules in table.rules.values():
            for order, rule in enumerate(axis_rules):
                rules[rule.id] = (table.id, rule.category, rule.when, order)
    return rules


def _diff_rules(old: OrganKG, new: OrganKG) -> list[Change]:
    changes: list[Change] = []
    a, b = _rule_map(old), _rule_map(new)
    for rule_id in sorted(set(b) - set(a)):
        table, category, when, _ = b[rule_id]
        changes.append(Change("rule", "added", f"{rule_id} ({table} {category})", f"when {describe(when)}"))
    for rule_id in sorted(set(a) - set(b)):
        table, category, when, _ = a[rule_id]
        changes.append(Change("rule", "removed", f"{rule_id} ({table} {category})", f"when {describe(when)}"))
    for rule_id in sorted(set(a) & set(b)):
        (t0, c0, w0, o0), (t1, c1, w1, o1) = a[rule_id], b[rule_id]
        subject = f"{rule_id} ({t1} {c1})"
        if c0 != c1:
            changes.append(Change("rule", "changed", subject, f"category {c0} -> {c1}"))
        if w0 != w1:
            changes.append(Change("rule", "changed", subject, f"condition was '{describe(w0)}', now '{describe(w1)}'"))
        if o0 != o1:
            changes.append(Change("rule", "changed", subject, f"precedence {o0 + 1} -> {o1 + 1} (rules are tried top to bottom)"))
        if t0 != t1:
            changes.append(Change("rule", "changed", subject, f"moved from table {t0} to {t1}"))
    return changes
