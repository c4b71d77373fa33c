"""A careful fake model for the fake LLM server: answers every agent's schema from its own prompt.

``AgentResponder`` reads the request's ``response_format`` schema name and the
prompt, and replies as a model that follows the prompt would:

- ``LLMReport`` / ``LLMPathology`` (extractor): the rules extractor's features of
  the report text in the prompt, rewritten in the reply schema with verbatim quotes;
- ``DraftChain`` (reasoner): finding steps for the FACTS whose KG node is an
  ALLOWED_EDGES object, the impression the facts name, and staging steps that
  cite the KG rule facts;
- ``CriticReply`` (calibrator critic): no problems;
- ``SummaryReply`` (summarizer): the template report the prompt includes.

It sees nothing of the case beyond the request, so every reply passes through
the engine's own parsing and checks.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

FACTS_TITLE = "FACTS (JSON):"
EDGES_TITLE = "ALLOWED_EDGES (JSON, subject / predicate / object / edge_id):"
TEMPLATE_TITLE = "A template report built from the same chains, for reference:"
FINDING_PREDICATES_EXCLUDED = ("suggests", "staged_as")


class AgentResponder:
    """Callable for ``FakeLLMServer.responder`` that counts the requests per schema."""

    def __init__(self) -> None:
        import kg

        self.kgs = kg.load_all()
        self.schemas: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, body: dict) -> dict | str:
        name = body.get("response_format", {}).get("json_schema", {}).get("name", "")
        with self._lock:
            self.schemas[name] += 1
        prompt = _prompt_text(body)
        if name == "LLMReport":
            return self.report_reply(_report_text(body))
        if name == "LLMPathology":
            return self.pathology_reply(_report_text(body))
        if name == "DraftChain":
            return draft_chain(prompt)
        if name == "CriticReply":
            return {"problems": []}
        if name == "SummaryReply":
            return summary_reply(prompt)
        return f"the fake model has no answer for schema {name!r}"

    def report_reply(self, text: str) -> dict:
        """Return the rules extractor's report features as an ``LLMReport`` reply."""
        from engine.extraction import extract_report

        features = extract_report(text, "fake-llm", self.kgs)
        lesions = []
        for lesion in features.lesions:
            lesions.append({
                "organ": lesion.organ, "subregions": list(lesion.subregions), "impression": lesion.impression_id,
                "density": lesion.density, "enhancement": list(lesion.enhancement), "shape": lesion.shape,
                "boundary": lesion.boundary, "signs": list(lesion.signs), "count": lesion.count, "multiple": lesion.multiple,
                "sizes_mm": list(lesion.sizes_mm), "negated": lesion.negated, "certainty": lesion.certainty,
                "historical": lesion.historical, "evidence": _quotes(lesion.evidence),
            })
        return {
            "language": features.language,
            "standardized": features.standardized.model_dump(),
            "lesions": lesions,
            "nodes": [{**_fields(n, "organ", "station", "short_axis_mm", "count", "suspicious", "negated"), "evidence": _quotes(n.evidence)} for n in features.nodes],
            "vessels": [{**_fields(v, "vessel", "relation", "organ", "negated", "certainty"), "evidence": _quotes(v.evidence)} for v in features.vessels],
            "invasions": [{**_fields(i, "structure", "organ", "negated", "certainty"), "evidence": _quotes(i.evidence)} for i in features.invasions],
            "metastases": [{**_fields(m, "site", "count", "negated", "certainty"), "evidence": _quotes(m.evidence)} for m in features.metastases],
            "organs_normal": list(features.organs_normal),
        }

    def pathology_reply(self, text: str) -> dict:
        """Return the rules extractor's pathology features as an ``LLMPathology`` reply."""
        from engine.extraction import extract_pathology

        features = extract_pathology(text, "fake-llm", self.kgs)
        reply = features.model_dump(mode="json", exclude={"case_id", "evidence", "flags", "encoding", "backend", "model", "prompt_hash", "stated_stage"})
        reply["invaded_structures"] = list(features.invaded_structures)
        if features.stated_stage is not None:
            reply["stated_stage"] = _fields(features.stated_stage, "T", "N", "M", "edition", "text")
        reply["evidence"] = _quotes(features.evidence)
        return reply


