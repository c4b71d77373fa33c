"""The llm reasoner end to end against the local fake server, with the calibrator's repairs."""

from __future__ import annotations

import json

from engine.agents import calibrator, reasoner
from engine.llm import load_prompt
from tests.fakes.llm_server import fake_llm, prose  # noqa: F401

REPORT = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring 30 mm.\n"
    "IMPRESSION: Pancreatic ductal adenocarcinoma."
)
HALLUCINATED_STEP = {
    "step_id": "F9", "level": "finding", "subject": "lesion:pancreatic_lesion", "predicate": "has_feature", "object": "finding:calcification",
    "sentence": "Coarse calcifications are present.", "cites": [{"fact_id": "rep-L1.signs", "value": "calcification"}], "confidence": 0.9,
}


def _section(prompt: str, header: str) -> list[dict]:
    after = prompt.split(header, 1)[1].lstrip("\n")
    return json.loads(after.split("\n", 1)[0])


def _prompt(body: dict) -> str:
    return body["messages"][-1]["content"]


def grounded_reply(body: dict) -> dict:
    """Build the reply a careful model would send: only edges from ALLOWED_EDGES, only facts from FACTS."""
    prompt = _prompt(body)
    facts = _section(prompt, "FACTS (JSON):")
    edges = _section(prompt, "ALLOWED_EDGES (JSON, subject / predicate / object / edge_id):")
    by_pair = {(e["subject"], e["object"]): e for e in edges}
    steps, findings = [], []
    for fact in facts:
        node = fact["kg_node"] or ""
        edge = by_pair.get(("lesion:pancreatic_lesion", node))
        if edge and node.startswith(("subregion:", "finding:")):
            steps.append({"step_id": f"F{len(steps) + 1}", "level": "finding", "subject": edge["subject"], "predicate": edge["predicate"], "object": node,
                          "sentence": f"The lesion shows {node.split(':')[1]}.", "cites": [{"fact_id": fact["fact_id"], "value": fact["value"]}], "confidence": 0.9})
            findings.append(fact)
    for number, fact in enumerate(f for f in findings if (f["kg_node"], "impression:pdac") in by_pair):
        steps.append({"step_id": f"Im{number + 1}", "level": "impression", "subject": fact["kg_node"], "predicate": "suggests", "object": "impression:pdac",
                      "sentence": "This supports pancreatic cancer.", "cites": [{"fact_id": fact["fact_id"], "value": fact["value"]}], "confidence": 0.7})
    size = next(f for f in facts if f["fact_id"].endswith(".max_diameter_mm"))
    for fact in facts:
        if fact["fact_id"].startswith("rule:"):
            steps.append({"step_id": "P1", "level": "pathology", "subject": "impression:pdac", "predicate": "staged_as", "object": fact["kg_node"],
                          "sentence": f"The tumour is {fact['value']}.", "cites": [{"fact_id": fact["fact_id"], "value": fact["value"]}, {"fact_id": size["fact_id"], "value": size["value"]}], "confidence": 0.8})
    return {"impression": "pdac", "steps": steps}


def hallucinating_reply(body: dict) -> dict:
    reply = grounded_reply(body)
    reply["steps"].insert(1, HALLUCINATED_STEP)
    return reply


def _run(make_state, make_ctx, server):
    ctx = make_ctx(backend="llm", api_base=server.url)
    state = reasoner.run(make_state(REPORT), ctx)
    return state, ctx


def test_llm_chain_accepted_end_to_end(make_state, make_ctx, fake_llm):
    fake_llm.responder = grounded_reply
    state, ctx = _run(make_state, make_ctx, fake_llm)
    chain = state.chains[0]

    assert (chain.organ, chain.backend, chain.model) == ("pancreas", "llm", "openai/fake-reasoner")
    assert chain.prompt_hash == load_prompt("reasoner").sha256
    assert chain.stage.T == "T2"
    assert all(step.kg_edge_id for step in chain.steps)
    density = next(s for s in chain.steps if s.triplet.object == "finding:hypodense")
    assert density.evidence[0].span is not None
    calibrated = calibrator.run(state, ctx)
    assert [c.status for c in calibrated.chains] == ["accepted"]
    assert calibrated.chains[0].repairs == ()
    assert len(fake_llm.requests) == 1


