"""`tumorcot segment` on real data."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flows.cli import app


def test_segment_prints_organs_by_name(shared_data):
    folder = shared_data / "totalseg_example"
    result = CliRunner().invoke(app, ["segment", "--ct", str(folder / "example_ct_sm.nii.gz"), "--masks", str(folder / "example_seg.nii.gz"), "--json"])
    document = json.loads(result.stdout)

    assert result.exit_code == 0, result.output
    assert document["organs"]["liver"]["voxel_count"] == 38634
    assert len(document["organs"]["liver"]["bbox_norm_xyz"]) == 6
    assert document["organs"]["esophagus"]["present"] is False


def test_segment_writes_out_file(shared_data, tmp_path):
    folder = shared_data / "totalseg_example"
    out = tmp_path / "features.json"
    result = CliRunner().invoke(app, ["segment", "--ct", str(folder / "example_ct_sm.nii.gz"), "--masks", str(folder / "segmentations"), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["organs"]["liver"]["present"] is True


def test_segment_reports_reject_with_exit_code(tmp_path, case_files):
    result = CliRunner().invoke(app, ["segment", "--ct", str(case_files[0]), "--masks", str(case_files[1]), "--require", "pancreas"])

    assert result.exit_code == 2
    assert "empty_organ" in result.output
