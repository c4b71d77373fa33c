"""The ``llm`` reasoner: send the organ's facts and allowed KG edges, rebuild the reply into a Chain.

The reply is only parsed here. The calibrator decides whether its triplets are
KG edges and its citations are extracted facts, with the same checks it runs on
a rules chain.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field

from data_contracts import Chain, EvidenceRef, ReasoningStep, StageResult, Triplet
from engine.reasoning import kg_paths
from engine.reasoning.evidence import Fact, FactIndex, same_value
from engine.reasoning.hints import RepairHints
from engine.reasoning.staging import StageSources, expected_stage, rule_axis
from engine.reasoning.targets import ChainTarget
from kg import OrganKG

PROMPT_NAME = "reasoner"
CHAIN_PREDICATES = ("located_in", "suggests", "staged_as")
LEVEL_PREFIX = {"finding": "F", "impression": "Im", "pathology": "P"}


class CitedFact(BaseModel):
    fact_id: str = Field(description="A fact_id from FACTS, for example 'rep-L1.density'.")
    value: str = Field(description="The value of that fact, copied from FACTS.")


class DraftStep(BaseModel):
    step_id: str
    level: Literal["finding", "impression", "pathology"]
    subject: str
    predicate: str
    object: str
    sentence: str
    cites: list[CitedFact]
    confidence: float = Field(ge=0, le=1)


class DraftChain(BaseModel):
    """The reply schema of the reasoner prompt."""

    impression: str = Field(description="Impression id the chain concludes with, or '' for none.")
    steps: list[DraftStep]


def organ_facts(target: ChainTarget, index: FactIndex) -> list[Fact]:
    """Return the facts a chain of ``target`` may cite: its lesion, its masks, and the organ's vessels, nodes and metastases."""
    ids = set(target.lesion_ids) | {f"organ:{target.organ}", "path"}
    if target.lesion is None:
        ids.add("organs_normal")
    organ_level = ("vessel", "invasion", "node", "metastasis") if target.primary and target.lesion is not None else ()
    chosen = []
    for fact in index.facts:
        own = fact.ref.ref_id in ids and (fact.source != "normal" or fact.organ == target.organ)
        shared = fact.source in organ_level and fact.organ in (target.organ, None)
        if own or shared:
            chosen.append(fact)
    return chosen


def allowed_edges(kg: OrganKG) -> list[dict[str, str]]:
    """Return the KG edges a chain may state: lesion locations and findings, finding -> impression, impression -> stage."""
    lesion = kg_paths.lesion_node(kg)
    edges = []
    for u, v, attrs in kg.graph.edges(data=True):
        predicate = attrs["predicate"]
        if (u == lesion and (predicate in CHAIN_PREDICATES or predicate.startswith("has_"))) or predicate in ("suggests", "staged_as"):
            edges.append({"subject": u, "predicate": predicate, "object": v, "edge_id": attrs["edge_id"]})
    return edges


def render_messages(target: ChainTarget, facts: list[Fact], kg: OrganKG, stage: StageResult | None, hints: RepairHints) -> tuple[list[dict[str, str]], str]:
    """Return the chat messages for ``target`` and the prompt template's hash."""
    from engine.llm.prompts import load_prompt

    prompt = load_prompt(PROMPT_NAME)
    fact_rows = [{"fact_id": f.fact_id, "value": f.ref.value, "kg_node": f.node} for f in facts]
    if stage is not None:
        for rule_id in stage.rules:
            fact_rows.append({"fact_id": f"rule:{rule_id}.category", "value": getattr(stage, rule_axis(kg, rule_id)), "kg_node": f"stage:{getattr(stage, rule_axis(kg, rule_id))}"})
    text = prompt.render(
        organ=target.organ, case_id=target.case_id,
        facts_json=json.dumps(fact_rows, ensure_ascii=False), edges_json=json.dumps(allowed_edges(kg)),
        repair_notes=repair_notes(hints),
    )
    return [{"role": "user", "content": text}], prompt.sha256


def repair_notes(hints: RepairHints) -> str:
    """Return the repair section of the prompt: what failed and the hints for this round."""
    if hints.round == 0 and not hints.failed_checks and hints.pathology_truth is None:
        return ""
    notes: dict[str, object] = {"round": hints.round, "failed_checks": [f.model_dump() for f in hints.failed_checks]}
    if hints.extra_features:
        notes["neighbour_features"] = [ref.model_dump(exclude={"span"}) for ref in hints.extra_features]
    if hints.suspected_causes:
        notes["suspected_causes"] = list(hints.suspected_causes)
    if hints.preferred_section:
        notes["location_source"] = f"take lesion locations only from facts whose report span lies in the {hints.preferred_section} section"
    if hints.pathology_truth is not None:
        notes["pathology_truth"] = {k: v for k, v in vars(hints.pathology_truth).items() if v is not None}
    return "The previous chain failed these checks. Fix every one and answer with the whole corrected chain.\nREPAIR (JSON):\n" + json.dumps(notes, ensure_ascii=False)


