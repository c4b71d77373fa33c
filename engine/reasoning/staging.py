"""The AJCC 8 stage a chain must state: the organ KG's rules on the extracted report facts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from data_contracts import PathologyFeatures, ReportFeatures, StageResult
from kg import FactError, OrganKG

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageSources:
    """The extracted features the staging rules read: the radiology report and, when known, the pathology report."""

    report: ReportFeatures | None
    pathology: PathologyFeatures | None = None


def expected_stage(organ: str, report: ReportFeatures | None, pathology: PathologyFeatures | None, kg: OrganKG, table: str) -> StageResult | None:
    """Stage the organ's extracted facts with ``table``; None when there are none or the KG rejects them.

    Pathology values replace report values (``engine.staging_facts``), so a case
    with a pathology report is staged on the specimen's size and node count.
    """
    if report is None and pathology is None:
        return None
    from engine.staging_facts import facts_for_organ

    facts = facts_for_organ(organ, report, pathology, kg)
    try:
        return kg.stage(facts, table)
    except FactError as error:
        case_id = report.case_id if report is not None else pathology.case_id
        logger.warning("case %s organ %s: staging facts rejected by the KG, so the chain gets no stage: %s", case_id, organ, error)
        return None


def staged_facts(organ: str, report: ReportFeatures | None, pathology: PathologyFeatures | None, kg: OrganKG) -> tuple[dict, dict[str, str]]:
    """Return the organ's staging facts (the values the KG rules read) and where each came from ('report' or 'pathology')."""
    from engine.staging_facts import collect_facts

    return collect_facts(organ, report, pathology, kg)


def rule_axis(kg: OrganKG, rule_id: str) -> str | None:
    """Return the axis (T, N or M) of a staging rule id."""
    data = kg.graph.nodes.get(f"rule:{rule_id}")
    return data.get("axis") if data else None
