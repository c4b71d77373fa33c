"""Logic calibrator agent: deterministic checks on every chain, bounded repair rounds, rejects.

Reads ``state.chains``, ``state.report``, ``state.imaging``, ``state.pathology``
and ``ctx.kgs``. Writes ``state.chains`` (accepted chains only, each with its
repair history), ``state.rejects`` (one record per rejected chain, reason = code
of the last failed check), ``state.flags`` (the extractor's report flags, carried
over) and ``state.extras["rejected_chains"]`` (the rejected chains, for audit).
"""

from __future__ import annotations

import logging

from data_contracts import REASON_CODES, Chain, CheckFailure, Flag, RejectRecord, RepairRecord
from data_contracts.reasoning import RepairStrategy
from engine.reasoning import repair
from engine.reasoning.checks import CheckInput, grounded_nodes, run_checks
from engine.reasoning.evidence import case_facts
from engine.reasoning.hints import PathologyTruth, RepairHints
from engine.state import CaseState, EngineContext

logger = logging.getLogger(__name__)


def run(state: CaseState, ctx: EngineContext) -> CaseState:
    """Check every chain, repair the failing ones for up to ``config.repair_rounds`` rounds, reject the rest."""
    from engine.llm.errors import LLMError

    state = carry_flags(state)
    accepted: list[Chain] = []
    rejected: list[Chain] = []
    rejects = list(state.rejects)
    for chain in state.chains:
        try:
            final, failures = calibrate_chain(chain, state, ctx)
        except LLMError as error:
            code = error.reason_code if error.reason_code in REASON_CODES else "llm_failed"
            final = chain.model_copy(update={"status": "rejected", "reject_code": code})
            rejects.append(RejectRecord(case_id=chain.case_id, agent="calibrator", reason_code=code, message=f"repair of chain {chain.chain_id} failed: {error.message}", organ=chain.organ))
        else:
            if final.status == "rejected":
                rejects.append(_reject_record(final, failures))
        (accepted if final.status == "accepted" else rejected).append(final)

    logger.info("case %s: calibrator accepted %d chains, rejected %d, repaired %d", state.case.case_id, len(accepted), len(rejected), sum(bool(c.repairs) for c in accepted))
    extras = {**state.extras, "rejected_chains": tuple(rejected)}
    return state.replace(chains=tuple(accepted), rejects=tuple(rejects), extras=extras)


def check_chain(chain: Chain, state: CaseState, ctx: EngineContext) -> list[CheckFailure]:
    """Run every deterministic check on ``chain``; an empty list means it passes. Pure and repeatable."""
    return run_checks(chain, _check_input(chain, state, ctx))


def all_failures(chain: Chain, state: CaseState, ctx: EngineContext) -> list[CheckFailure]:
    """Return the deterministic check failures, then those of the LLM critic when ``config.calibrator.backend`` is llm."""
    failures = check_chain(chain, state, ctx)
    if ctx.config.calibrator.backend == "llm":
        from engine.reasoning.critic import critic_failures

        if ctx.llm is None:
            from engine.llm import LLMClient

            ctx.llm = LLMClient(ctx.config.llm, ctx.usage, seed=ctx.config.seed)
        failures += critic_failures(chain, case_facts(state.report, state.imaging, ctx.kgs, state.pathology), ctx)
    return failures


def _check_input(chain: Chain, state: CaseState, ctx: EngineContext) -> CheckInput:
    if chain.organ not in ctx.kgs:
        raise KeyError(f"case {chain.case_id}: chain {chain.chain_id} is about organ {chain.organ!r}, which has no loaded KG")
    index = case_facts(state.report, state.imaging, ctx.kgs, state.pathology)
    return CheckInput(kg=ctx.kgs[chain.organ], index=index, report=state.report, imaging=state.imaging, pathology=state.pathology)


def calibrate_chain(chain: Chain, state: CaseState, ctx: EngineContext) -> tuple[Chain, list[CheckFailure]]:
    """Check ``chain`` and repair it round by round.

    Returns the chain (accepted, or rejected with the code of its last failed
    check) and the failures of its last check run.
    """
    failures = all_failures(chain, state, ctx)
    previous: RepairStrategy | None = None
    hints = RepairHints()
    for _ in range(ctx.config.repair_rounds):
        if not failures:
            return chain, failures
        strategy = repair.choose_strategy(failures, chain, _report_flags(state), previous)
        chain, failures, hints = _repair_round(chain, failures, state, ctx, strategy, None, hints)
        previous = strategy
    if not failures:
        return chain, failures
    return chain.model_copy(update={"status": "rejected", "reject_code": failures[-1].code}), failures


