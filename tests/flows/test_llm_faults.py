"""The flow with every LLM agent on the local fake server while 25% of the calls fail."""

from __future__ import annotations

import csv
import logging
import re
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from engine.config import AgentBackend, EngineConfig, LLMSettings
from flows.engine_flow import run_engine_inline, tumorcot_engine
from flows.params import EngineRunParams
from flows.validate import validate_dataset
from tests.fakes.llm_server import FAULT_KINDS, fake_llm, prose, server_error  # noqa: F401
from tests.flows.llm_responder import AgentResponder

LLM_AGENTS = ("extractor", "reasoner", "calibrator", "summarizer")
LLM_REJECT_CODES = {"llm_failed", "llm_invalid_output"}
FAULT_RATE = 0.25
CLIENT_TIMEOUT_S = 1.0


def llm_params(manifest: Path, out: Path, api_base: str) -> EngineRunParams:
    backend = AgentBackend(backend="llm", model="openai/fake", api_base=api_base)
    # No response cache: a cached reply from the reference run would hide the faults.
    settings = LLMSettings(cache_dir=None, max_retries=3, timeout_s=CLIENT_TIMEOUT_S)
    config = EngineConfig(**{agent: backend for agent in LLM_AGENTS}, llm=settings)
    return EngineRunParams(manifest=str(manifest), out=str(out), config=config, batch_size=2, concurrency=2, case_threads=2, write_report=False)


class FailingCases(AgentResponder):
    """The careful fake model, except that two cases always fail: one with HTTP 500, one with prose."""

    def __init__(self, server_error_case: str, malformed_case: str):
        super().__init__()
        self.server_error_case = server_error_case
        self.malformed_case = malformed_case

    def __call__(self, body: dict):
        name = body.get("response_format", {}).get("json_schema", {}).get("name", "")
        prompt = str(body["messages"][0].get("content", "")) if body.get("messages") else ""
        if name == "SummaryReply" and re.search(rf"\b{re.escape(self.server_error_case)}/", prompt):
            return server_error(500)
        if name == "DraftChain" and f"Case: {self.malformed_case}\n" in prompt:
            return prose("I would describe the lesion as suspicious, but here is no JSON.")
        return super().__call__(body)


def _samples_by_case(folder: Path) -> dict[str, list[tuple]]:
    rows = pq.read_table(folder / "shards", columns=["case_id", "sample_id", "question", "answer", "answer_json"]).to_pylist()
    by_case: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_case[row["case_id"]].append((row["sample_id"], row["question"], row["answer"], row["answer_json"]))
    return {case_id: sorted(samples) for case_id, samples in by_case.items()}


def _case_ids(manifest: Path) -> list[str]:
    with manifest.open(encoding="utf-8") as handle:
        return [row["case_id"] for row in csv.DictReader(handle)]


def test_llm_faults_leave_only_valid_rows(phantom_cohort: Path, tmp_path: Path, fake_llm, prefect_api: str, caplog):  # noqa: F811
    case_ids = _case_ids(phantom_cohort)
    server_error_case, malformed_case = case_ids[0], case_ids[1]
    responder = FailingCases(server_error_case, malformed_case)
    responder.report_reply("FINDINGS: No focal liver lesion.")  # load medspacy before the client timeout can matter
    fake_llm.responder = responder

    reference = tmp_path / "reference"
    run_engine_inline(llm_params(phantom_cohort, reference, fake_llm.url))
    fake_llm.set_fault_rate(FAULT_RATE, FAULT_KINDS, seed=5, timeout_sleep_s=CLIENT_TIMEOUT_S + 0.5)
    out = tmp_path / "faulty"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tumorcot.llm"):
        summary = tumorcot_engine(llm_params(phantom_cohort, out, fake_llm.url))

    validation = validate_dataset(str(out))
    assert validation.ok, validation.problems
    client_warnings = [r.getMessage() for r in caplog.records if r.name == "tumorcot.llm"]
    for fault in ("RateLimitError", "InternalServerError", "Timeout", "llm reply invalid"):
        assert any(fault in message for message in client_warnings), f"no {fault} among the client's warnings"
    assert set(responder.schemas) >= {"LLMReport", "LLMPathology", "DraftChain", "CriticReply", "SummaryReply"}

    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    samples = _samples_by_case(out)
    reference_samples = _samples_by_case(reference)
    failed = [(r["case_id"], r["agent"], r["reason_code"]) for r in rejects if r["reason_code"] in LLM_REJECT_CODES]
    # A random fault can stop a scripted case at an earlier agent, so only the outcome is fixed.
    assert any(case_id == server_error_case for case_id, _, _ in failed), failed
    assert server_error_case not in samples
    assert any(case_id == malformed_case for case_id, _, _ in failed), failed
    if (malformed_case, "extractor") not in {(case_id, agent) for case_id, agent, _ in failed}:
        assert (malformed_case, "reasoner", "llm_invalid_output") in failed
    assert all(r["message"] and r["agent"] for r in rejects)
    assert summary.samples_total > 0

    # A case the faults did not defeat has exactly the samples of the fault-free run.
    llm_rejected = {case_id for case_id, _, _ in failed}
    for case_id in set(case_ids) - llm_rejected:
        assert samples.get(case_id) == reference_samples.get(case_id), f"case {case_id} differs from the fault-free run"
    for case_id in case_ids:
        assert case_id in samples or case_id in {r["case_id"] for r in rejects}, f"case {case_id} has neither samples nor a reject row"


def test_llm_samples_name_llm_backends(phantom_cohort: Path, tmp_path: Path, fake_llm):  # noqa: F811
    responder = AgentResponder()
    responder.report_reply("FINDINGS: No focal liver lesion.")
    fake_llm.responder = responder
    out = tmp_path / "ds"
    run_engine_inline(llm_params(phantom_cohort, out, fake_llm.url).model_copy(update={"max_cases": 1}))

    rows = pq.read_table(out / "shards", columns=["provenance"]).to_pylist()
    assert rows
    agents = {agent["agent"]: agent for agent in rows[0]["provenance"]["agents"]}
    for name in ("extractor", "reasoner", "summarizer"):
        assert agents[name]["backend"] == "llm", agents[name]
        assert agents[name]["model"] == "openai/fake"


def test_llm_failed_case_runs_again_on_resume(phantom_cohort: Path, tmp_path: Path, fake_llm):  # noqa: F811
    case_ids = _case_ids(phantom_cohort)
    responder = FailingCases(server_error_case=case_ids[0], malformed_case="none")
    responder.report_reply("FINDINGS: No focal liver lesion.")
    fake_llm.responder = responder
    params = llm_params(phantom_cohort, tmp_path / "ds", fake_llm.url)

    first = run_engine_inline(params)
    rejects = pq.read_table(tmp_path / "ds" / "rejects.parquet").to_pylist()
    assert (case_ids[0], "llm_failed") in {(r["case_id"], r["reason_code"]) for r in rejects}

    fake_llm.responder = AgentResponder()
    second = run_engine_inline(params)
    rejects = pq.read_table(tmp_path / "ds" / "rejects.parquet").to_pylist()

    assert second.cases_skipped == first.cases_planned - 1
    assert case_ids[0] in _samples_by_case(tmp_path / "ds")
    assert [r for r in rejects if r["reason_code"] == "llm_failed"] == []
    assert validate_dataset(str(tmp_path / "ds")).ok
