"""`tumorcot case` on the real CT and masks: files written, summary printed, exit codes."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from data_contracts import Chain, VQASample


def _invoke(*args: str):
    from flows.cli import app

    return CliRunner().invoke(app, ["case", *args])


@pytest.mark.shared_data
def test_case_command_writes_samples_and_chains(shared_data, tmp_path):
    example = shared_data / "totalseg_example"
    out = tmp_path / "out"
    result = _invoke("--ct", str(example / "example_ct_sm.nii.gz"), "--masks", str(example / "example_seg.nii.gz"),
                     "--report", str(shared_data / "reports" / "pancreas_pdac_04.txt"), "--out", str(out))

    assert result.exit_code == 0, result.output
    samples = VQASample.from_table(pq.read_table(out / "samples.parquet"))
    lines = (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(samples) == len(lines)
    assert samples[0].case_id == "pancreas_pdac_04"
    assert {s.task_type for s in samples} == {"localization", "attribute", "tnm", "cot_report"}
    chains = [Chain.model_validate_json(line) for line in (out / "chains.jsonl").read_text(encoding="utf-8").splitlines()]
    assert chains
    assert "attribute" in result.output
    assert "repairs" in result.output
    assert json.loads(lines[0])["sample_id"] == samples[0].sample_id


@pytest.mark.shared_data
def test_case_command_exits_1_on_reject(shared_data, tmp_path):
    example = shared_data / "totalseg_example"
    out = tmp_path / "out"
    result = _invoke("--ct", str(tmp_path / "absent.nii.gz"), "--masks", str(example / "example_seg.nii.gz"),
                     "--report", str(shared_data / "reports" / "pancreas_pdac_01.txt"), "--out", str(out), "--case-id", "bad-case")

    assert result.exit_code == 1
    assert "missing_file" in result.output
    assert (out / "rejects.parquet").is_file()
    assert not (out / "samples.parquet").exists()
