"""Summarizer (the fifth agent): finding -> impression -> pathology chains and the CoT report.

Reads ``state.chains`` (accepted chains from the calibrator), ``state.report``,
``state.pathology`` and ``state.imaging``. For each accepted lesion chain it

1. stages the organ by the KG's AJCC 8 rules over ``engine.staging_facts`` facts
   (radiology and pathology together, pathology winning where both state a fact);
2. compares the chain with the pathology report, which is ground truth. A
   malignancy, histology, T or N disagreement goes back to the reasoner through
   ``repair_chain(..., strategy="pathology_feedback")``, at most
   ``config.repair_rounds`` times. What repair cannot resolve becomes
   ``Chain.discordance`` entries and a ``pathology_discordance`` flag;
3. appends the pathology-level steps P1.. (behaviour, histology, T, N, M), each a KG edge.

A lesion chain that describes nothing of its lesion (``ChainView.described``) is
left as it is, flagged, and kept out of the report (``engine.qa.primary``).

Then it writes ``state.cot_report`` (``<think>`` walk plus conclusion) and stores
its parts in ``state.extras["cot_report_parts"]``, and the staging facts and
their sources per chain in ``state.extras["staging_facts"]`` and
``["staging_fact_sources"]``. It appends one provenance entry.
"""

from __future__ import annotations

import logging
from typing import Any

from data_contracts import Chain, CheckFailure, Flag, RepairRecord
from engine.qa.cot_report import compose_report
from engine.qa.pathology import discordance_entry, impression_of, pathology_applies, pathology_failures, pathology_steps
from engine.qa.primary import lesion_facts, reportable_views, staged_primaries, undescribed_views
from engine.qa.report_writer import write_report
from engine.qa.reports import REPORT_PARTS_KEY
from engine.qa.view import ChainView, build_view
from engine.state import CaseState, EngineContext

logger = logging.getLogger(__name__)

AGENT = "summarizer"
STAGING_FACTS_KEY = "staging_facts"
"""Key of ``CaseState.extras``: chain id -> the staging facts the summarizer staged it with."""
STAGING_SOURCES_KEY = "staging_fact_sources"
"""Key of ``CaseState.extras``: chain id -> fact key -> 'pathology' or 'report', where each staging fact came from."""


def run(state: CaseState, ctx: EngineContext) -> CaseState:
    """Add pathology-level steps to every accepted chain, check them against pathology, and write the CoT report."""
    accepted = accepted_views(state, ctx)
    undescribed = {v.chain.chain_id for v in undescribed_views(accepted, state.pathology, ctx.kgs)}
    organ_lesion_facts = {organ: lesion_facts(group) for organ, group in staged_primaries(reportable_views(accepted, state.pathology, ctx.kgs), ctx.kgs).items()}
    chains: list[Chain] = []
    flags: list[Flag] = [_undescribed_flag(c, state) for c in state.chains if c.chain_id in undescribed]
    facts_by_chain: dict[str, dict[str, Any]] = {}
    sources_by_chain: dict[str, dict[str, str]] = {}
    for chain in state.chains:
        if chain.status != "accepted" or chain.normal or chain.organ not in ctx.kgs or chain.chain_id in undescribed:
            chains.append(chain)
            continue
        chain, facts, sources, chain_flags = summarize_chain(chain, state, ctx, organ_lesion_facts.get(chain.organ, ({}, {})))
        chains.append(chain)
        facts_by_chain[chain.chain_id] = facts
        sources_by_chain[chain.chain_id] = sources
        flags.extend(chain_flags)

    state = state.replace(chains=tuple(chains), flags=state.flags + tuple(flags),
                          extras={**state.extras, STAGING_FACTS_KEY: facts_by_chain, STAGING_SOURCES_KEY: sources_by_chain})
    views = reportable_views(accepted_views(state, ctx), state.pathology, ctx.kgs)
    parts, provenance, text_flags = write_report(state, ctx, views)
    logger.info("case %r: summarizer wrote the report over %d chains, %d flags", state.case.case_id, len(views), len(flags) + len(text_flags))
    return state.replace(
        cot_report=compose_report(parts["think"], parts["conclusion"]),
        extras={**state.extras, REPORT_PARTS_KEY: parts},
        flags=state.flags + tuple(text_flags),
        provenance=state.provenance + (provenance,),
    )


def _undescribed_flag(chain: Chain, state: CaseState) -> Flag:
    """Flag a lesion chain that describes no property of its lesion; it is neither staged nor reported."""
    code = "unsupported_impression" if chain.impression_id else "no_findings"
    return Flag(code=code, severity="warning", field="chains",
                message=f"case {state.case.case_id} organ {chain.organ}: chain {chain.chain_id} describes no subregion, size, lesion mask or "
                        f"lesion finding, only findings outside the lesion; it is left out of staging, samples and the report")


def accepted_views(state: CaseState, ctx: EngineContext) -> list[ChainView]:
    """Return a view of every accepted chain whose organ has a KG, in chain order."""
    return [build_view(c, ctx.kgs[c.organ], state.report, state.imaging) for c in state.chains if c.status == "accepted" and c.organ in ctx.kgs]