def test_prompt_sends_facts_and_allowed_edges(make_state, make_ctx, fake_llm, kgs):
    fake_llm.responder = grounded_reply
    _run(make_state, make_ctx, fake_llm)
    prompt = _prompt(fake_llm.requests[0])
    facts = {f["fact_id"]: f["value"] for f in _section(prompt, "FACTS (JSON):")}
    edges = {e["edge_id"] for e in _section(prompt, "ALLOWED_EDGES (JSON, subject / predicate / object / edge_id):")}

    assert facts["rep-L1.density"] == "hypodense"
    assert facts["rep-L1.max_diameter_mm"] == "30"
    assert facts["rule:pancreas_exocrine_T2.category"] == "T2"
    assert "finding:hypodense|suggests|impression:pdac" in edges
    assert "finding:cystic|contradicts|impression:pdac" not in edges
    assert all(kgs["pancreas"].find_edge(*edge.split("|")) for edge in edges)


def test_planted_hallucination_is_repaired(make_state, make_ctx, fake_llm):
    replies = iter([hallucinating_reply, grounded_reply])
    fake_llm.responder = lambda body: next(replies)(body)
    state, ctx = _run(make_state, make_ctx, fake_llm)
    before = state.chains[0]
    failures = calibrator.check_chain(before, state, ctx)
    assert {(f.code, f.step_id) for f in failures} == {("hallucinated_finding", "F2")}

    after = calibrator.run(state, ctx).chains[0]

    assert after.status == "accepted"
    assert [(r.round, r.strategy, r.resolved) for r in after.repairs] == [(1, "expand_region", True)]
    assert "finding:calcification" not in {s.triplet.object for s in after.steps}
    assert len(after.steps) == len(before.steps) - 1
    repair_prompt = _prompt(fake_llm.requests[1])
    assert "hallucinated_finding" in repair_prompt
    assert "rep-L1.signs" in repair_prompt


def test_persistent_hallucination_is_rejected(make_state, make_ctx, fake_llm):
    fake_llm.responder = hallucinating_reply
    state, ctx = _run(make_state, make_ctx, fake_llm)

    calibrated = calibrator.run(state, ctx)

    assert calibrated.chains == ()
    rejected = calibrated.extras["rejected_chains"][0]
    assert (rejected.status, rejected.reject_code) == ("rejected", "hallucinated_finding")
    assert [r.strategy for r in rejected.repairs] == ["expand_region", "expand_region"]
    assert len(fake_llm.requests) == 3
    record = calibrated.rejects[0]
    assert (record.agent, record.reason_code, record.organ) == ("calibrator", "hallucinated_finding", "pancreas")
    assert "rep-L1.signs" in record.message


def test_non_edge_triplet_is_flagged(make_state, make_ctx, fake_llm):
    def reply(body):
        answer = grounded_reply(body)
        answer["steps"].append({"step_id": "Im9", "level": "impression", "subject": "finding:hypodense", "predicate": "suggests",
                                "object": "impression:serous_cystadenoma", "sentence": "Could be a serous cystadenoma.",
                                "cites": [{"fact_id": "rep-L1.density", "value": "hypodense"}], "confidence": 0.3})
        return answer

    fake_llm.responder = reply
    state, ctx = _run(make_state, make_ctx, fake_llm)
    chain = state.chains[0]
    planted = next(s for s in chain.steps if s.triplet.object == "impression:serous_cystadenoma")

    assert planted.kg_edge_id is None
    assert ("kg_edge_missing", planted.step_id) in {(f.code, f.step_id) for f in calibrator.check_chain(chain, state, ctx)}


def test_llm_failure_rejects_organ(make_state, make_ctx, fake_llm):
    fake_llm.responder = lambda body: prose("I think it is a pancreatic cancer.")
    state, _ = _run(make_state, make_ctx, fake_llm)

    assert state.chains == ()
    assert [(r.agent, r.reason_code, r.organ) for r in state.rejects] == [("reasoner", "llm_invalid_output", "pancreas")]


def test_normal_organ_needs_no_llm_call(make_state, make_ctx, fake_llm):
    fake_llm.responder = grounded_reply
    ctx = make_ctx(backend="llm", api_base=fake_llm.url)
    state = reasoner.run(make_state(REPORT.replace("\nIMPRESSION", " The liver is unremarkable.\nIMPRESSION")), ctx)
    liver = next(c for c in state.chains if c.organ == "liver")

    assert liver.normal
    assert liver.backend == "rules"
    assert len(fake_llm.requests) == 1
