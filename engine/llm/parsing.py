"""Defensive reading of a model reply: find the JSON, spot truncation and refusals.

OpenAI-compatible servers may ignore ``response_format`` and answer with prose,
with JSON inside a Markdown code fence, or with JSON cut off at the token limit.
This module turns such a reply into either a JSON string to validate or a
``ReplyProblem`` that explains, in words the model can act on, what was wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_REFUSAL = re.compile(
    r"\b(?:I\s*(?:'m|am)\s+sorry|I\s+(?:can(?:no|')t|cannot|won't|will\s+not|am\s+unable\s+to|'m\s+unable\s+to|am\s+not\s+able\s+to)"
    r"\s+(?:help|assist|comply|provide|do\s+that|fulfil|fulfill|answer)|I\s+must\s+decline|(?:can(?:no|')t|cannot)\s+assist)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReplyProblem:
    """Reason a reply contains no usable JSON; ``kind`` is truncated, no_json, multiple or refusal."""

    kind: str
    detail: str


def extract_json(content: str | None, finish_reason: str | None) -> str | ReplyProblem:
    """Return the JSON object text of a reply, or the problem that prevents it.

    The reply is scanned for top-level ``{...}`` objects, skipping braces inside
    JSON strings, so code fences (nested, inline or inside a string) do not matter.
    Exactly one object that parses is returned, and repeats of the same object
    count once. Several different objects (or an array of several) are a
    ``multiple`` problem, because picking one would be a guess. With none that
    parses, the first balanced object is returned for schema validation to
    explain. ``finish_reason == "length"`` or an object that never closes is
    reported as truncation, even when a prefix would parse.
    """
    text = (content or "").strip()
    if finish_reason == "length":
        return ReplyProblem("truncated", "the reply was cut off at the token limit (finish_reason 'length'); answer with shorter JSON")
    if not text:
        return ReplyProblem("no_json", "the reply was empty; answer with one JSON object")

    objects, unclosed = _top_level_objects(text)
    parsed: list[str] = []
    first_valid = ""
    for candidate in objects:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        normalized = json.dumps(value, sort_keys=True)
        if normalized not in parsed:
            parsed.append(normalized)
            if len(parsed) == 1:
                first_valid = candidate
    if len(parsed) > 1:
        return ReplyProblem("multiple", f"the reply contained {len(parsed)} different JSON objects; answer with exactly one JSON object")
    if parsed:
        return first_valid
    if objects:
        return objects[0]
    if unclosed:
        return ReplyProblem("truncated", "the JSON object in the reply never closes (unbalanced braces); answer with complete JSON")
    if is_refusal(text):
        return ReplyProblem("refusal", "the model declined to answer")
    return ReplyProblem("no_json", "the reply contained no JSON object; answer with one JSON object and no prose")


def _top_level_objects(text: str) -> tuple[list[str], bool]:
    """Return the balanced top-level ``{...}`` spans of ``text`` and whether one never closes."""
    objects: list[str] = []
    position = text.find("{")
    while position >= 0:
        end = _matching_brace(text, position)
        if end is None:
            return objects, True
        objects.append(text[position : end + 1])
        position = text.find("{", end + 1)
    return objects, False


def is_refusal(text: str) -> bool:
    """Tell whether prose reads as a refusal ("I'm sorry, but I can't help with that")."""
    return bool(_REFUSAL.search(text))


def _matching_brace(text: str, start: int) -> int | None:
    """Return the index of the brace closing the one at ``start``, skipping braces inside strings."""
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None
