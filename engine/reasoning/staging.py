"""The AJCC 8 stage a chain must state: the organ KG's rules on the extracted report facts."""

from __future__ import annotations

import logging

from data_contracts import ReportFeatures, StageResult
from kg import FactError, OrganKG

logger = logging.getLogger(__name__)


def expected_stage(organ: str, report: ReportFeatures | None, kg: OrganKG, table: str) -> StageResult | None:
    """Stage the organ's report facts with ``table``; None when there is no report or the facts are invalid.

    The radiology facts alone are used: pathology is the summarizer's ground truth,
    not an input of the imaging chain.
    """
    if report is None:
        return None
    from engine.staging_facts import facts_for_organ

    facts = facts_for_organ(organ, report, None, kg)
    try:
        return kg.stage(facts, table)
    except FactError as error:
        logger.warning("case %s organ %s: staging facts rejected by the KG: %s", report.case_id, organ, error)
        return None


def rule_axis(kg: OrganKG, rule_id: str) -> str | None:
    """Return the axis (T, N or M) of a staging rule id."""
    data = kg.graph.nodes.get(f"rule:{rule_id}")
    return data.get("axis") if data else None
