"""TNM questions: one T, one N and one M question per organ with a staged primary tumour.

Only an organ whose accepted chains contain a malignant primary with an AJCC
staging table is asked about (``engine.qa.primary.staged_primaries``). The stage
belongs to the organ, so multifocal tumours get one question per axis, built on
the largest (index) lesion. Liver metastases of another primary, benign lesions and
lesions the chain does not describe get no TNM question.

Policy for an undecided category (TX, NX, MX): the question is still asked, and
the answer says the category cannot be assessed and which facts are not
stated, because a model should learn to say so instead of guessing. Where a
pathology report exists the summarizer stages with its facts, so the answer is
the pathology-grounded stage; a T or N disagreement with the imaging chain that
repair could not fix (a ``Chain.discordance`` entry starting with the axis, for
example ``T:``) is stated in the think text.
"""

from __future__ import annotations

import random
from typing import Any

from data_contracts import ImagingFeatures, ReportFeatures

from engine.qa.candidate import Candidate, describe_steps, step_evidence
from engine.qa.iir import iir_rounds
from engine.qa.primary import location_of, staged_primaries
from engine.qa.templates import pick_question
from engine.qa.view import ChainView
from engine.qa.wording import AXIS_SUBJECTS, capitalize, condition_text, fact_value_text, format_mm, join_words, not_stated, organ_adjective

AXES = ("T", "N", "M")
AXIS_NEIGHBOURS = {"T": ("invasion",), "N": (), "M": ("metastasis",)}
"""Other organs the IIR rounds visit before answering: invaded organs for T, metastasis sites for M."""
SOURCE_WORDS = {"pathology": "pathology report", "report": "CT report", "imaging": "lesion mask"}


def find_rule(kg, rule_id: str):
    """Return the compiled staging rule ``rule_id`` of ``kg``, or None."""
    for table in kg.tables:
        for rules in table.rules.values():
            for rule in rules:
                if rule.id == rule_id:
                    return rule
    return None


def axis_facts(kg, table_id: str, axis: str) -> list[str]:
    """Return the fact keys that the ``axis`` rules of staging table ``table_id`` read, in first-use order."""
    table = next((t for t in kg.tables if t.id == table_id), None)
    if table is None:
        return []
    keys = [edge.object.removeprefix("fact:") for rule in table.rules.get(axis, ()) for edge in kg.edges(f"rule:{rule.id}", "uses_fact")]
    return list(dict.fromkeys(keys))


def axis_missing(kg, stage, axis: str) -> list[str]:
    """Return the missing facts that the ``axis`` rules of the stage's table read (``StageResult.missing`` covers all axes)."""
    if not any(t.id == stage.table for t in kg.tables):
        return list(stage.missing)
    read = set(axis_facts(kg, stage.table, axis))
    return [fact for fact in stage.missing if fact in read]


def rule_text(rule) -> str:
    """Return what a rule requires, in words: its KG note, else its condition."""
    if rule.note:
        return rule.note.rstrip(".")
    return capitalize(condition_text(rule.when))


def deciding_facts(kg, rule, facts: dict[str, Any]) -> list[str]:
    """Return the facts that make ``rule`` fire, in words: only the true branch of an ``any`` counts.

    ``['2 tumours', 'tumour size 45 mm']`` for HCC T2 on two tumours of at most 5 cm.
    """
    from kg.conditions import evaluate
    from kg.staging import normalize_facts

    normalized = normalize_facts(kg, facts)
    keys: list[str] = []

    def collect(condition) -> None:
        if "all" in condition:
            for part in condition["all"]:
                collect(part)
        elif "any" in condition:
            true_part = next((part for part in condition["any"] if evaluate(part, normalized).value is True), None)
            if true_part is not None:
                collect(true_part)
        elif "fact" in condition:
            keys.append(condition["fact"])

    collect(rule.when)
    return [fact_value_text(key, facts[key]) for key in dict.fromkeys(keys) if key in facts]


def tnm_candidates(
    views: list[ChainView], kgs: dict[str, Any], facts_by_chain: dict[str, dict[str, Any]],
    imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random,
    sources_by_chain: dict[str, dict[str, str]] | None = None,
) -> list[Candidate]:
    """Return T, N and M questions for the staged primary tumour of each organ."""
    candidates: list[Candidate] = []
    for organ, group in staged_primaries(views, kgs).items():
        index = group[0]
        if index.chain.stage is None:
            continue
        chain_id = index.chain.chain_id
        facts = facts_by_chain.get(chain_id, {})
        sources = (sources_by_chain or {}).get(chain_id, {})
        for axis in AXES:
            candidates.append(_axis_candidate(axis, index, group, kgs[organ], facts, sources, imaging, report, rng))
    return candidates


