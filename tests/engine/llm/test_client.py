"""LLMClient against the fake OpenAI-compatible server, through the real litellm client."""

from __future__ import annotations

import logging
import time

import pytest
from pydantic import BaseModel

from engine.config import AgentBackend, LLMSettings
from engine.llm import (
    Backoff,
    BudgetExhausted,
    ExternalProviderNotAllowed,
    LLMClient,
    LLMInvalidOutput,
    LLMRefused,
    LLMRequest,
    LLMUnavailable,
)
from engine.state import Usage
from tests.fakes.llm_server import (  # noqa: F401
    dropped,
    fake_llm,
    fenced,
    good,
    prose,
    rate_limited,
    refusal,
    server_error,
    slow,
    truncated,
)

LESION = {"organ": "pancreas", "finding": "hypodense mass", "size_mm": 32.0}


class Lesion(BaseModel):
    organ: str
    finding: str
    size_mm: float


def make_client(tmp_path, **settings) -> LLMClient:
    values = {"cache_dir": str(tmp_path / "cache"), "max_retries": 3, "timeout_s": 5.0}
    values.update(settings)
    return LLMClient(LLMSettings(**values), Usage(), backoff=Backoff(base_s=0.01, max_delay_s=0.2), seed=0)


def backend_for(server, model: str = "openai/fake-model") -> AgentBackend:
    return AgentBackend(backend="llm", model=model, api_base=server.url, max_tokens=256)


def ask(client: LLMClient, server, case_id: str = "case-1", text: str = "Hypodense mass in the pancreatic head, 3.2 cm.", **kw):
    messages = [{"role": "system", "content": "Extract the lesion as JSON."}, {"role": "user", "content": text}]
    return client.structured("extractor", kw.pop("backend", None) or backend_for(server), messages, Lesion,
                             case_id=case_id, prompt_hash="p" * 64, **kw)


def test_good_reply_is_validated(tmp_path, fake_llm):
    fake_llm.queue(good(LESION, prompt_tokens=11, completion_tokens=7))
    client = make_client(tmp_path)

    result = ask(client, fake_llm)

    assert result.value == Lesion(**LESION)
    assert result.attempts == 1
    assert result.cached is False
    assert (result.prompt_tokens, result.completion_tokens) == (11, 7)
    assert result.prompt_hash == "p" * 64
    assert len(fake_llm.requests) == 1


def test_request_carries_schema_and_settings(tmp_path, fake_llm):
    fake_llm.queue(good(LESION))
    ask(make_client(tmp_path), fake_llm)

    body = fake_llm.requests[0]
    assert body["model"] == "fake-model"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"].keys() == {"organ", "finding", "size_mm"}
    assert body["max_tokens"] == 256
    assert body["temperature"] == 0.0


def test_code_fenced_json_is_accepted(tmp_path, fake_llm):
    fake_llm.queue(fenced(LESION))
    result = ask(make_client(tmp_path), fake_llm)
    assert result.value.organ == "pancreas"
    assert len(fake_llm.requests) == 1


def test_prose_gets_one_corrective_retry(tmp_path, fake_llm):
    fake_llm.queue(prose("There is a mass in the pancreas."), good(LESION))
    result = ask(make_client(tmp_path), fake_llm)

    assert result.value.size_mm == 32.0
    assert result.attempts == 2
    retry_messages = fake_llm.requests[1]["messages"]
    assert retry_messages[-2]["role"] == "assistant"
    assert "no JSON object" in retry_messages[-1]["content"]


def test_schema_error_is_named_in_retry(tmp_path, fake_llm):
    fake_llm.queue(good({"organ": "pancreas", "finding": "mass"}), good(LESION))
    result = ask(make_client(tmp_path), fake_llm)

    assert result.attempts == 2
    correction = fake_llm.requests[1]["messages"][-1]["content"]
    assert "size_mm" in correction
    assert "Field required" in correction


def test_truncated_reply_fails_after_one_retry(tmp_path, fake_llm):
    fake_llm.queue(truncated(LESION), truncated(LESION))
    client = make_client(tmp_path)

    with pytest.raises(LLMInvalidOutput) as caught:
        ask(client, fake_llm)

    assert caught.value.reason_code == "llm_invalid_output"
    assert caught.value.attempts == 2
    assert "token limit" in fake_llm.requests[1]["messages"][-1]["content"]
    assert len(fake_llm.requests) == 2


def test_unbalanced_json_counts_as_truncated(tmp_path, fake_llm):
    fake_llm.queue(good('{"organ": "pancreas", "finding": "mass"'), good(LESION))
    result = ask(make_client(tmp_path), fake_llm)
    assert result.attempts == 2
    assert "never closes" in fake_llm.requests[1]["messages"][-1]["content"]


