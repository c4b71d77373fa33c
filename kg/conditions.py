"""The condition language of staging rules: data only, evaluated without ``eval``.

A condition is one of

- a leaf ``{fact: NAME, op: OP, value: V}``, where NAME is a key of ``kg.schema.FACTS``
  and OP is allowed for that fact's type (``kg.schema.FACT_OPS``);
- ``{all: [C, ...]}``, ``{any: [C, ...]}`` or ``{not: C}``.

Evaluation is three-valued. A leaf whose fact is absent (or null) is unknown, and it
records the fact as missing. ``all`` is false when any part is false, ``any`` is true
when any part is true, and otherwise an unknown part makes the whole unknown. A rule
fires only when its condition is true, so an absent fact never makes a rule fire.

List facts (``structure_list``) contain distinct ids. ``contains`` tests one id,
``any_of`` and ``none_of`` test overlap with a list, ``other_than`` is true when the
fact contains an id outside the list, and ``count_*`` compare the number of ids.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kg.schema import FACT_OPS, FACTS, OPS

Resolver = Callable[[str, str], str | None]
"""``resolver(fact_type, name)`` returns the id that ``name`` denotes for that fact type, or None."""

LIST_VALUE_OPS = frozenset({"in", "not_in", "any_of", "none_of", "other_than"})
COUNT_OPS = frozenset({"count_eq", "count_ge", "count_le"})
COMPARE_OPS = frozenset({"lt", "le", "gt", "ge"})


@dataclass(frozen=True)
class ConditionIssue:
    """A problem in a condition; ``path`` is relative to the condition."""

    path: tuple[str | int, ...]
    code: str
    message: str


@dataclass
class Outcome:
    """Result of evaluating a condition: True, False, or None for unknown."""

    value: bool | None
    missing: set[str] = field(default_factory=set)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def check_condition(condition: Any, resolver: Resolver) -> list[ConditionIssue]:
    """Return every problem in ``condition``: shape, unknown facts, ops, values and names."""
    issues: list[ConditionIssue] = []
    _check(condition, (), resolver, issues)
    return issues


def _check(condition: Any, path: tuple[str | int, ...], resolver: Resolver, issues: list[ConditionIssue]) -> None:
    if not isinstance(condition, Mapping):
        issues.append(ConditionIssue(path, "invalid-condition", "a condition must be a mapping with 'fact', 'op' and 'value', or with 'all', 'any' or 'not'"))
        return
    keys = set(condition)
    combinators = keys & {"all", "any", "not"}
    if combinators:
        if len(keys) != 1:
            issues.append(ConditionIssue(path, "invalid-condition", f"a combinator must stand alone; found keys {sorted(keys)}: nest them as separate conditions"))
            return
        (name,) = combinators
        _check_combinator(name, condition[name], path + (name,), resolver, issues)
        return
    if keys != {"fact", "op", "value"}:
        unknown = sorted(str(k) for k in keys - {"fact", "op", "value"})
        absent = sorted({"fact", "op", "value"} - keys)
        detail = f"unknown keys {unknown}" if unknown else f"missing keys {absent}"
        hint = did_you_mean(unknown[0], ["fact", "op", "value", "all", "any", "not"]) if unknown else ""
        issues.append(ConditionIssue(path, "invalid-condition", f"a leaf condition needs exactly 'fact', 'op' and 'value': {detail}{hint}"))
        return
    _check_leaf(condition, path, resolver, issues)


def _check_combinator(name: str, body: Any, path: tuple[str | int, ...], resolver: Resolver, issues: list[ConditionIssue]) -> None:
    if name == "not":
        _check(body, path, resolver, issues)
        return
    if not isinstance(body, list) or not body:
        issues.append(ConditionIssue(path, "invalid-condition", f"'{name}' needs a non-empty list of conditions"))
        return
    for index, part in enumerate(body):
        _check(part, path + (index,), resolver, issues)


def _check_leaf(leaf: Mapping[str, Any], path: tuple[str | int, ...], resolver: Resolver, issues: list[ConditionIssue]) -> None:
    fact, op, value = leaf["fact"], leaf["op"], leaf["value"]
    if fact not in FACTS:
        issues.append(ConditionIssue(path + ("fact",), "unknown-fact", f"unknown fact '{fact}'{did_you_mean(fact, list(FACTS))}"))
        return
    fact_type = FACTS[fact].type
    allowed = FACT_OPS[fact_type]
    if op not in allowed:
        where = "" if op in OPS else did_you_mean(op, allowed)
        issues.append(ConditionIssue(path + ("op",), "invalid-op", f"op '{op}' cannot test {fact_type} fact '{fact}'{where}; use one of {', '.join(allowed)}"))
        return
    problem = _value_problem(fact_type, op, value)
    if problem:
        issues.append(ConditionIssue(path + ("value",), "invalid-value", f"fact '{fact}' with op '{op}': {problem}"))
        return
    if fact_type in ("structure_list", "layer", "histology") and op not in COUNT_OPS:
        names = value if isinstance(value, list) else [value]
        for index, name in enumerate(names):
            if resolver(fact_type, name) is None:
                where = path + ("value", index) if isinstance(value, list) else path + ("value",)
                issues.append(ConditionIssue(where, _unknown_code(fact_type), f"unknown {_kind_word(fact_type)} '{name}' in fact '{fact}'{_hint(resolver, fact_type, name)}"))


def _value_problem(fact_type: str, op: str, value: Any) -> str:
    if op in COUNT_OPS:
        return "" if _is_int(value) and value >= 0 else f"value must be a whole number >= 0, got {value!r}"
    if op in LIST_VALUE_OPS:
        if not isinstance(value, list) or not value:
            return f"value must be a non-empty list, got {value!r}"
        items = value
    else:
        items = [value]
    for item in items:
        if fact_type in ("number", "integer") and not _is_number(item):
            return f"value must be a number, got {item!r}"
        if fact_type == "boolean" and not isinstance(item, bool):
            return f"value must be true or false, got {item!r}"
        if fact_type in ("structure_list", "layer", "histology") and not isinstance(item, str):
            return f"value must be a name, got {item!r}"
    return ""


def _unknown_code(fact_type: str) -> str:
    return {"structure_list": "unknown-structure", "layer": "unknown-layer", "histology": "unknown-histology"}[fact_type]


def _kind_word(fact_type: str) -> str:
    return {"structure_list": "structure", "layer": "layer", "histology": "histology"}[fact_type]


def _hint(resolver: Resolver, fact_type: str, name: str) -> str:
    choices = getattr(resolver, "choices", None)
    return did_you_mean(name, choices(fact_type)) if choices else ""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def compile_condition(condition: Mapping[str, Any], resolver: Resolver) -> dict[str, Any]:
    """Return a copy of a checked condition with every name replaced by its id."""
    for name in ("all", "any"):
        if name in condition:
            return {name: [compile_condition(part, resolver) for part in condition[name]]}
    if "not" in condition:
        return {"not": compile_condition(condition["not"], resolver)}

    fact_type = FACTS[condition["fact"]].type
    value = condition["value"]
    if fact_type in ("structure_list", "layer", "histology") and condition["op"] not in COUNT_OPS:
        value = [resolver(fact_type, v) for v in value] if isinstance(value, list) else resolver(fact_type, value)
    return {"fact": condition["fact"], "op": condition["op"], "value": value}


def facts_of(condition: Mapping[str, Any]) -> list[str]:
    """Return the fact names a condition reads, in first-use order."""
    names: list[str] = []
    for leaf in _leaves(condition):
        if leaf["fact"] not in names:
            names.append(leaf["fact"])
    return names


def referenced_ids(condition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(fact type, id)`` for every name a compiled condition refers to."""
    refs: list[tuple[str, str]] = []
    for leaf in _leaves(condition):
        fact_type = FACTS[leaf["fact"]].type
        if fact_type in ("structure_list", "layer", "histology") and leaf["op"] not in COUNT_OPS:
            values = leaf["value"] if isinstance(leaf["value"], list) else [leaf["value"]]
            refs.extend((fact_type, v) for v in values)
    return refs


