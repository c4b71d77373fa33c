"""The optional LLM critic adds failures to the deterministic checks and never removes them."""

from __future__ import annotations

from engine.agents import calibrator, reasoner
from engine.config import AgentBackend
from tests.engine.reasoning.builders import imaging_features, mask_lesion, organ_features
from tests.fakes.llm_server import fake_llm  # noqa: F401

REPORT = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring 30 mm.\n"
    "IMPRESSION: Pancreatic ductal adenocarcinoma."
)


def _with_critic(ctx, server):
    critic = AgentBackend(backend="llm", model="openai/fake-critic", api_base=server.url)
    ctx.config = ctx.config.model_copy(update={"calibrator": critic})
    return ctx


def test_critic_problem_triggers_repair(make_state, make_ctx, fake_llm):
    replies = iter([
        {"problems": [{"code": "unsupported_impression", "step_id": "Im1", "message": "Im1 overstates the certainty of the diagnosis."}]},
        {"problems": []},
    ])
    fake_llm.responder = lambda body: next(replies)
    ctx = _with_critic(make_ctx(), fake_llm)
    state = reasoner.run(make_state(REPORT), ctx)

    chain = calibrator.run(state, ctx).chains[0]

    assert chain.status == "accepted"
    record = chain.repairs[0]
    assert (record.strategy, record.resolved) == ("suspected_causes", True)
    assert record.failed_checks[0].message.startswith("LLM critic:")
    assert record.failed_checks[0].step_id == "Im1"
    assert len(fake_llm.requests) == 2
    assert "CHAIN (JSON)" in fake_llm.requests[0]["messages"][-1]["content"]


def test_critic_cannot_clear_deterministic_failure(make_state, make_ctx, fake_llm):
    fake_llm.responder = lambda body: {"problems": []}
    imaging = imaging_features("case-1", [organ_features("pancreas", (0.4, 0.4, 0.4, 0.7, 0.6, 0.6), present=False)],
                               [mask_lesion("img-L1", "pancreas", (0.45, 0.45, 0.45, 0.55, 0.55, 0.55))])
    ctx = _with_critic(make_ctx(), fake_llm)
    state = reasoner.run(make_state(REPORT, imaging=imaging), ctx)

    calibrated = calibrator.run(state, ctx)

    assert calibrated.chains == ()
    assert calibrated.extras["rejected_chains"][0].reject_code == "imaging_text_mismatch"
    assert len(fake_llm.requests) == 3