def summarize_chain(
    chain: Chain, state: CaseState, ctx: EngineContext, chain_facts: tuple[dict[str, Any], dict[str, str]] = ({}, {}),
) -> tuple[Chain, dict[str, Any], dict[str, str], list[Flag]]:
    """Return the chain checked against pathology and extended to the pathology level, its staging facts, their sources and flags.

    ``chain_facts`` are the facts and sources that the organ's tumour chains state
    (``engine.qa.primary.lesion_facts``); report and pathology facts replace them.
    """
    kg = ctx.kgs[chain.organ]
    pathology = state.pathology if pathology_applies(state.pathology, chain.organ) else None
    flags: list[Flag] = []

    if pathology is not None:
        pathology_stage = _stage(chain, kg, state, ctx, None, pathology, flags)[0]
        chain = _pathology_feedback(chain, kg, pathology, pathology_stage, state, ctx)
        if chain.discordance:
            flags.append(Flag(code="pathology_discordance", severity="warning", field="pathology",
                              message=f"case {state.case.case_id} organ {chain.organ}: chain {chain.chain_id} disagrees with the pathology report "
                                      f"after {len(chain.repairs)} repair rounds: {'; '.join(chain.discordance)}"))

    stage, facts = _stage(chain, kg, state, ctx, state.report, pathology, flags, chain_facts[0])
    if stage is not None:
        chain = chain.model_copy(update={"stage": stage})
    from engine.staging_facts import fact_sources

    sources = {**chain_facts[1], **fact_sources(chain.organ, state.report, pathology, kg)} if facts else {}
    kept = tuple(step for step in chain.steps if step.level != "pathology")
    chain = chain.model_copy(update={"steps": kept + pathology_steps(chain, kg, stage, facts, pathology, sources)})
    return chain, facts, sources, flags


def _stage(chain: Chain, kg, state: CaseState, ctx: EngineContext, report, pathology, flags: list[Flag], base_facts=None):
    """Return ``(StageResult or None, facts)`` for the chain's impression; None for an unstaged impression.

    ``base_facts`` fill the facts that report and pathology leave unknown.
    """
    info = impression_of(chain, kg)
    if info is None or info.behaviour != "malignant" or not info.staging_table:
        return None, {}
    from engine.staging_facts import facts_for_organ
    from kg import FactError

    facts = {**(base_facts or {}), **facts_for_organ(chain.organ, report, pathology, kg)}
    try:
        return kg.stage(facts, info.staging_table), facts
    except FactError as error:
        flags.append(Flag(code="stage_mismatch", severity="warning", field="staging_facts",
                          message=f"case {state.case.case_id} organ {chain.organ}: the KG rejected the staging facts: {error}"))
        return None, facts


def _pathology_feedback(chain: Chain, kg, pathology, pathology_stage, state: CaseState, ctx: EngineContext) -> Chain:
    """Repair the chain against pathology up to ``config.repair_rounds`` times; record what stays discordant."""
    failures = pathology_failures(chain, kg, pathology, pathology_stage)
    rounds = 0
    while failures and rounds < ctx.config.repair_rounds:
        rounds += 1
        repaired = _repair(chain, failures, pathology, pathology_stage, state, ctx)
        usable = repaired.status == "accepted" and not _calibration_failures(repaired, state, ctx)
        remaining = pathology_failures(repaired, kg, pathology, pathology_stage) if usable else failures
        repaired = _with_repair_record(repaired if usable else chain, chain, failures, remaining)
        logger.info("case %r organ %s: pathology feedback round %d, %d -> %d discordant checks",
                    state.case.case_id, chain.organ, rounds, len(failures), len(remaining))
        chain, failures = repaired, remaining
    if failures:
        chain = chain.model_copy(update={"discordance": tuple(discordance_entry(f) for f in failures)})
    return chain


def _repair(chain: Chain, failures: list[CheckFailure], pathology, pathology_stage, state: CaseState, ctx: EngineContext) -> Chain:
    """Re-reason the chain with the pathology histology and its AJCC 8 stage (not a stated, maybe older-edition stage)."""
    from engine.agents.calibrator import repair_chain
    from engine.reasoning.hints import PathologyTruth

    truth = PathologyTruth(
        histology=pathology.histology, malignant=pathology.malignant,
        T=_decided(pathology_stage, "T"), N=_decided(pathology_stage, "N"), M=_decided(pathology_stage, "M"),
    )
    return repair_chain(chain, failures, state, ctx, "pathology_feedback", truth)


def _decided(stage, axis: str) -> str | None:
    category = getattr(stage, axis) if stage is not None else None
    return None if category is None or category.endswith("X") else category


def _calibration_failures(chain: Chain, state: CaseState, ctx: EngineContext) -> list[CheckFailure]:
    from engine.agents.calibrator import check_chain

    return check_chain(chain, state, ctx)


def _with_repair_record(repaired: Chain, before: Chain, failures: list[CheckFailure], remaining: list[CheckFailure]) -> Chain:
    """Make sure the repaired chain records this round, whether or not ``repair_chain`` did."""
    if len(repaired.repairs) > len(before.repairs) and repaired.repairs[-1].strategy == "pathology_feedback":
        last = repaired.repairs[-1].model_copy(update={"resolved": not remaining})
        return repaired.model_copy(update={"repairs": repaired.repairs[:-1] + (last,)})
    record = RepairRecord(round=len(before.repairs) + 1, strategy="pathology_feedback", failed_checks=tuple(failures),
                          note="re-reasoned with the pathology report as ground truth", resolved=not remaining)
    return repaired.model_copy(update={"repairs": before.repairs + (record,)})
