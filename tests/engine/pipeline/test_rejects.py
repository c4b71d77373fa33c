"""Bad cases become reject rows with zero samples; the pipeline never raises."""

from __future__ import annotations

import logging

import pytest

from data_contracts import CaseInput
from engine.pipeline import case_input_hash, run_case
from tests.engine.pipeline.conftest import real_case


@pytest.mark.shared_data
def test_missing_ct_rejected_without_samples(shared_data, engine_ctx, tmp_path):
    case = real_case(shared_data, "pancreas_pdac_01.txt").model_copy(update={"ct_path": str(tmp_path / "absent.nii.gz")})
    result = run_case(case, engine_ctx)

    assert result.samples == []
    assert len(result.rejects) == 1
    assert result.rejects[0].reason_code == "missing_file"
    assert result.rejects[0].agent == "segmenter"
    assert result.rejects[0].input_hash == result.input_hash


@pytest.mark.shared_data
def test_binary_report_rejected(shared_data, engine_ctx, tmp_path):
    report = tmp_path / "report.txt"
    report.write_bytes(bytes(range(256)) * 8)
    case = real_case(shared_data, "pancreas_pdac_01.txt").model_copy(update={"report_path": str(report)})
    result = run_case(case, engine_ctx)

    assert result.samples == []
    assert [r.agent for r in result.rejects] == ["extractor"]
    assert result.rejects[0].reason_code in ("report_binary", "report_decode")


@pytest.mark.shared_data
def test_unexpected_error_becomes_internal_error(shared_data, engine_ctx, monkeypatch, caplog):
    from engine.agents import reasoner

    def broken(state, ctx):
        raise ZeroDivisionError("division by zero in a test")

    monkeypatch.setattr(reasoner, "run", broken)
    with caplog.at_level(logging.ERROR, logger="engine.pipeline"):
        result = run_case(real_case(shared_data, "pancreas_pdac_01.txt"), engine_ctx)

    assert result.samples == []
    assert result.rejects[-1].reason_code == "internal_error"
    assert result.rejects[-1].agent == "reasoner"
    assert "ZeroDivisionError" in result.rejects[-1].message
    assert any(record.exc_info for record in caplog.records)


@pytest.mark.shared_data
def test_typed_llm_error_keeps_its_reason_code(shared_data, engine_ctx, monkeypatch):
    from engine.agents import summarizer
    from engine.llm import LLMUnavailable

    def failing(state, ctx):
        raise LLMUnavailable("provider kept failing in a test", agent="summarizer", case_id=state.case.case_id)

    monkeypatch.setattr(summarizer, "run", failing)
    result = run_case(real_case(shared_data, "pancreas_pdac_01.txt"), engine_ctx)

    assert result.samples == []
    assert result.rejects[-1].reason_code == "llm_failed"
    assert result.rejects[-1].agent == "summarizer"


@pytest.mark.shared_data
def test_input_hash_follows_file_content(shared_data, engine_ctx, tmp_path):
    report = tmp_path / "report.txt"
    report.write_text("Pancreas: 3 cm hypodense mass in the head.", encoding="utf-8")
    case = real_case(shared_data, "pancreas_pdac_01.txt").model_copy(update={"report_path": str(report)})
    before = case_input_hash(case, engine_ctx)
    assert case_input_hash(case, engine_ctx) == before

    report.write_text("Pancreas: 4 cm hypodense mass in the head.", encoding="utf-8")
    assert case_input_hash(case, engine_ctx) != before


def test_input_hash_covers_folder_files(engine_ctx, tmp_path):
    series = tmp_path / "dicom"
    series.mkdir()
    (series / "1.dcm").write_bytes(b"slice one")
    case = CaseInput(case_id="folder-case", ct_path=str(series))
    before = case_input_hash(case, engine_ctx)

    (series / "2.dcm").write_bytes(b"slice two")
    assert case_input_hash(case, engine_ctx) != before