def repair_chain(chain: Chain, failures: list[CheckFailure], state: CaseState, ctx: EngineContext, strategy: RepairStrategy, truth: PathologyTruth | None = None) -> Chain:
    """Run one repair round with ``strategy`` and return the re-reasoned chain with the round recorded.

    ``pathology_feedback`` uses ``truth``, or the histology and stated stage of
    ``state.pathology`` when ``truth`` is None. The record's ``resolved`` is True
    when the new chain passes every check.
    """
    return _repair_round(chain, failures, state, ctx, strategy, truth, RepairHints())[0]


def _repair_round(chain, failures, state, ctx, strategy, truth, earlier: RepairHints) -> tuple[Chain, list[CheckFailure], RepairHints]:
    """Re-reason with this round's hints on top of the earlier rounds' hints; return the chain, its failures and the hints."""
    from engine.agents.reasoner import reason_organ

    round_number = len(chain.repairs) + 1
    data = _check_input(chain, state, ctx)
    hints = earlier.then(_hints(strategy, chain, data, failures, round_number, state, truth))
    lesion_id = None if chain.normal else next((i for i in chain.lesion_ids if _is_report_lesion(state, i)), None)
    repaired = reason_organ(chain.organ, state, ctx, hints, lesion_id=lesion_id)
    after = all_failures(repaired, state, ctx)
    record = RepairRecord(round=round_number, strategy=strategy, failed_checks=tuple(failures), note=_note(strategy, hints, chain, repaired), resolved=not after)
    logger.info("case %s chain %s: repair round %d (%s) %s", chain.case_id, chain.chain_id, round_number, strategy, "resolved it" if not after else f"left {len(after)} failures")
    return repaired.model_copy(update={"repairs": chain.repairs + (record,)}), after, hints


def _hints(strategy, chain, data, failures, round_number, state, truth) -> RepairHints:
    if strategy == "expand_region":
        return repair.expand_region_hints(chain, data.kg, data.index, failures, round_number)
    if strategy == "suspected_causes":
        return repair.suspected_causes_hints(chain, data.kg, data.index, failures, round_number, grounded_nodes(chain, data))
    if strategy == "reextract":
        return repair.reextract_hints(failures, round_number)
    if strategy == "pathology_feedback":
        return repair.pathology_hints(truth or pathology_truth(state), failures, round_number)
    raise ValueError(f"unknown repair strategy {strategy!r}; choose expand_region, suspected_causes, reextract or pathology_feedback")


def pathology_truth(state: CaseState) -> PathologyTruth:
    """Return the histology and stated stage of ``state.pathology`` as repair hints."""
    pathology = state.pathology
    if pathology is None:
        raise ValueError(f"case {state.case.case_id}: pathology_feedback needs pathology features, but the case has none")
    stated = pathology.stated_stage
    return PathologyTruth(histology=pathology.histology, malignant=pathology.malignant, T=stated.T if stated else None, N=stated.N if stated else None, M=stated.M if stated else None)


def _note(strategy: str, hints: RepairHints, before: Chain, after: Chain) -> str:
    if strategy == "expand_region":
        regions = sorted({ref.ref_id for ref in hints.extra_features})
        detail = f"added neighbour features {', '.join(regions)}" if regions else "no neighbour features found"
    elif strategy == "suspected_causes":
        detail = f"differential {', '.join(hints.suspected_causes) or 'empty'}"
    elif strategy == "reextract":
        detail = f"locations re-read from the {hints.preferred_section} section"
    else:
        detail = f"pathology histology {hints.pathology_truth.histology if hints.pathology_truth else None}"
    return f"{detail}; impression {before.impression_id} -> {after.impression_id}; steps {len(before.steps)} -> {len(after.steps)}"


def _is_report_lesion(state: CaseState, lesion_id: str) -> bool:
    return state.report is not None and any(les.finding_id == lesion_id for les in state.report.lesions)


def _report_flags(state: CaseState) -> tuple[Flag, ...]:
    return state.report.flags if state.report is not None else ()


def carry_flags(state: CaseState) -> CaseState:
    """Copy the extractor's report flags (implausible size, inconsistent location, ...) into ``state.flags`` once."""
    carried = list(state.flags)
    for flag in _report_flags(state):
        if flag not in carried:
            carried.append(flag)
    return state.replace(flags=tuple(carried))


def _reject_record(chain: Chain, failures: list[CheckFailure]) -> RejectRecord:
    message = "; ".join(f.message for f in failures[-3:])
    step = failures[-1].step_id if failures else None
    return RejectRecord(case_id=chain.case_id, agent="calibrator", reason_code=chain.reject_code, message=f"chain {chain.chain_id} rejected after {len(chain.repairs)} repair rounds: {message}", organ=chain.organ, field=step)