def _axis_candidate(axis: str, view: ChainView, group: list[ChainView], kg, facts: dict[str, Any], sources: dict[str, str],
                    imaging, report, rng: random.Random) -> Candidate:
    stage = view.chain.stage
    category = getattr(stage, axis)
    rules = [rule for rule in (find_rule(kg, rid) for rid in stage.rules) if rule is not None and rule.axis == axis]
    steps = tuple(
        s for s in view.chain.steps
        if s.level == "impression" or (s.triplet.predicate == "staged_as" and s.triplet.object.removeprefix("stage:") == category)
    )
    lines = [_tumour_line(view, group)]
    if steps:
        lines.append(describe_steps(steps, view))
    lines.append(_facts_line(kg, stage.table, axis, facts, sources))
    for entry in view.chain.discordance:
        if entry.startswith(f"{axis}:"):
            lines.append(f"Imaging and pathology disagree ({entry}); the pathology facts are ground truth.")

    if category.endswith("X"):
        missing = axis_missing(kg, stage, axis)
        reason = not_stated(missing) if missing else "no rule of the table matches the stated facts"
        lines.append(f"No {axis} rule can be applied because {reason}, so the category is {category}.")
        answer = f"{category}: {AXIS_SUBJECTS[axis]} cannot be assessed, because {reason}."
        fields = {"axis": axis, "category": category, "determined": False, "missing": missing, "rules": []}
    else:
        deciding: list[str] = []
        for rule in rules:
            deciding = deciding_facts(kg, rule, facts)
            lines.append(_rule_line(rule, deciding, axis))
        reason = f": {join_words(deciding)}" if deciding else ""
        answer = f"The {axis} category is {category} (AJCC 8th edition){reason}."
        fields = {"axis": axis, "category": category, "determined": True, "missing": [], "rules": [r.id for r in rules]}

    fields.update({"organ": view.organ, "table": stage.table, "edition": stage.edition})
    tumour = f"{organ_adjective(view.organ, view.organ_name)} tumour"
    return Candidate(
        task_type="tnm", subtask=axis, organ=view.organ, question_key=f"{axis}:{view.organ}",
        question=pick_question(axis, rng, organ=view.organ_name, tumour=tumour), think="\n".join(lines), answer=answer, answer_fields=fields,
        steps=steps, chain_ids=tuple(v.chain.chain_id for v in group), evidence=step_evidence(steps),
        iir_rounds=iir_rounds(view, view.organ, view.organ_name, answer, report, imaging, neighbours=AXIS_NEIGHBOURS[axis]),
    )


def _rule_line(rule, deciding: list[str], axis: str) -> str:
    """Return the think line of a fired rule: what it requires and the facts that meet it."""
    required = rule_text(rule)
    required = required[:1].lower() + required[1:]
    given = join_words(deciding)
    if not given or given.casefold() == required.casefold():
        return f"Rule {rule.id} applies: {required}, so the {axis} category is {rule.category}."
    return f"Rule {rule.id} requires {required}; {given} {'meets' if len(deciding) == 1 else 'meet'} it, so the {axis} category is {rule.category}."


def _tumour_line(view: ChainView, group: list[ChainView]) -> str:
    """Return the sentence that names the staged tumour: impression, place, size, and how many lesions it has."""
    where = location_of(view) or f"the {view.organ_name}"
    size = f", {format_mm(view.size_mm)} mm" if view.size_mm is not None else ""
    several = f"; it is the largest of {len(group)} lesions of this tumour in the {view.organ_name}" if len(group) > 1 else ""
    return f"The primary tumour to stage is the {view.impression.name} in {where}{size}{several}."


def _facts_line(kg, table_id: str, axis: str, facts: dict[str, Any], sources: dict[str, str]) -> str:
    """Return the facts that the axis rules read, each with its source; 'none stated' when no such fact is known."""
    known = []
    for key in axis_facts(kg, table_id, axis):
        if key in facts:
            source = SOURCE_WORDS.get(sources.get(key, ""), "")
            known.append(fact_value_text(key, facts[key]) + (f" ({source})" if source else ""))
    stated = "; ".join(known) if known else "none stated"
    return f"Facts the {axis} rules of staging table {table_id} read (AJCC 8th edition): {stated}."
