"""Provenance of a sample: case, input hash, KG and engine versions, agents, chains, repairs, evidence."""

from __future__ import annotations

from collections.abc import Iterable

from data_contracts import SCHEMA_VERSION, AgentProvenance, Chain, EvidenceRef, Provenance
from engine.config import AGENTS
from engine.state import CaseState, EngineContext


def agent_provenance(state: CaseState, ctx: EngineContext) -> tuple[AgentProvenance, ...]:
    """Return one entry per agent in pipeline order: the agent's own entry, or its configured backend when it wrote none."""
    latest = {entry.agent: entry for entry in state.provenance}
    entries = []
    for agent in AGENTS:
        if agent in latest:
            entries.append(latest[agent])
            continue
        backend = ctx.config.backend_for(agent)
        entries.append(AgentProvenance(agent=agent, backend=backend.backend, model=backend.model if backend.backend == "llm" else None))
    return tuple(entries)


def build_provenance(state: CaseState, ctx: EngineContext, chain_ids: Iterable[str], evidence: Iterable[EvidenceRef] = ()) -> Provenance:
    """Return the provenance of a sample built from the chains ``chain_ids`` of ``state``."""
    wanted = tuple(dict.fromkeys(chain_ids))
    chains: dict[str, Chain] = {chain.chain_id: chain for chain in state.chains}
    repairs = tuple(record for chain_id in wanted if chain_id in chains for record in chains[chain_id].repairs)
    return Provenance(
        case_id=state.case.case_id,
        input_hash=state.input_hash,
        kg_version=ctx.kg_version,
        engine_version=ctx.engine_version,
        schema_version=SCHEMA_VERSION,
        agents=_with_chain_prompts(agent_provenance(state, ctx), [chains[c] for c in wanted if c in chains]),
        chain_ids=wanted,
        repair_history=repairs,
        evidence=tuple(evidence),
    )


def _with_chain_prompts(entries: tuple[AgentProvenance, ...], chains: list[Chain]) -> tuple[AgentProvenance, ...]:
    """Fill the reasoner's model and prompt hash from the chains when its own entry lacks them."""
    llm_chain = next((c for c in chains if c.backend == "llm"), None)
    if llm_chain is None:
        return entries
    updated = []
    for entry in entries:
        if entry.agent == "reasoner" and entry.prompt_hash is None:
            entry = entry.model_copy(update={"backend": "llm", "model": entry.model or llm_chain.model, "prompt_hash": llm_chain.prompt_hash})
        updated.append(entry)
    return tuple(updated)
