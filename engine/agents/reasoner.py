"""CoT reasoner agent: one finding -> impression chain per current report lesion, and normal chains.

Reads ``state.report``, ``state.imaging``, ``state.pathology`` (staging facts
only) and ``ctx.kgs``. Writes ``state.chains`` (replacing earlier ones) and its
provenance, and adds a reject record for an organ whose ``llm`` call failed.
``ctx.config.reasoner.backend`` chooses the backend: ``rules`` walks the KG
offline, ``llm`` sends the facts to the configured model.
"""

from __future__ import annotations

import logging

from data_contracts import REASON_CODES, AgentProvenance, Chain, RejectRecord
from engine.reasoning.evidence import case_facts
from engine.reasoning.hints import RepairHints
from engine.reasoning.rules_backend import rules_chain
from engine.reasoning.staging import StageSources
from engine.reasoning.targets import ChainTarget, plan_targets, target_for
from engine.state import CaseState, EngineContext

logger = logging.getLogger(__name__)


def run(state: CaseState, ctx: EngineContext) -> CaseState:
    """Build every chain of the case; an organ whose LLM call fails goes to rejects, the others go on."""
    from engine.llm.errors import LLMError

    case_id = state.case.case_id
    organs = tuple(organ for organ in ctx.kgs)
    chains: list[Chain] = []
    rejects = list(state.rejects)
    for target in plan_targets(case_id, state.report, state.imaging, organs):
        try:
            chains.append(build_chain(target, state, ctx))
        except LLMError as error:
            code = error.reason_code if error.reason_code in REASON_CODES else "llm_failed"
            logger.warning("case %s organ %s: reasoner LLM call failed (%s): %s", case_id, target.organ, code, error.message)
            rejects.append(RejectRecord(case_id=case_id, agent="reasoner", reason_code=code, message=error.message, organ=target.organ))

    logger.info("case %s: reasoner built %d chains (%d normal)", case_id, len(chains), sum(c.normal for c in chains))
    return state.replace(chains=tuple(chains), rejects=tuple(rejects), provenance=state.provenance + (_provenance(ctx, chains),))


def reason_organ(organ: str, state: CaseState, ctx: EngineContext, hints: RepairHints | None = None, lesion_id: str | None = None) -> Chain:
    """Build the chain of one organ: of lesion ``lesion_id``, else of its largest lesion, else its normal chain.

    ``hints`` carry a repair round's extra features, suspected causes, failed
    checks or pathology truth. LLM errors propagate as ``engine.llm.LLMError``.
    """
    if organ not in ctx.kgs:
        raise KeyError(f"case {state.case.case_id}: no KG loaded for organ {organ!r}; loaded: {', '.join(ctx.kgs)}")
    target = target_for(state.case.case_id, organ, state.report, state.imaging, lesion_id)
    return build_chain(target, state, ctx, hints)


def build_chain(target: ChainTarget, state: CaseState, ctx: EngineContext, hints: RepairHints | None = None) -> Chain:
    """Build the chain of ``target`` with the configured reasoner backend.

    A normal organ's one-step "no lesion" chain is always built by the rules
    backend, because a model call would only rephrase it.
    """
    index = case_facts(state.report, state.imaging, ctx.kgs, state.pathology)
    sources = StageSources(state.report, state.pathology)
    kg = ctx.kgs[target.organ]
    backend = ctx.config.reasoner
    if backend.backend == "llm" and target.lesion is not None:
        from engine.reasoning.llm_backend import llm_chain

        if ctx.llm is None:
            from engine.llm import LLMClient

            ctx.llm = LLMClient(ctx.config.llm, ctx.usage, seed=ctx.config.seed)
        return llm_chain(target, index, kg, sources, ctx, hints)
    if backend.backend not in ("rules", "llm"):
        raise ValueError(f"config.reasoner.backend must be 'rules' or 'llm', got {backend.backend!r}")
    return rules_chain(target, index, kg, sources, ctx.config.seed, hints)


def _provenance(ctx: EngineContext, chains: list[Chain]) -> AgentProvenance:
    backend = ctx.config.reasoner
    prompt_hash = next((c.prompt_hash for c in chains if c.prompt_hash), None)
    return AgentProvenance(agent="reasoner", backend=backend.backend, model=backend.model if backend.backend == "llm" else None, prompt_hash=prompt_hash)