def llm_chain(target: ChainTarget, index: FactIndex, kg: OrganKG, sources: StageSources, ctx, hints: RepairHints | None = None) -> Chain:
    """Ask the reasoner's model for the chain of ``target`` and rebuild its reply; LLM errors propagate."""
    hints = hints or RepairHints()
    facts = organ_facts(target, index)
    named = kg_paths.impression_node(kg, target.lesion.impression_id) if target.lesion else None
    table = kg_paths.staging_table(kg, named) if named else None
    stage = expected_stage(target.organ, sources.report, sources.pathology, kg, table) if table else None
    messages, prompt_hash = render_messages(target, facts, kg, stage, hints)

    backend = ctx.config.reasoner
    result = ctx.llm.structured("reasoner", backend, messages, DraftChain, case_id=target.case_id, prompt_hash=prompt_hash)
    chain = rebuild_chain(result.value, target, index, kg, sources)
    return chain.model_copy(update={"backend": "llm", "model": result.model, "prompt_hash": result.prompt_hash})


def rebuild_chain(draft: DraftChain, target: ChainTarget, index: FactIndex, kg: OrganKG, sources: StageSources) -> Chain:
    """Turn the model's draft into a Chain: canonical node ids, KG edge ids and evidence refs."""
    steps = []
    counters = {prefix: 0 for prefix in LEVEL_PREFIX.values()}
    for draft_step in draft.steps:
        prefix = LEVEL_PREFIX[draft_step.level]
        counters[prefix] += 1
        edge = kg.find_edge(draft_step.subject, draft_step.predicate, draft_step.object)
        triplet = Triplet(subject=edge.subject, predicate=edge.predicate, object=edge.object) if edge else Triplet(subject=draft_step.subject, predicate=draft_step.predicate, object=draft_step.object)
        steps.append(ReasoningStep(
            step_id=f"{prefix}{counters[prefix]}", level=draft_step.level, triplet=triplet, sentence=draft_step.sentence.strip(),
            kg_edge_id=edge.edge_id if edge else None, evidence=tuple(_evidence(c, index) for c in draft_step.cites),
            confidence=draft_step.confidence,
        ))
    impression = kg_paths.impression_node(kg, draft.impression) if draft.impression else None
    impression_id = kg_paths.local_id(impression) if impression else (draft.impression or None)
    return Chain(
        chain_id=target.chain_id, case_id=target.case_id, organ=target.organ, lesion_ids=target.lesion_ids,
        normal=target.lesion is None, steps=tuple(steps), impression_id=impression_id,
        stage=_stated_stage(steps, kg, target, sources, impression),
    )


def _evidence(cited: CitedFact, index: FactIndex) -> EvidenceRef:
    """Return the extracted fact the citation names, or a ref carrying the model's claim for the calibrator to reject."""
    for fact in index.by_id(cited.fact_id):
        if same_value(cited.value, fact.ref.value):
            return fact.ref
    ref_id, _, field = cited.fact_id.rpartition(".")
    if ref_id.startswith("rule:"):
        return EvidenceRef(kind="kg", ref_id=ref_id, field=field or None, value=cited.value)
    kind = "imaging" if ref_id.startswith(("img-", "organ:")) else "report"
    return EvidenceRef(kind=kind, ref_id=ref_id or cited.fact_id, field=field or None, value=cited.value)


def _stated_stage(steps: list[ReasoningStep], kg: OrganKG, target: ChainTarget, sources: StageSources, impression: str | None) -> StageResult | None:
    categories = {s.triplet.object.removeprefix("stage:")[:1]: s.triplet.object.removeprefix("stage:") for s in steps if s.triplet.predicate == "staged_as"}
    if not categories or impression is None:
        return None
    table = kg_paths.staging_table(kg, impression) or ""
    expected = expected_stage(target.organ, sources.report, sources.pathology, kg, table) if table else None
    # An axis the model left out is not a disagreement, so it takes the KG's category.
    stated = {axis: categories.get(axis, getattr(expected, axis) if expected else f"{axis}X") for axis in ("T", "N", "M")}
    if expected is not None and all(getattr(expected, axis) == stated[axis] for axis in stated):
        return expected
    return StageResult(organ=target.organ, T=stated["T"], N=stated["N"], M=stated["M"], table=table)
