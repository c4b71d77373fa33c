"""Typed repair strategies: turn a chain's failed checks into hints for one more reasoning round."""

from __future__ import annotations

from collections.abc import Sequence

from data_contracts import Chain, CheckFailure, EvidenceRef, Flag
from data_contracts.reasoning import RepairStrategy
from engine.reasoning import kg_paths
from engine.reasoning.evidence import FactIndex
from engine.reasoning.hints import PathologyTruth, RepairHints
from kg import OrganKG

CAUSE_CODES = frozenset({"contradicted_impression", "unsupported_impression", "kg_contradiction"})


def choose_strategy(failures: Sequence[CheckFailure], chain: Chain, flags: Sequence[Flag], previous: RepairStrategy | None = None) -> RepairStrategy:
    """Pick the strategy that the failures call for, in failure order, preferring one the previous round did not use.

    A located lesion that fails while the extractor flagged an inconsistent
    location is re-read first (reextract).
    """
    location_failure = any(f.code in ("hallucinated_finding", "imaging_text_mismatch") and _is_location_step(chain, f.step_id) for f in failures)
    if location_failure and any(flag.code == "inconsistent_location" for flag in flags) and previous != "reextract":
        return "reextract"
    candidates = list(dict.fromkeys(_strategy_for(chain, failure) for failure in failures))
    return next((s for s in candidates if s != previous), candidates[0])


def _strategy_for(chain: Chain, failure: CheckFailure) -> RepairStrategy:
    if failure.code in CAUSE_CODES or (failure.code == "kg_edge_missing" and _step_level(chain, failure.step_id) == "impression"):
        return "suspected_causes"
    return "expand_region"


def _step_level(chain: Chain, step_id: str | None) -> str | None:
    return next((s.level for s in chain.steps if s.step_id == step_id), None)


def _is_location_step(chain: Chain, step_id: str | None) -> bool:
    return any(s.step_id == step_id and s.triplet.predicate == "located_in" for s in chain.steps)


def expand_region_hints(chain: Chain, kg: OrganKG, index: FactIndex, failures: Sequence[CheckFailure], round_number: int) -> RepairHints:
    """Hints carrying the features of the KG neighbours of the chain's organ and subregions."""
    regions = [chain.organ] + [kg_paths.local_id(s.triplet.object) for s in chain.steps if s.triplet.predicate == "located_in" and s.triplet.object.startswith("subregion:")]
    neighbours = set(kg_paths.neighbour_regions(kg, regions))
    names = neighbours | {_totalseg_name(kg, n) for n in neighbours}
    extra: list[EvidenceRef] = []
    for fact in index.facts:
        if fact.source == "organ_mask" and fact.organ in names and fact.ref.field == "bbox_norm_xyz":
            extra.append(fact.ref)
        elif fact.source in ("vessel", "invasion") and fact.ref.value in neighbours:
            extra.append(fact.ref)
    return RepairHints(extra_features=tuple(extra), failed_checks=tuple(failures), round=round_number, strategy="expand_region")


def _totalseg_name(kg: OrganKG, structure: str) -> str:
    data = kg.graph.nodes.get(f"structure:{structure}", {})
    return data.get("totalseg") or structure


def suspected_causes_hints(chain: Chain, kg: OrganKG, index: FactIndex, failures: Sequence[CheckFailure], round_number: int, grounded: set[str]) -> RepairHints:
    """Hints carrying the KG differential of the chain's extracted findings, without the failed impression.

    The report's own impression for the lesion limits the differential. When no
    extracted finding contradicts it, the chain failed only for missing support,
    which usually means findings the extractor did not read, so no other cause
    is offered. When one does, only causes of the same behaviour are offered: a
    KG differential may refine the report's call (PDAC to PNET) but never turn a
    cancer into a benign lesion or the reverse. With no cause left the round
    leaves a findings-only chain.
    """
    findings = sorted(n for n in grounded if n.startswith("finding:"))
    failed = f"impression:{chain.impression_id}" if chain.impression_id else None
    causes = kg_paths.differential_causes(kg, findings, exclude=failed)
    named = _named_impression(chain, index)
    if named is not None and not kg_paths.contradicting_edges(kg, findings, named):
        causes = ()
    elif named is not None:
        behaviour = kg_paths.behaviour(kg, named)
        causes = tuple(cause for cause in causes if kg_paths.behaviour(kg, f"impression:{cause}") == behaviour)
    return RepairHints(suspected_causes=causes, failed_checks=tuple(failures), round=round_number, strategy="suspected_causes")


def _named_impression(chain: Chain, index: FactIndex) -> str | None:
    """Return the impression node the report names for the chain's lesion, or None."""
    return next((f.node for f in index.facts if f.ref.ref_id in chain.lesion_ids and f.ref.field == "impression_id" and f.node), None)


def reextract_hints(failures: Sequence[CheckFailure], round_number: int) -> RepairHints:
    """Hints that make the reasoner re-read locations from the findings section only."""
    return RepairHints(failed_checks=tuple(failures), round=round_number, preferred_section="findings", strategy="reextract")


def pathology_hints(truth: PathologyTruth, failures: Sequence[CheckFailure], round_number: int) -> RepairHints:
    """Hints carrying the pathology report's histology and stage."""
    return RepairHints(pathology_truth=truth, failed_checks=tuple(failures), round=round_number, strategy="pathology_feedback")
