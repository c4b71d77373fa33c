"""`tumorcot kg` commands through typer's test runner: exit codes and JSON output."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from flows.cli.kg import app
from kg.loader import organ_path

RUNNER = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"


def test_lint_shipped_exits_zero():
    result = RUNNER.invoke(app, ["lint"])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_lint_broken_exits_one_with_file_line():
    path = FIXTURES / "unknown_finding.yaml"
    result = RUNNER.invoke(app, ["lint", str(path)])
    assert result.exit_code == 1
    assert f"{path}:51: unknown-reference: unknown finding 'hypodens'; did you mean 'hypodense'?" in result.output


def test_stage_prints_json():
    result = RUNNER.invoke(app, ["stage", "pancreas", "--facts", '{"max_diameter_mm": 21, "nodes_positive": 4, "distant_metastasis": false}'])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["T"] == "T2"
    assert payload["N"] == "N2"
    assert payload["M"] == "M0"
    assert payload["edition"] == "AJCC8"
    assert payload["rules"] == ["pancreas_exocrine_T2", "pancreas_exocrine_N2", "pancreas_exocrine_M0"]
    assert payload["missing"] == []


def test_stage_reports_missing_instead_of_guessing():
    result = RUNNER.invoke(app, ["stage", "stomach", "--facts", '{"max_diameter_mm": 30}'])
    payload = json.loads(result.output)
    assert payload["T"] == "TX"
    assert "depth" in payload["missing"]


def test_stage_reads_facts_file(tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"histology": "PNET", "max_diameter_mm": 20, "invaded_structures": ["胰"]}), encoding="utf-8")
    result = RUNNER.invoke(app, ["stage", "pancreas", "--facts", f"@{facts}"])
    assert result.exit_code == 2
    facts.write_text(json.dumps({"histology": "PNET", "max_diameter_mm": 20}), encoding="utf-8")
    result = RUNNER.invoke(app, ["stage", "pancreas", "--facts", f"@{facts}"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["T"] == "T2"


def test_stage_bad_json_exits_two():
    result = RUNNER.invoke(app, ["stage", "pancreas", "--facts", "{max_diameter_mm: 3"])
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_stage_unknown_fact_exits_two():
    result = RUNNER.invoke(app, ["stage", "pancreas", "--facts", '{"size_mm": 3}'])
    assert result.exit_code == 2
    assert "unknown fact 'size_mm'" in result.output


def test_stage_unknown_organ_exits_two():
    result = RUNNER.invoke(app, ["stage", "kidney", "--facts", "{}"])
    assert result.exit_code == 2


def test_diff_and_show_and_render(tmp_path):
    edited = tmp_path / "pancreas.yaml"
    shipped = organ_path("pancreas").read_text(encoding="utf-8")
    version = re.search(r"^version: (\S+)$", shipped, re.MULTILINE).group(1)
    edited.write_text(shipped.replace(f"version: {version}", "version: 99.0.0"), encoding="utf-8")
    result = RUNNER.invoke(app, ["diff", str(organ_path("pancreas")), str(edited)])
    assert result.exit_code == 0, result.output
    assert f"~ file: version: {version} -> 99.0.0" in result.output

    result = RUNNER.invoke(app, ["show", "liver"])
    assert result.exit_code == 0, result.output
    assert "liver_hcc" in result.output

    out = tmp_path / "colon.html"
    result = RUNNER.invoke(app, ["render", "colon", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_facts_command_lists_units():
    result = RUNNER.invoke(app, ["facts"])
    assert "max_diameter_mm (number) [mm]" in result.output
