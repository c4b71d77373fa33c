"""Extractor agent: file reading, backend dispatch, validation of either backend, rejects; and the CLI."""

from __future__ import annotations

import json

import pytest

from data_contracts import CaseInput, EvidenceSpan, FieldEvidence, LesionFinding, ReportFeatures
from engine.agents import extractor
from engine.config import AgentBackend, EngineConfig
from engine.state import CaseRejected, CaseState, EngineContext

REPORT = "FINDINGS: A 3.0 x 4.0 cm hypodense mass in the pancreatic head.\nIMPRESSION: Pancreatic adenocarcinoma.\n"


def _ctx(kgs, backend="rules"):
    config = EngineConfig(extractor=AgentBackend(backend=backend))
    return EngineContext(config=config, kgs=kgs, kg_version="test", engine_version="test")


def _state(tmp_path, report: bytes | None = REPORT.encode(), pathology: str | None = None):
    report_path = None
    if report is not None:
        report_path = tmp_path / "report.txt"
        report_path.write_bytes(report)
    pathology_path = None
    if pathology is not None:
        pathology_path = tmp_path / "pathology.txt"
        pathology_path.write_text(pathology, encoding="utf-8")
    case = CaseInput(case_id="case-1", ct_path="ct.nii.gz", report_path=str(report_path) if report_path else None,
                     pathology_path=str(pathology_path) if pathology_path else None)
    return CaseState(case=case)


def test_rules_backend_fills_state(tmp_path, kgs):
    state = extractor.run(_state(tmp_path, pathology="Ductal adenocarcinoma, tumor size: 4.5 cm. 0 of 12 lymph nodes."), _ctx(kgs))
    assert state.report.lesions[0].organ == "pancreas"
    assert state.report.lesions[0].impression_id == "pdac"
    assert state.pathology.nodes_examined == 12
    assert state.report_text == REPORT
    assert [p.agent for p in state.provenance] == ["extractor"]
    assert state.provenance[0].backend == "rules"


def test_missing_report_rejected(tmp_path, kgs):
    with pytest.raises(CaseRejected) as info:
        extractor.run(_state(tmp_path, report=None), _ctx(kgs))
    assert info.value.reason_code == "report_missing"
    assert info.value.agent == "extractor"


@pytest.mark.parametrize("content,code", [(b"", "report_empty"), (b"\x00\x01\x02\x03binary", "report_binary")])
def test_unreadable_report_rejected(tmp_path, kgs, content, code):
    with pytest.raises(CaseRejected) as info:
        extractor.run(_state(tmp_path, report=content), _ctx(kgs))
    assert info.value.reason_code == code


def test_report_text_in_state_wins(tmp_path, kgs):
    state = _state(tmp_path, report=None).replace(report_text="No focal liver lesion.")
    result = extractor.run(state, _ctx(kgs))
    assert result.report.lesions[0].negated


def test_llm_output_passes_same_validation(tmp_path, kgs, monkeypatch):
    from engine.extraction import llm_backend

    def fake_extract(text, case_id, ctx):
        wrong_span = EvidenceSpan(source="report", start=0, end=5, text="tumor")
        lesion = LesionFinding(finding_id="rep-L1", organ="pancreas", subregions=("head", "left_ventricle"), density="sparkly",
                               max_diameter_mm=400.0, evidence=(FieldEvidence(field="lesion", span=wrong_span),))
        return ReportFeatures(case_id=case_id, lesions=(lesion,), backend="llm", model="fake")

    monkeypatch.setattr(llm_backend, "extract_report_llm", fake_extract)
    state = extractor.run(_state(tmp_path), _ctx(kgs, backend="llm"))
    lesion = state.report.lesions[0]
    assert lesion.subregions == ("head",)
    assert lesion.density is None
    codes = {flag.code for flag in state.flags}
    assert {"kg_edge_missing", "implausible_size", "hallucinated_finding"} <= codes
    assert state.provenance[0].backend == "llm"


def test_cli_extract_prints_json(tmp_path, kgs):
    from typer.testing import CliRunner

    from flows.cli import app

    report = tmp_path / "report.txt"
    report.write_text(REPORT, encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    lesion = data["lesions"][0]
    assert lesion["organ"] == "pancreas"
    assert lesion["impression"] == {"id": "pdac", "name": "pancreatic ductal adenocarcinoma"}
    assert lesion["max_diameter_mm"] == 40.0
    assert set(lesion) >= {"subregions", "density", "enhancement", "shape", "boundary", "count", "certainty", "negated", "evidence"}
    assert data["staging"]["pancreas"]["T"] == "T2"
    assert "missing" in data["staging"]["pancreas"]
    assert isinstance(data["flags"], list)


def test_cli_reports_bad_file(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    report = tmp_path / "report.txt"
    report.write_bytes(b"")
    result = CliRunner().invoke(app, ["extract", "--report", str(report)])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "report_empty"