@pytest.mark.parametrize("as_field", [False, True])
def test_refusal_raises_without_retry(tmp_path, fake_llm, as_field):
    fake_llm.queue(refusal(as_field=as_field))
    with pytest.raises(LLMRefused) as caught:
        ask(make_client(tmp_path), fake_llm)
    assert caught.value.reason_code == "llm_refused"
    assert len(fake_llm.requests) == 1


def test_rate_limit_honours_retry_after(tmp_path, fake_llm):
    fake_llm.queue(rate_limited(retry_after_s=0.15), good(LESION))
    client = make_client(tmp_path)

    started = time.monotonic()
    result = ask(client, fake_llm)
    elapsed = time.monotonic() - started

    assert result.attempts == 2
    assert elapsed >= 0.15
    assert client.usage.calls["extractor"] == 1  # the 429 carried no usage and is not a billed call


def test_retry_after_is_capped(tmp_path, fake_llm):
    fake_llm.queue(rate_limited(retry_after_s=30), good(LESION))
    started = time.monotonic()
    ask(make_client(tmp_path), fake_llm)
    assert time.monotonic() - started < 5


def test_server_error_burst_then_success(tmp_path, fake_llm):
    fake_llm.queue(server_error(500), server_error(503), server_error(502), good(LESION))
    result = ask(make_client(tmp_path, max_retries=3), fake_llm)
    assert result.attempts == 4
    assert result.value.organ == "pancreas"


def test_dropped_connection_is_retried(tmp_path, fake_llm):
    fake_llm.queue(dropped(), good(LESION))
    result = ask(make_client(tmp_path), fake_llm)
    assert result.attempts == 2


def test_timeouts_exhaust_retries(tmp_path, fake_llm):
    fake_llm.queue(slow(1.5), slow(1.5), slow(1.5))
    client = make_client(tmp_path, max_retries=2, timeout_s=0.3)

    with pytest.raises(LLMUnavailable) as caught:
        ask(client, fake_llm)

    assert caught.value.reason_code == "llm_failed"
    assert caught.value.attempts == 3
    assert "Timeout" in str(caught.value)
    assert len(fake_llm.requests) == 3


def test_client_error_is_not_retried(tmp_path, fake_llm):
    # With nothing scripted the fake returns HTTP 400.
    with pytest.raises(LLMUnavailable) as caught:
        ask(make_client(tmp_path, max_retries=3), fake_llm)
    assert "not retried" in str(caught.value)
    assert len(fake_llm.requests) == 1


def test_cache_hit_sends_no_request(tmp_path, fake_llm):
    fake_llm.queue(good(LESION))
    first = ask(make_client(tmp_path), fake_llm)

    rerun_client = make_client(tmp_path)
    second = ask(rerun_client, fake_llm)

    assert len(fake_llm.requests) == 1
    assert second.cached is True
    assert second.value == first.value
    assert second.cost_usd == 0.0
    assert rerun_client.usage.cache_hits["extractor"] == 1
    assert rerun_client.usage.total_tokens == 0


def test_cache_key_covers_messages_and_schema(tmp_path, fake_llm):
    class OtherLesion(Lesion):
        note: str | None = None

    fake_llm.queue(good(LESION), good(LESION), good(LESION))
    client = make_client(tmp_path)
    ask(client, fake_llm)
    ask(client, fake_llm, text="Another report.")
    client.structured("extractor", backend_for(fake_llm), [{"role": "user", "content": "Hypodense mass"}], OtherLesion,
                      case_id="case-1", prompt_hash="p" * 64)
    assert len(fake_llm.requests) == 3


def test_invalid_reply_is_not_cached(tmp_path, fake_llm):
    fake_llm.queue(prose(), prose())
    with pytest.raises(LLMInvalidOutput):
        ask(make_client(tmp_path), fake_llm)
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_token_budget_stops_requests(tmp_path, fake_llm):
    fake_llm.queue(good(LESION, prompt_tokens=60, completion_tokens=50), good(LESION))
    client = make_client(tmp_path, budget_tokens=100, cache_dir=None)

    ask(client, fake_llm, case_id="case-1")
    with pytest.raises(BudgetExhausted) as caught:
        ask(client, fake_llm, case_id="case-2")
    with pytest.raises(BudgetExhausted):
        ask(client, fake_llm, case_id="case-3")

    assert caught.value.reason_code == "budget_exhausted"
    assert len(fake_llm.requests) == 1


def test_usd_budget_stops_requests(tmp_path, fake_llm):
    # gpt-4o-mini is in litellm's bundled price map, so a million prompt tokens cost about $0.15.
    fake_llm.queue(good(LESION, prompt_tokens=1_000_000, completion_tokens=10), good(LESION))
    client = make_client(tmp_path, budget_usd=0.10, cache_dir=None)

    first = ask(client, fake_llm, backend=backend_for(fake_llm, "openai/gpt-4o-mini"))
    with pytest.raises(BudgetExhausted):
        ask(client, fake_llm, case_id="case-2", backend=backend_for(fake_llm, "openai/gpt-4o-mini"))

    assert first.cost_usd > 0.10
    assert client.usage.total_cost_usd == pytest.approx(first.cost_usd)
    assert len(fake_llm.requests) == 1


