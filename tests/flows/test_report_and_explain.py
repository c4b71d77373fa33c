"""Dataset report HTML and the explain output on a small written dataset."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from benchmarks.sample_records import make_sample
from flows.cli import app
from flows.dataset_manifest import STATS_NAME, RunIdentity, finalize_dataset
from flows.explain import explain_sample, format_explanation
from flows.ledger import BatchEntry, CaseEntry, write_entry
from flows.report_html import build_report_html
from flows.shards import write_shard
from flows.storage import Storage


def _dataset(folder: Path, report_file: Path) -> Storage:
    storage = Storage.open(str(folder))
    samples = [make_sample("c1", 0, task_type="attribute", input_hash="h1"), make_sample("c1", 1, task_type="tnm", input_hash="h1")]
    written = write_shard(storage, "b1", samples)
    write_entry(storage, BatchEntry("b1", [CaseEntry("c1", "h1", "done", 2, "train", report_path=str(report_file))], written.path, 2, written.sha256, written.bytes, samples_by_task={"attribute": 1, "tnm": 1}))
    finalize_dataset(storage, RunIdentity("t", "0.1.0", "kg1", "cfg", "r1"), {"c1": "h1"}, [])
    return storage


def test_report_has_plots_and_samples(tmp_path: Path, report_file: Path):
    page = build_report_html(_dataset(tmp_path / "ds", report_file))
    assert page.count("<svg") >= 3
    assert "c1-attribute-0" in page
    assert "<mark>hypodense mass</mark>" in page
    assert "pancreas:e12" in page
    assert "http://" not in page.split("<svg", 1)[0]


def test_explain_marks_evidence_spans(tmp_path: Path, report_file: Path):
    _dataset(tmp_path / "ds", report_file)
    text = format_explanation(explain_sample(str(tmp_path / "ds"), "c1-tnm-1"))
    assert "KG edge: pancreas:e12" in text
    assert "A [[hypodense mass]] in the pancreatic head" in text


def test_cli_shards_commands(tmp_path: Path, report_file: Path):
    folder = tmp_path / "ds"
    _dataset(folder, report_file)
    runner = CliRunner()

    validate = runner.invoke(app, ["shards", "validate", str(folder)])
    stats = runner.invoke(app, ["shards", "stats", str(folder)])
    sql = runner.invoke(app, ["shards", "sql", str(folder), "SELECT count(*) AS n FROM samples WHERE task_type = 'tnm'"])
    report = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "r.html")])
    missing = runner.invoke(app, ["explain", "nope", "--shards", str(folder)])

    assert validate.exit_code == 0, validate.output
    assert "valid" in validate.output
    assert "attribute" in stats.output
    assert sql.exit_code == 0, sql.output
    assert sql.output.split()[-1] == "1"
    assert report.exit_code == 0, report.output
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert missing.exit_code == 1
    assert json.loads((folder / STATS_NAME).read_text())["cases"]["c1"]["report_path"] == str(report_file)