def draft_chain(prompt: str) -> dict:
    """Return a ``DraftChain`` reply built only from the prompt's FACTS and ALLOWED_EDGES."""
    facts = _json_after(prompt, FACTS_TITLE)
    edges = _json_after(prompt, EDGES_TITLE)
    finding_edges: dict[str, dict] = {}
    for edge in edges:
        if edge["predicate"] not in FINDING_PREDICATES_EXCLUDED:
            finding_edges.setdefault(edge["object"], edge)

    steps: list[dict] = []
    stated: list[str] = []
    for node in dict.fromkeys(f.get("kg_node") or "" for f in facts):
        edge = finding_edges.get(node)
        if edge is None:
            continue
        cites = [{"fact_id": f["fact_id"], "value": f["value"]} for f in facts if f.get("kg_node") == node]
        stated.append(node)
        steps.append(_step("F", len(steps) + 1, "finding", edge, cites))

    impression = _named_impression(facts, edges, stated)
    if impression:
        number = 0
        for edge in edges:
            if edge["predicate"] == "suggests" and edge["object"] == impression and edge["subject"] in stated:
                number += 1
                steps.append(_step("Im", number, "impression", edge, []))
        rule_facts = [f for f in facts if f["fact_id"].startswith("rule:")]
        for number, fact in enumerate(rule_facts, start=1):
            edge = next((e for e in edges if e["predicate"] == "staged_as" and e["subject"] == impression and e["object"] == fact.get("kg_node")), None)
            if edge is not None:
                steps.append(_step("P", number, "pathology", edge, [{"fact_id": fact["fact_id"], "value": fact["value"]}]))
    return {"impression": impression.rsplit(":", 1)[-1] if impression else "", "steps": steps}


def summary_reply(prompt: str) -> dict:
    """Return a ``SummaryReply`` that restates the prompt's template report."""
    template = prompt[prompt.index(TEMPLATE_TITLE) + len(TEMPLATE_TITLE):].strip()
    think, _, conclusion = template.rpartition("\n\n")
    return {"think": think or template, "conclusion": conclusion or template}


def _named_impression(facts: list[dict], edges: list[dict], stated: list[str]) -> str:
    named = [f["kg_node"] for f in facts if str(f.get("kg_node") or "").startswith("impression:")]
    if named:
        return named[0]
    support = Counter(e["object"] for e in edges if e["predicate"] == "suggests" and e["subject"] in stated)
    return support.most_common(1)[0][0] if support else ""


def _step(prefix: str, number: int, level: str, edge: dict, cites: list[dict]) -> dict:
    words = edge["predicate"].replace("_", " ")
    sentence = f"{_label(edge['subject'])} {words} {_label(edge['object'])}."
    return {"step_id": f"{prefix}{number}", "level": level, "subject": edge["subject"], "predicate": edge["predicate"],
            "object": edge["object"], "sentence": sentence[0].upper() + sentence[1:], "cites": cites, "confidence": 0.9}


def _label(node: str) -> str:
    return node.rsplit(":", 1)[-1].replace("_", " ")


def _quotes(evidence: Any) -> list[dict]:
    return [{"field": item.field, "quote": item.span.text} for item in evidence]


def _fields(record: Any, *names: str) -> dict:
    return {name: getattr(record, name) for name in names}


def _prompt_text(body: dict) -> str:
    """Return the first user message: the prompt, before any corrective retry message."""
    for message in body.get("messages", []):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def _report_text(body: dict) -> str:
    text = _prompt_text(body)
    return text.removeprefix("Report:\n")


def _json_after(text: str, title: str) -> Any:
    start = text.index(title) + len(title)
    return json.JSONDecoder().raw_decode(text[start:].lstrip())[0]