def test_usage_is_kept_per_case(tmp_path, fake_llm):
    fake_llm.queue(good(LESION, prompt_tokens=5, completion_tokens=5), good(LESION, prompt_tokens=7, completion_tokens=3))
    client = make_client(tmp_path, cache_dir=None)
    ask(client, fake_llm, case_id="case-a")
    ask(client, fake_llm, case_id="case-b", text="other text")

    assert client.case_usage("case-a").total_tokens == 10
    assert client.case_usage("case-b").prompt_tokens == {"extractor": 7}
    assert client.case_usage("case-c").total_tokens == 0
    assert client.usage.total_tokens == 20


def test_unknown_model_costs_zero_but_counts_tokens(tmp_path, fake_llm):
    fake_llm.queue(good(LESION, prompt_tokens=40, completion_tokens=2))
    client = make_client(tmp_path, cache_dir=None)
    result = ask(client, fake_llm)
    assert result.cost_usd == 0.0
    assert client.usage.total_tokens == 42


def test_in_flight_requests_are_bounded(tmp_path, fake_llm):
    fake_llm.latency_s = 0.2
    fake_llm.responder = lambda body: good(LESION)
    client = make_client(tmp_path, cache_dir=None)
    requests = [
        LLMRequest("extractor", backend_for(fake_llm), [{"role": "user", "content": f"report {i}"}], Lesion, f"case-{i}", "p" * 64)
        for i in range(12)
    ]

    results = client.map_structured(requests, max_in_flight=3)

    assert all(not isinstance(r, Exception) for r in results)
    assert fake_llm.max_concurrent == 3


def test_map_keeps_failures_in_place(tmp_path, fake_llm):
    fake_llm.responder = lambda body: refusal() if "refuse" in body["messages"][-1]["content"] else good(LESION)
    client = make_client(tmp_path, cache_dir=None)
    requests = [
        LLMRequest("extractor", backend_for(fake_llm), [{"role": "user", "content": text}], Lesion, f"case-{i}", "p" * 64)
        for i, text in enumerate(["fine", "please refuse", "fine too"])
    ]

    results = client.map_structured(requests, max_in_flight=2)

    assert isinstance(results[1], LLMRefused)
    assert results[0].value.organ == "pancreas"
    assert results[2].value.organ == "pancreas"


def test_random_faults_never_yield_empty_results(tmp_path, fake_llm):
    fake_llm.set_fault_rate(0.4, kinds=("rate_limit", "server_error", "malformed"), seed=3)
    fake_llm.responder = lambda body: good(LESION)
    client = make_client(tmp_path, cache_dir=None, max_retries=6)
    requests = [
        LLMRequest("extractor", backend_for(fake_llm), [{"role": "user", "content": f"report {i}"}], Lesion, f"case-{i}", "p" * 64)
        for i in range(20)
    ]

    results = client.map_structured(requests, max_in_flight=4)

    for result in results:
        assert isinstance(result, Exception) or result.value == Lesion(**LESION)
    assert sum(not isinstance(r, Exception) for r in results) >= 15


def test_async_call_matches_sync(tmp_path, fake_llm):
    import asyncio

    fake_llm.queue(prose(), good(LESION))
    client = make_client(tmp_path)
    messages = [{"role": "user", "content": "Hypodense mass"}]
    result = asyncio.run(client.astructured("reasoner", backend_for(fake_llm), messages, Lesion, case_id="c", prompt_hash="h"))
    assert result.value.organ == "pancreas"
    assert result.attempts == 2
    assert client.usage.calls["reasoner"] == 2


def test_external_provider_rejected_by_default(tmp_path, fake_llm):
    client = make_client(tmp_path)
    with pytest.raises(ExternalProviderNotAllowed) as caught:
        ask(client, fake_llm, backend=AgentBackend(backend="llm", model="openai/gpt-4o-mini"))
    assert caught.value.reason_code == "external_provider_not_allowed"
    assert fake_llm.requests == []


def test_missing_model_is_a_config_error(tmp_path, fake_llm):
    with pytest.raises(ValueError, match="extractor.model"):
        ask(make_client(tmp_path), fake_llm, backend=AgentBackend(backend="llm", api_base=fake_llm.url))


def test_info_logs_hold_no_report_text(tmp_path, fake_llm, caplog):
    secret_text = "Hypodense mass in the uncinate process of Jane Roe."
    fake_llm.queue(prose("Jane Roe has an uncinate mass."), good(LESION))
    caplog.set_level(logging.DEBUG)

    ask(make_client(tmp_path), fake_llm, text=secret_text)

    info_and_above = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("llm call agent=extractor" in line for line in info_and_above)
    for line in info_and_above:
        assert "uncinate" not in line
        assert "Jane Roe" not in line