def _leaves(condition: Mapping[str, Any]):
    for name in ("all", "any"):
        if name in condition:
            for part in condition[name]:
                yield from _leaves(part)
            return
    if "not" in condition:
        yield from _leaves(condition["not"])
        return
    yield condition


def evaluate(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> Outcome:
    """Evaluate a compiled condition on normalised facts with three-valued logic."""
    if "all" in condition:
        parts = [evaluate(part, facts) for part in condition["all"]]
        if any(p.value is False for p in parts):
            return Outcome(False)
        return _combine(parts, True if all(p.value is True for p in parts) else None)
    if "any" in condition:
        parts = [evaluate(part, facts) for part in condition["any"]]
        if any(p.value is True for p in parts):
            return Outcome(True)
        return _combine(parts, False if all(p.value is False for p in parts) else None)
    if "not" in condition:
        inner = evaluate(condition["not"], facts)
        return Outcome(None if inner.value is None else not inner.value, inner.missing)

    fact = condition["fact"]
    if facts.get(fact) is None:
        return Outcome(None, {fact})
    return Outcome(_apply(condition["op"], facts[fact], condition["value"]))


def _combine(parts: list[Outcome], value: bool | None) -> Outcome:
    if value is not None:
        return Outcome(value)
    missing: set[str] = set()
    for part in parts:
        if part.value is None:
            missing |= part.missing
    return Outcome(None, missing)


def _apply(op: str, actual: Any, expected: Any) -> bool:
    if op in COUNT_OPS:
        count = len(set(actual))
        return {"count_eq": count == expected, "count_ge": count >= expected, "count_le": count <= expected}[op]
    if op == "contains":
        return expected in actual
    if op == "any_of":
        return bool(set(actual) & set(expected))
    if op == "none_of":
        return not set(actual) & set(expected)
    if op == "other_than":
        return bool(set(actual) - set(expected))
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    comparisons = {
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
    }
    return comparisons[op](actual, expected)


_OP_WORDS = {
    "eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "in", "not_in": "not in",
    "contains": "contains", "any_of": "includes any of", "none_of": "includes none of",
    "other_than": "includes something other than", "count_eq": "count =", "count_ge": "count >=", "count_le": "count <=",
}


def describe(condition: Mapping[str, Any]) -> str:
    """Return a condition as one line of text, for example ``max_diameter_mm > 20 and max_diameter_mm <= 40``."""
    for name in ("all", "any"):
        if name in condition:
            joiner = " and " if name == "all" else " or "
            return joiner.join(_describe_part(part) for part in condition[name])
    if "not" in condition:
        return f"not ({describe(condition['not'])})"
    value = condition["value"]
    if isinstance(value, list):
        value_text = "[" + ", ".join(str(v) for v in value) + "]"
    elif isinstance(value, bool):
        value_text = str(value).lower()
    else:
        value_text = str(value)
    return f"{condition['fact']} {_OP_WORDS.get(condition['op'], condition['op'])} {value_text}"


def _describe_part(part: Mapping[str, Any]) -> str:
    text = describe(part)
    return f"({text})" if ("all" in part or "any" in part) else text
