"""TNM questions: one question each for T, N and M, answered from the chain's AJCC 8 stage.

Policy for an undecided category (TX, NX, MX): the question is still asked, and
the answer says the category cannot be determined from this CT and report and
names the missing facts, because a model should learn to say so instead of
guessing. Where a pathology report exists the summarizer stages with its facts,
so the answer is the pathology-grounded stage; a T or N disagreement with the
imaging chain that repair could not fix (a ``Chain.discordance`` entry starting
with the axis, for example ``T:``) is stated in the think text.
"""

from __future__ import annotations

import random
from typing import Any

from data_contracts import ImagingFeatures, ReportFeatures

from engine.qa.candidate import Candidate, describe_steps, step_evidence
from engine.qa.iir import iir_rounds
from engine.qa.templates import pick_question
from engine.qa.view import ChainView

AXES = ("T", "N", "M")
AXIS_WORDS = {"T": "primary tumour extent", "N": "regional lymph node status", "M": "distant metastasis"}


def find_rule(kg, rule_id: str):
    """Return the compiled staging rule ``rule_id`` of ``kg``, or None."""
    for table in kg.tables:
        for rules in table.rules.values():
            for rule in rules:
                if rule.id == rule_id:
                    return rule
    return None


def axis_missing(kg, stage, axis: str) -> list[str]:
    """Return the missing facts that the ``axis`` rules of the stage's table read (``StageResult.missing`` covers all axes)."""
    table = next((t for t in kg.tables if t.id == stage.table), None)
    if table is None:
        return list(stage.missing)
    read = {edge.object.removeprefix("fact:") for rule in table.rules.get(axis, ()) for edge in kg.edges(f"rule:{rule.id}", "uses_fact")}
    return [fact for fact in stage.missing if fact in read]


def tnm_candidates(
    views: list[ChainView], kgs: dict[str, Any], facts_by_chain: dict[str, dict[str, Any]],
    imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random,
) -> list[Candidate]:
    """Return T, N and M questions for every malignant chain with a stage."""
    candidates: list[Candidate] = []
    for view in views:
        stage = view.chain.stage
        if view.normal or stage is None or view.behaviour != "malignant":
            continue
        kg = kgs[view.organ]
        facts = facts_by_chain.get(view.chain.chain_id, {})
        for axis in AXES:
            candidates.append(_axis_candidate(axis, view, kg, facts, imaging, report, rng))
    return candidates


def _axis_candidate(axis: str, view: ChainView, kg, facts: dict[str, Any], imaging, report, rng: random.Random) -> Candidate:
    stage = view.chain.stage
    category = getattr(stage, axis)
    rules = [rule for rule in (find_rule(kg, rid) for rid in stage.rules) if rule is not None and rule.axis == axis]
    steps = tuple(
        s for s in view.chain.steps
        if s.level == "impression" or (s.triplet.predicate == "staged_as" and s.triplet.object.removeprefix("stage:") == category)
    )
    facts_text = ", ".join(f"{k}={_fact_text(v)}" for k, v in sorted(facts.items())) or "none"
    lines = [describe_steps(steps)] if steps else []
    lines.append(f"Staging facts: {facts_text}. Table: {stage.table or 'default'} (AJCC 8th edition).")

    for entry in view.chain.discordance:
        if entry.startswith(f"{axis}:"):
            lines.append(f"Imaging and pathology disagree ({entry}); the pathology facts are ground truth.")

    if category.endswith("X"):
        missing = axis_missing(kg, stage, axis) or ["facts the rules read"]
        lines.append(f"No {axis} rule could be decided because these facts are unknown: {', '.join(missing)}.")
        answer = f"{category}: the {AXIS_WORDS[axis]} cannot be determined from this CT and report (missing: {', '.join(missing)})."
        fields = {"axis": axis, "category": category, "determined": False, "missing": missing, "rules": []}
    else:
        for rule in rules:
            note = f" ({rule.note})" if rule.note else ""
            lines.append(f"Rule {rule.id} fires{note}, so the category is {rule.category}.")
        answer = f"The {axis} category is {category} (AJCC 8th edition)."
        fields = {"axis": axis, "category": category, "determined": True, "missing": [], "rules": [r.id for r in rules]}

    fields.update({"organ": view.organ, "table": stage.table, "edition": stage.edition})
    return Candidate(
        task_type="tnm", subtask=axis, organ=view.organ, question_key=f"{axis}:{view.chain.chain_id}",
        question=pick_question(axis, rng, organ=view.organ_name), think="\n".join(lines), answer=answer, answer_fields=fields,
        steps=steps, chain_ids=(view.chain.chain_id,), evidence=step_evidence(steps),
        iir_rounds=iir_rounds(view, view.organ, view.organ_name, answer, report, imaging),
    )


def _fact_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
