"""`tumorcot synth phantom` and `tumorcot synth implant` through the real CLI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app


def test_synth_phantom_writes_manifest(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "phantom", "--n", "2", "--out", str(tmp_path), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "manifest.csv").is_file()
    assert len((tmp_path / "manifest.jsonl").read_text().splitlines()) == 2


def test_synth_implant_writes_manifest(tmp_path: Path, example_ct: tuple[Path, Path]) -> None:
    ct, masks = example_ct
    result = CliRunner().invoke(app, ["synth", "implant", "--ct", str(ct), "--masks", str(masks), "--out", str(tmp_path), "--n", "2"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "manifest.jsonl").is_file()


def test_synth_implant_missing_ct_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "implant", "--ct", str(tmp_path / "absent.nii.gz"), "--masks", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "absent.nii.gz" in result.output
