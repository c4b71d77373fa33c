"""The pipeline with the reasoner and summarizer on the llm backend, against the local fake server."""

from __future__ import annotations

import json
import re

import pytest

from engine.config import AgentBackend, EngineConfig, LLMSettings
from engine.pipeline import build_context, run_case
from tests.engine.pipeline.conftest import real_case
from tests.fakes.llm_server import fake_llm  # noqa: F401


def _section(text: str, title: str) -> str:
    start = text.index(title) + len(title)
    return text[start:].lstrip()


def _json_after(text: str, title: str):
    return json.JSONDecoder().raw_decode(_section(text, title))[0]


def draft_chain(prompt: str) -> dict:
    """Build a reasoner reply from the prompt's FACTS and ALLOWED_EDGES, as a careful model would."""
    facts = _json_after(prompt, "FACTS (JSON):")
    edges = _json_after(prompt, "ALLOWED_EDGES (JSON, subject / predicate / object / edge_id):")
    by_object = {}
    for edge in edges:
        if edge["predicate"] != "suggests" and edge["predicate"] != "staged_as":
            by_object.setdefault(edge["object"], edge)
    steps, stated = [], []
    for fact in facts:
        node = fact.get("kg_node") or ""
        edge = by_object.get(node)
        if edge is None or node in stated or node.startswith("stage:"):
            continue
        stated.append(node)
        steps.append({"step_id": f"F{len(steps) + 1}", "level": "finding", "subject": edge["subject"], "predicate": edge["predicate"],
                      "object": edge["object"], "sentence": f"The lesion {edge['predicate'].replace('_', ' ')} {node.split(':')[-1]}.",
                      "cites": [{"fact_id": fact["fact_id"], "value": fact["value"]}], "confidence": 0.9})
    support = {}
    for edge in edges:
        if edge["predicate"] == "suggests" and edge["subject"] in stated:
            support.setdefault(edge["object"], []).append(edge)
    impression = max(sorted(support), key=lambda imp: len(support[imp]), default="")
    for number, edge in enumerate(support.get(impression, []), start=1):
        steps.append({"step_id": f"Im{number}", "level": "impression", "subject": edge["subject"], "predicate": "suggests",
                      "object": impression, "sentence": f"{edge['subject']} suggests {impression}.", "cites": [], "confidence": 0.8})
    return {"impression": impression.removeprefix("impression:"), "steps": steps}


def summary_reply(prompt: str, invent: bool, undecided_stage: bool = False) -> dict:
    template = _section(prompt, "A template report built from the same chains, for reference:").strip()
    think, _, conclusion = template.rpartition("\n\n")
    if invent:
        think += "\nThere is also a 45 mm calcified mass."
    if undecided_stage:
        conclusion += " Staged TX NX MX."
    return {"think": think, "conclusion": conclusion}


def make_responder(invent_in_summary: bool = False, hallucinate_first_chain: bool = False, undecided_stage: bool = False):
    def responder(body: dict):
        name = body.get("response_format", {}).get("json_schema", {}).get("name", "")
        prompt = body["messages"][-1]["content"]
        if name == "DraftChain":
            draft = draft_chain(prompt)
            if hallucinate_first_chain and "REPAIR (JSON)" not in prompt and draft["steps"]:
                # A size the report never states: the calibrator must catch it and ask for a repair.
                draft["steps"][0]["cites"] = [{"fact_id": "rep-L9.max_diameter_mm", "value": "99"}]
            return draft
        if name == "SummaryReply":
            return summary_reply(prompt, invent_in_summary, undecided_stage)
        return "unexpected schema " + name
    return responder


def llm_config(url: str) -> EngineConfig:
    backend = AgentBackend(backend="llm", model="openai/fake-model", api_base=url)
    return EngineConfig(reasoner=backend, summarizer=backend, llm=LLMSettings(cache_dir=None, max_retries=1, timeout_s=10))


@pytest.mark.shared_data
def test_llm_reasoner_and_summarizer_end_to_end(shared_data, fake_llm):  # noqa: F811
    fake_llm.responder = make_responder(hallucinate_first_chain=True)
    ctx = build_context(llm_config(fake_llm.url))
    result = run_case(real_case(shared_data, "pancreas_pdac_01.txt"), ctx)

    assert result.samples, result.rejects
    schemas = {r.get("response_format", {}).get("json_schema", {}).get("name") for r in fake_llm.requests}
    assert {"DraftChain", "SummaryReply"} <= schemas
    assert any("REPAIR (JSON)" in r["messages"][-1]["content"] for r in fake_llm.requests)
    assert result.repairs >= 1
    agents = {a.agent: a for a in result.samples[0].provenance.agents}
    assert agents["summarizer"].backend == "llm"
    assert agents["summarizer"].model
    assert agents["summarizer"].prompt_hash
    assert result.usage.total_tokens > 0
    assert [f.message for f in result.flags if f.code == "hallucinated_finding"] == []
    report = next(s for s in result.samples if s.task_type == "cot_report")
    assert report.answer


@pytest.mark.shared_data
def test_llm_report_with_invented_fact_falls_back(shared_data, fake_llm):  # noqa: F811
    fake_llm.responder = make_responder(invent_in_summary=True)
    ctx = build_context(llm_config(fake_llm.url))
    result = run_case(real_case(shared_data, "pancreas_pdac_01.txt"), ctx)

    assert result.samples, result.rejects
    flags = [f for f in result.flags if f.code == "hallucinated_finding"]
    assert flags
    assert "45 mm" in flags[0].message
    for sample in result.samples:
        assert not re.search(r"\b45 mm\b", sample.think)


@pytest.mark.shared_data
def test_llm_report_printing_undecided_stage_falls_back(shared_data, fake_llm):  # noqa: F811
    fake_llm.responder = make_responder(undecided_stage=True)
    ctx = build_context(llm_config(fake_llm.url))
    result = run_case(real_case(shared_data, "pancreas_pdac_01.txt"), ctx)

    flags = [f for f in result.flags if f.code == "hallucinated_finding"]
    assert flags
    assert "undecided category 'TX'" in flags[0].message
    for sample in result.samples:
        if sample.task_type == "cot_report":
            assert "Staged TX NX MX" not in sample.answer


@pytest.mark.shared_data
def test_llm_refusal_rejects_case_without_samples(shared_data, fake_llm):  # noqa: F811
    def responder(body: dict):
        name = body.get("response_format", {}).get("json_schema", {}).get("name", "")
        if name == "SummaryReply":
            from tests.fakes.llm_server import refusal
            return refusal()
        return draft_chain(body["messages"][-1]["content"])

    fake_llm.responder = responder
    ctx = build_context(llm_config(fake_llm.url))
    result = run_case(real_case(shared_data, "pancreas_pdac_01.txt"), ctx)

    assert result.samples == []
    assert result.rejects[-1].reason_code == "llm_refused"
    assert result.rejects[-1].agent == "summarizer"
