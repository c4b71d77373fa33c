"""AJCC 8th edition T, N and M from facts, by the staging rules of an organ KG.

Per axis, rules are tried in the order the YAML lists them (highest category first)
and the first rule whose condition is true fires. A rule whose condition is unknown
because a fact is absent does not fire. When no rule fires, the category is TX, NX or
MX and ``missing`` names the absent facts that the undecided rules read: the result
never guesses a category.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from data_contracts.staging import StageResult
from kg.conditions import did_you_mean, evaluate
from kg.model import CompiledTable, OrganKG
from kg.schema import FACTS, STAGE_AXES


class FactError(ValueError):
    """Facts given to ``stage`` are invalid; ``problems`` lists each one."""

    def __init__(self, organ: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"invalid staging facts for {organ}: " + " | ".join(problems))


def stage(kg: OrganKG, facts: Mapping[str, Any], table: str | None = None) -> StageResult:
    """Return the T, N and M categories that ``kg``'s rules assign to ``facts``.

    ``table`` forces a staging table by id. Without it, the first non-default table
    whose ``applies_when`` is true is used, else the default table: histology
    'neuroendocrine tumour' chooses 'pancreas_net'. Raises ``FactError`` for unknown
    fact keys, values of the wrong type, and names the KG cannot resolve.
    """
    normalized = normalize_facts(kg, facts)
    chosen = choose_table(kg, normalized, table)

    categories: dict[str, str] = {}
    fired: list[str] = []
    missing: set[str] = set()
    for axis in STAGE_AXES:
        category, rule_id, axis_missing = _stage_axis(chosen, axis, normalized)
        categories[axis] = category
        if rule_id:
            fired.append(rule_id)
        missing |= axis_missing

    order = list(FACTS)
    return StageResult(
        organ=kg.organ, T=categories["T"], N=categories["N"], M=categories["M"], table=chosen.id,
        rules=tuple(fired), missing=tuple(sorted(missing, key=order.index)),
    )


def _stage_axis(table: CompiledTable, axis: str, facts: Mapping[str, Any]) -> tuple[str, str | None, set[str]]:
    undecided: set[str] = set()
    for rule in table.rules[axis]:
        outcome = evaluate(rule.when, facts)
        if outcome.value is True:
            return rule.category, rule.id, set()
        if outcome.value is None:
            undecided |= outcome.missing
    return f"{axis}X", None, undecided


def choose_table(kg: OrganKG, facts: Mapping[str, Any], table: str | None = None) -> CompiledTable:
    """Return the staging table named ``table``, or the one the facts choose."""
    by_id = {t.id: t for t in kg.tables}
    if table is not None:
        if table not in by_id:
            raise FactError(kg.organ, [f"unknown staging table '{table}'{did_you_mean(table, list(by_id))}; tables: {', '.join(by_id)}"])
        return by_id[table]
    for candidate in kg.tables:
        if not candidate.default and candidate.applies_when and evaluate(candidate.applies_when, facts).value is True:
            return candidate
    return next(t for t in kg.tables if t.default)


def normalize_facts(kg: OrganKG, facts: Mapping[str, Any]) -> dict[str, Any]:
    """Check fact keys and types and resolve names to ids; null values count as absent."""
    if not isinstance(facts, Mapping):
        raise FactError(kg.organ, [f"facts must be a JSON object of fact -> value, got {type(facts).__name__}"])
    problems: list[str] = []
    normalized: dict[str, Any] = {}
    for key, value in facts.items():
        if key not in FACTS:
            problems.append(f"unknown fact '{key}'{did_you_mean(str(key), list(FACTS))}; known facts: {', '.join(FACTS)}")
            continue
        if value is None:
            continue
        converted, problem = _convert(kg, key, value)
        if problem:
            problems.append(problem)
        else:
            normalized[key] = converted
    if problems:
        raise FactError(kg.organ, problems)
    return normalized


def _convert(kg: OrganKG, key: str, value: Any) -> tuple[Any, str]:
    fact_type = FACTS[key].type
    if fact_type == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            return None, f"fact '{key}' must be a number >= 0 in {FACTS[key].unit or 'its unit'}, got {value!r}"
        return value, ""
    if fact_type == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return None, f"fact '{key}' must be a whole number >= 0, got {value!r}"
        return value, ""
    if fact_type == "boolean":
        if not isinstance(value, bool):
            return None, f"fact '{key}' must be true or false, got {value!r}"
        return value, ""
    if fact_type == "structure_list":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None, f"fact '{key}' must be a list of structure names, got {value!r}"
        return _resolve_names(kg, key, fact_type, names)
    if not isinstance(value, str):
        return None, f"fact '{key}' must be a name, got {value!r}"
    resolved, problem = _resolve_names(kg, key, fact_type, [value])
    return (resolved[0] if resolved else None), problem


def _resolve_names(kg: OrganKG, key: str, fact_type: str, names: list[str]) -> tuple[Any, str]:
    ids: list[str] = []
    for name in names:
        resolved = kg.resolver(fact_type, name)
        if resolved is None:
            choices = kg.resolver.choices(fact_type)
            return None, f"fact '{key}': '{name}' is not a known {fact_type.replace('_list', '')} of the {kg.organ} KG{did_you_mean(name, choices)}; add it as a synonym in {kg.organ}.yaml if it is one"
        if resolved not in ids:
            ids.append(resolved)
    return ids, ""
