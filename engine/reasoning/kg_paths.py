"""Walks over one organ KG that the reasoner and the calibrator share.

Every question asked of the graph here names node ids (``finding:hypodense``,
``impression:pdac``); surface forms are resolved with ``OrganKG.resolve`` first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from kg import Edge, OrganKG

RELATION_FORMS: dict[str, tuple[str, ...]] = {
    "contact": ("vascular contact", "vessel contact", "abutment"),
    "abutment": ("abutment", "vascular contact"),
    "encasement": ("encasement", "vascular encasement"),
    "occlusion": ("vascular occlusion", "occlusion", "encasement"),
    "tumor_thrombus": ("tumour thrombus", "tumor thrombus", "vascular invasion"),
    "invasion": ("vascular invasion", "invasion", "encasement"),
}
"""Surface forms tried, in order, to name a vessel relation as a KG finding."""

NODE_FORMS = ("lymphadenopathy", "regional lymphadenopathy", "enlarged regional lymph nodes", "enlarged lymph nodes", "suspicious lymph nodes")
"""Surface forms tried, in order, to name suspicious regional lymph nodes as a KG finding ('regional lymphadenopathy' names the stomach's perigastric finding)."""
METASTASIS_FORMS = ("distant lesions", "distant metastases", "distant metastasis")
SITE_FORMS: dict[str, tuple[str, ...]] = {"liver": ("liver metastases",), "peritoneum": ("peritoneal nodules",)}
"""Surface forms tried first for a metastasis site, where an organ KG has a finding for that site ('liver lesions' of the colon KG)."""

BACKGROUND_FINDINGS = frozenset({"finding:cirrhosis"})
"""Findings of the organ around a lesion rather than of the lesion itself.

NOTE: the KG files have no field that marks such findings, so they are listed here by node id.
"""


def organ_node(kg: OrganKG) -> str:
    return kg.resolve(kg.organ, "organ").node_id


def lesion_node(kg: OrganKG) -> str:
    return kg.lesion.node_id


def node_name(kg: OrganKG, node: str) -> str:
    """Return the display name of a graph node, or the local part of its id."""
    data = kg.graph.nodes.get(node, {})
    return str(data.get("name") or node.split(":", 1)[-1].replace("_", " "))


def edge_between(kg: OrganKG, subject: str, object: str, predicate: str | None = None) -> Edge | None:
    """Return the edge from ``subject`` to ``object`` (with ``predicate`` if given), or None."""
    for attrs in (kg.graph.get_edge_data(subject, object) or {}).values():
        if predicate is None or attrs["predicate"] == predicate:
            extra = {k: v for k, v in attrs.items() if k not in ("predicate", "edge_id")}
            return Edge(subject, attrs["predicate"], object, attrs["edge_id"], extra)
    return None


def lesion_finding_edge(kg: OrganKG, finding: str) -> Edge | None:
    """Return the ``has_<attribute>`` edge from the organ's lesion node to ``finding``."""
    return edge_between(kg, lesion_node(kg), finding)


def location_edge(kg: OrganKG, region: str) -> Edge | None:
    """Return the ``located_in`` edge from the lesion node to a subregion or the organ."""
    return edge_between(kg, lesion_node(kg), region, "located_in")


def resolve_first(kg: OrganKG, forms: Iterable[str], kind: str) -> str | None:
    """Return the node id of the first of ``forms`` that names a term of ``kind``."""
    for form in forms:
        term = kg.resolve(form, kind)
        if term is not None:
            return term.node_id
    return None


def metastasis_finding(kg: OrganKG, site: str) -> str | None:
    """Return the KG finding that names distant disease at ``site``, or None when the organ KG has none for it."""
    return resolve_first(kg, SITE_FORMS.get(site, ()) + METASTASIS_FORMS, "finding")


def vessel_finding(kg: OrganKG, relation: str) -> str | None:
    return resolve_first(kg, RELATION_FORMS.get(relation, (relation,)), "finding")


def impression_node(kg: OrganKG, text: str | None) -> str | None:
    if not text:
        return None
    term = kg.resolve(text, "impression")
    return term.node_id if term is not None else None


def local_id(node: str) -> str:
    return node.split(":", 1)[-1]


def supporting_edges(kg: OrganKG, findings: Iterable[str], impression: str) -> list[Edge]:
    """Return the ``suggests`` edges from ``findings`` to ``impression``, strongest first."""
    edges = [e for f in findings if (e := edge_between(kg, f, impression, "suggests")) is not None]
    return sorted(edges, key=lambda e: (-(e.strength or 0.0), e.edge_id))


def is_spread_finding(kg: OrganKG, node: str) -> bool:
    """True for lymph nodes and disease outside the organ (distant lesions, ascites, peritoneal nodules).

    These findings are staging context for a malignant primary, not evidence of
    what a lesion is. The KG files group them under an attribute named after the
    organ ('extrahepatic', 'extrapancreatic', ...), and every node finding's id
    contains 'lymphadenopathy'.
    """
    data = kg.graph.nodes.get(node, {})
    if data.get("kind") != "finding":
        return False
    return str(data.get("attribute", "")).startswith("extra") or "lymphadenopathy" in str(data.get("id", ""))


def is_lesion_evidence(kg: OrganKG, node: str) -> bool:
    """True for a finding of the lesion itself: its density, enhancement, shape, margin, signs or vessels.

    Lymph nodes, distant disease, the background organ (cirrhosis), the clinical
    context (``has_context`` findings) and the lesion count are not: they may
    add to an impression, but none can carry it alone.
    """
    if is_spread_finding(kg, node) or node in BACKGROUND_FINDINGS:
        return False
    if kg.graph.nodes.get(node, {}).get("attribute") == "count":
        return False
    edge = lesion_finding_edge(kg, node)
    return edge is not None and edge.predicate != "has_context"


def lesion_support(kg: OrganKG, findings: Iterable[str], impression: str) -> list[Edge]:
    """Return the ``suggests`` edges to ``impression`` whose finding is a finding of the lesion itself."""
    return [edge for edge in supporting_edges(kg, findings, impression) if is_lesion_evidence(kg, edge.subject)]


def impression_support(kg: OrganKG, findings: Iterable[str], impression: str) -> list[Edge]:
    """Return the ``suggests`` edges an impression step may state: every supporting finding except spread findings."""
    return [edge for edge in supporting_edges(kg, findings, impression) if not is_spread_finding(kg, edge.subject)]


def behaviour(kg: OrganKG, impression: str) -> str | None:
    """Return the behaviour (malignant, premalignant or benign) of an impression node, or None when it has none."""
    return kg.graph.nodes.get(impression, {}).get("behaviour")


def takes_staging_context(kg: OrganKG, impression: str | None) -> bool:
    """True when ``impression`` is a malignant primary with a staging table, the only kind of chain that states nodes and distant disease."""
    if impression is None:
        return False
    return behaviour(kg, impression) == "malignant" and staging_table(kg, impression) is not None


def contradicting_edges(kg: OrganKG, findings: Iterable[str], impression: str) -> list[Edge]:
    """Return the ``contradicts`` edges from ``findings`` to ``impression``."""
    return [e for f in findings if (e := edge_between(kg, f, impression, "contradicts")) is not None]


def choose_impression(
    kg: OrganKG,
    findings: tuple[str, ...],
    named: str | None,
    suspected: tuple[str, ...] = (),
    histology: str | None = None,
    causes_only: bool = False,
) -> str | None:
    """Pick the impression a lesion's chain concludes with.

    Pathology histology wins, then the first suspected cause that a finding of
    the lesion itself supports without contradiction, then the impression the
    report names, then the top of the KG differential. A suspected cause or a
    differential top for a lesion the report names no impression for must pass
    ``is_inferable``. With ``causes_only`` (a suspected-causes round) no
    suspected cause fitting means no impression, so the chain keeps its findings
    only. Returns an impression node id or None.
    """
    if histology:
        matching = impressions_with_histology(kg, histology)
        if matching:
            return max(matching, key=lambda imp: (_score(kg, findings, imp), imp))
    for cause in suspected:
        node = impression_node(kg, cause)
        if not node or not lesion_support(kg, findings, node) or contradicting_edges(kg, findings, node):
            continue
        if named or is_inferable(kg, findings, node):
            return node
    if causes_only:
        return None
    if named:
        return named
    ranked = rank_impressions(kg, findings)
    if ranked and is_inferable(kg, findings, ranked[0][0]):
        return ranked[0][0]
    return None


MIN_INFERRED_SUPPORT = 2
"""Distinct supporting lesion findings an inferred impression needs when none of its edges has the KG's strongest strength."""


def is_inferable(kg: OrganKG, findings: Iterable[str], impression: str) -> bool:
    """True when the findings alone justify ``impression`` for a lesion whose report names none.

    The impression needs a supporting lesion finding whose ``suggests`` edge has
    the strongest strength of the organ KG, or at least ``MIN_INFERRED_SUPPORT``
    distinct supporting lesion findings. No extracted finding may contradict it,
    and no other impression may score the same, because a tie is a differential
    and not a conclusion.
    """
    findings = tuple(findings)
    support = lesion_support(kg, findings, impression)
    if not support or contradicting_edges(kg, findings, impression):
        return False
    strongest = strongest_support(kg)
    has_strongest = any(math.isclose(edge.strength or 0.0, strongest) for edge in support)
    if not has_strongest and len({edge.subject for edge in support}) < MIN_INFERRED_SUPPORT:
        return False
    score = round(_score(kg, findings, impression), 6)
    return score > 0 and not any(other != impression and other_score == score for other, other_score in rank_impressions(kg, findings))


def strongest_support(kg: OrganKG) -> float:
    """Return the largest ``suggests`` strength of the organ KG, or 0.0 when it has none."""
    strengths = [attrs.get("strength") or 0.0 for _, _, attrs in kg.graph.edges(data=True) if attrs["predicate"] == "suggests"]
    return max(strengths, default=0.0)


def rank_impressions(kg: OrganKG, findings: Iterable[str]) -> list[tuple[str, float]]:
    """Return (impression node id, score) for each impression that a finding of the lesion itself supports, best first.

    The score adds the strengths of the supporting findings other than spread
    findings and subtracts the strengths of every contradicting finding.
    """
    findings = tuple(findings)
    ranked = []
    for info in kg.impressions.values():
        node = f"impression:{info.id}"
        if lesion_support(kg, findings, node):
            ranked.append((node, round(_score(kg, findings, node), 6)))
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def impressions_with_histology(kg: OrganKG, histology: str) -> list[str]:
    """Return the impression node ids whose histology endpoint (or own name) is ``histology``."""
    endpoint = kg.resolve(histology, "endpoint")
    impression = kg.resolve(histology, "impression")
    found = []
    for info in kg.impressions.values():
        if (endpoint is not None and info.histology == endpoint.id) or (impression is not None and info.id == impression.id):
            found.append(f"impression:{info.id}")
    return found


def _score(kg: OrganKG, findings: Iterable[str], impression: str) -> float:
    findings = tuple(findings)
    pro = sum(e.strength or 0.0 for e in impression_support(kg, findings, impression))
    con = sum(e.strength or 0.0 for e in contradicting_edges(kg, findings, impression))
    return pro - con


def differential_causes(kg: OrganKG, findings: Iterable[str], exclude: str | None = None) -> tuple[str, ...]:
    """Return the KG differential of ``findings`` as impression ids, best first, uncontradicted ones before the rest, without ``exclude``."""
    findings = tuple(findings)
    ranked = [node for node, _ in rank_impressions(kg, findings) if node != exclude]
    clean = [node for node in ranked if not contradicting_edges(kg, findings, node)]
    return tuple(local_id(node) for node in clean + [node for node in ranked if node not in clean])


def staging_table(kg: OrganKG, impression: str) -> str | None:
    """Return the staging table id of ``impression`` (its ``staged_by`` edge), or None."""
    for _, target, attrs in kg.graph.out_edges(impression, data=True):
        if attrs["predicate"] == "staged_by":
            return local_id(target)
    return None


def rule_facts(kg: OrganKG, rule_id: str) -> tuple[str, ...]:
    """Return the fact keys a staging rule reads (its ``uses_fact`` edges)."""
    node = f"rule:{rule_id}"
    if node not in kg.graph:
        return ()
    return tuple(local_id(v) for _, v, a in kg.graph.out_edges(node, data=True) if a["predicate"] == "uses_fact")


def neighbour_regions(kg: OrganKG, regions: Iterable[str]) -> tuple[str, ...]:
    """Return the structure and subregion ids next to any of ``regions`` (organ or subregion ids)."""
    found: list[str] = []
    for region in regions:
        try:
            names = kg.neighbours_of(region)
        except KeyError:
            continue
        found += [n for n in names if n not in found]
    return tuple(found)
