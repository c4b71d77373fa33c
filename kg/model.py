"""``OrganKG``: one organ's knowledge graph, its terms and the queries the engine runs on it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from kg.schema import FactSpec, OrganFile
from kg.terms import Term, TermIndex, normalize

if TYPE_CHECKING:
    from data_contracts.staging import StageResult

LESION_WORDS = ("lesion", "lesions", "mass", "masses", "tumour", "tumor", "nodule", "focus", "病变", "病灶", "肿块", "占位", "结节", "肿瘤")


@dataclass(frozen=True)
class Edge:
    """One typed edge; ``edge_id`` is ``subject|predicate|object`` of the node ids."""

    subject: str
    predicate: str
    object: str
    edge_id: str
    attrs: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def strength(self) -> float | None:
        return self.attrs.get("strength")


@dataclass(frozen=True)
class ImpressionInfo:
    """An impression with its behaviour, histology and weighted evidence."""

    id: str
    name: str
    behaviour: str
    histology: str
    supports: tuple[tuple[str, float], ...]
    contradicts: tuple[tuple[str, float], ...]
    differential: tuple[str, ...]
    staging_table: str | None
    subtype_of: str | None

    @property
    def category(self) -> str:
        """Behaviour endpoint: benign, premalignant or malignant."""
        return self.behaviour


@dataclass(frozen=True)
class RankedImpression:
    """An impression scored against a set of findings (sum of supporting minus contradicting strengths)."""

    impression: ImpressionInfo
    score: float
    supporting: tuple[str, ...]
    contradicting: tuple[str, ...]


@dataclass(frozen=True)
class CompiledRule:
    id: str
    axis: str
    category: str
    when: Mapping[str, Any]
    note: str | None


@dataclass(frozen=True)
class CompiledTable:
    id: str
    title: str
    default: bool
    applies_when: Mapping[str, Any] | None
    rules: Mapping[str, tuple[CompiledRule, ...]]


@dataclass
class OrganKG:
    """One organ's knowledge graph.

    ``version`` is the content hash stamped on generated samples; ``file_version`` is
    the semantic version clinicians write in the YAML file.
    """

    organ: str
    version: str
    file_version: str
    source: str
    path: Path | None
    doc: OrganFile
    graph: nx.MultiDiGraph
    index: TermIndex
    tables: tuple[CompiledTable, ...]
    resolver: Any = field(repr=False)

    @property
    def subregions(self) -> list[Term]:
        return [self.index.terms[("subregion", s.id)] for s in self.doc.subregions]

    @property
    def structures(self) -> list[Term]:
        return [self.index.terms[("structure", s.id)] for s in self.doc.structures]

    @property
    def layers(self) -> list[Term]:
        """Wall layers from the lumen outwards (hollow organs only)."""
        return [self.index.terms[("layer", s.id)] for s in self.doc.layers]

    @property
    def neighbours(self) -> tuple[str, ...]:
        """Structure ids next to the organ, used to expand a region during repair."""
        return tuple(self.doc.neighbours)

    @property
    def totalseg_labels(self) -> dict[str, int]:
        """TotalSegmentator task ``total`` class name -> label value."""
        return dict(self.doc.totalsegmentator.get("total", {}))

    @property
    def totalseg_tasks(self) -> dict[str, dict[str, int]]:
        return {task: dict(labels) for task, labels in self.doc.totalsegmentator.items()}

    @property
    def vocabulary(self) -> dict[str, list[Term]]:
        """Finding attribute -> its terms."""
        return {attr: [self.index.terms[("finding", t.id)] for t in spec.terms] for attr, spec in self.doc.findings.items()}

    @property
    def impressions(self) -> dict[str, ImpressionInfo]:
        return {imp.id: _impression_info(imp) for imp in self.doc.impressions}

    @property
    def lesion(self) -> Term:
        return self.index.terms[("lesion", self.doc.lesion.id)]

    @property
    def facts(self) -> dict[str, FactSpec]:
        """Fact keys the staging rules read, with their type, unit and meaning."""
        from kg.schema import FACTS

        return dict(FACTS)

    def resolve(self, text: str, kind: str | None = None, lang: str | None = None) -> Term | None:
        """Return the term that ``text`` names (case, spacing and hyphens ignored), or None.

        ``kind`` limits the search to one node kind; ``lang`` to the synonyms of one
        language (ids and English names count as ``en``).
        """
        if not isinstance(text, str) or not text.strip():
            return None
        term = self.index.lookup(text, kind)
        if term is None or lang is None:
            return term
        forms = list(term.synonyms.get(lang, ()))
        if lang == "en":
            forms += [term.name, term.id]
        key = normalize(text)
        return term if any(normalize(f) == key for f in forms) else None

    def synonym_index(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Return every ``(surface form, language) -> (kind, id)`` pair, for building text matchers.

        A surface form that names terms of several kinds maps to the term added first
        (the organ, then subregions, structures, layers, endpoints, impressions, findings).
        """
        return dict(self.index.surfaces)

    def node_candidates(self, text: str) -> list[str]:
        """Return the graph node ids that ``text`` may name: a node id, any term, or a lesion phrase."""
        if text in self.graph:
            return [text]
        key = normalize(text)
        owners = self.index.forms.get(key) or self.index.compact_forms.get(key.replace(" ", ""), [])
        nodes = [self.index.terms[c].node_id for c in owners]
        stage = self.index.lookup(text, "stage_category")
        if stage is not None and stage.node_id not in nodes:
            nodes.append(stage.node_id)
        if self._is_lesion_phrase(text) and self.lesion.node_id not in nodes:
            nodes.append(self.lesion.node_id)
        return nodes

    def _is_lesion_phrase(self, text: str) -> bool:
        key = normalize(text)
        for word in LESION_WORDS:
            if key.endswith(word) and key != word:
                stem = key[: -len(word)].strip()
                term = self.index.lookup(stem)
                if term is not None and term.kind in ("organ", "subregion"):
                    return True
        return False

    def find_edge(self, subject: str, predicate: str, object: str) -> Edge | None:
        """Return the edge ``subject --predicate--> object`` if the KG has it, else None.

        Subject and object may be node ids, term ids or any synonym; a phrase such as
        'pancreatic body lesion' names the organ's lesion node.
        """
        predicate = _normalize_predicate(predicate)
        for u in self.node_candidates(subject):
            for v in self.node_candidates(object):
                data = self.graph.get_edge_data(u, v) or {}
                for attrs in data.values():
                    if attrs["predicate"] == predicate:
                        return _edge(u, v, attrs)
        return None

    def edges(self, subject: str | None = None, predicate: str | None = None) -> list[Edge]:
        """Return edges, optionally only those from ``subject`` and/or with ``predicate``."""
        predicate = _normalize_predicate(predicate) if predicate else None
        sources: Iterable[str] = self.node_candidates(subject) if subject is not None else self.graph.nodes
        found = []
        for u in sources:
            for _, v, attrs in self.graph.out_edges(u, data=True):
                if predicate is None or attrs["predicate"] == predicate:
                    found.append(_edge(u, v, attrs))
        return found

    def supporting_findings(self, impression_id: str) -> list[tuple[str, float]]:
        """Return ``(finding id, strength)`` pairs that support the impression, strongest first."""
        return sorted(self._impression(impression_id).supports, key=lambda p: (-p[1], p[0]))

    def contradicting_findings(self, impression_id: str) -> list[tuple[str, float]]:
        """Return ``(finding id, strength)`` pairs that contradict the impression, strongest first."""
        return sorted(self._impression(impression_id).contradicts, key=lambda p: (-p[1], p[0]))

    def _impression(self, text: str) -> ImpressionInfo:
        term = self.resolve(text, "impression")
        if term is None:
            raise KeyError(f"unknown impression '{text}' in the {self.organ} KG; known: {', '.join(sorted(self.impressions))}")
        return self.impressions[term.id]

    def differential(self, finding_ids: Iterable[str]) -> list[RankedImpression]:
        """Rank impressions by how well ``finding_ids`` (ids or synonyms) support them.

        The score is the sum of supporting strengths minus the sum of contradicting
        strengths. Only impressions with at least one supporting finding are returned,
        best first.
        """
        findings = set()
        for text in finding_ids:
            term = self.resolve(text, "finding")
            if term is not None:
                findings.add(term.id)
        ranked = []
        for info in self.impressions.values():
            pro = tuple(f for f, _ in info.supports if f in findings)
            con = tuple(f for f, _ in info.contradicts if f in findings)
            if not pro:
                continue
            score = sum(s for f, s in info.supports if f in findings) - sum(s for f, s in info.contradicts if f in findings)
            ranked.append(RankedImpression(info, round(score, 6), pro, con))
        return sorted(ranked, key=lambda r: (-r.score, r.impression.id))

    def neighbours_of(self, region: str) -> list[str]:
        """Return ids of the subregions and structures next to ``region`` (organ or subregion).

        For a subregion that has no neighbours listed, the parent's neighbours are used.
        """
        term = self.resolve(region, "subregion") or self.resolve(region, "organ")
        if term is None:
            raise KeyError(f"unknown region '{region}' in the {self.organ} KG")
        if term.kind == "organ":
            return list(self.doc.neighbours)
        spec = next(s for s in self.doc.subregions if s.id == term.id)
        if spec.neighbours:
            return list(spec.neighbours)
        return self.neighbours_of(spec.part_of) if spec.part_of else list(self.doc.neighbours)

    def stage(self, facts: Mapping[str, Any], table: str | None = None) -> StageResult:
        """Evaluate the AJCC 8 T, N and M rules on ``facts``; see ``kg.staging.stage``."""
        from kg.staging import stage

        return stage(self, facts, table)


def _normalize_predicate(predicate: str) -> str:
    return re.sub(r"[\s\-]+", "_", predicate.strip().casefold())


def _edge(u: str, v: str, attrs: Mapping[str, Any]) -> Edge:
    extra = {k: val for k, val in attrs.items() if k not in ("predicate", "edge_id")}
    return Edge(u, attrs["predicate"], v, attrs["edge_id"], extra)


def _impression_info(imp) -> ImpressionInfo:
    return ImpressionInfo(
        id=imp.id,
        name=imp.name,
        behaviour=imp.behaviour,
        histology=imp.histology,
        supports=tuple((e.finding, e.strength) for e in imp.supports),
        contradicts=tuple((e.finding, e.strength) for e in imp.contradicts),
        differential=tuple(imp.differential),
        staging_table=imp.staging_table,
        subtype_of=imp.subtype_of,
    )
