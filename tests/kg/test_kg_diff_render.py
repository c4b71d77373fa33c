"""`kg diff` in clinical terms, and `kg render` to DOT, PNG and HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import load_organ
from kg.diff import diff_kgs
from kg.loader import load_file, organ_path
from kg.render import render, summary

SHIPPED_VERSION = load_organ("pancreas").file_version


def edited_pancreas(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = organ_path("pancreas").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "pancreas.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_diff_of_identical_files_is_empty():
    assert diff_kgs(load_organ("pancreas"), load_organ("pancreas")) == []


def test_diff_lists_added_removed_and_changed(tmp_path):
    new = edited_pancreas(
        tmp_path,
        (f"version: {SHIPPED_VERSION}", "version: 99.0.0"),
        ("zh: [胰头, 胰头部, 胰腺头部]", "zh: [胰头, 胰腺头部, 胰头区]"),
        ("      - {finding: double_duct_sign, strength: 0.8}\n", "      - {finding: double_duct_sign, strength: 0.9}\n"),
        ("      - {finding: distant_lesions, strength: 0.4}\n", ""),
        ("when: {fact: max_diameter_mm, op: gt, value: 40}", "when: {fact: max_diameter_mm, op: gt, value: 45}"),
        ("  - id: pseudocyst\n    name: pseudocyst\n", "  - id: pseudocyst\n    name: pancreatic pseudocyst histology\n"),
    )
    lines = [str(c) for c in diff_kgs(load_organ("pancreas"), load_file(new))]
    assert f"~ file: version: {SHIPPED_VERSION} -> 99.0.0" in lines
    assert "+ synonym: subregion 'pancreatic head': zh '胰头区'" in lines
    assert "- synonym: subregion 'pancreatic head': zh '胰头部'" in lines
    assert any(line.startswith("~ edge: finding 'double-duct sign' supports impression 'pancreatic ductal adenocarcinoma'") and "0.8 -> 0.9" in line for line in lines), lines
    assert any(line.startswith("- edge: finding 'distant lesions' supports impression 'pancreatic ductal adenocarcinoma'") for line in lines), lines
    assert any("pancreas_exocrine_T3" in line and "max_diameter_mm > 40" in line and "max_diameter_mm > 45" in line for line in lines), lines
    assert any(line.startswith("~ node: endpoint 'pancreatic pseudocyst histology': name") for line in lines), lines


def test_diff_flags_content_change_without_version_bump(tmp_path):
    new = edited_pancreas(tmp_path, ("strength: 0.8}", "strength: 0.7}"))
    lines = [str(c) for c in diff_kgs(load_organ("pancreas"), load_file(new))]
    assert any("bump it" in line for line in lines)


def test_diff_lists_added_structure(tmp_path):
    new = edited_pancreas(
        tmp_path,
        ("  - id: distant_lymph_nodes\n", "  - id: gastroduodenal_artery\n    name: gastroduodenal artery\n    group: vessel\n"
         "    synonyms: {en: [GDA], zh: [胃十二指肠动脉]}\n  - id: distant_lymph_nodes\n"),
    )
    lines = [str(c) for c in diff_kgs(load_organ("pancreas"), load_file(new))]
    assert "+ node: structure 'gastroduodenal artery': id structure:gastroduodenal_artery" in lines


@pytest.mark.parametrize("suffix", [".dot", ".png", ".html"])
@pytest.mark.parametrize("organ", ["pancreas", "esophagus"])
def test_render_writes_file_with_organ_nodes(tmp_path, organ, suffix):
    organ_kg = load_organ(organ)
    out = render(organ_kg, tmp_path / f"{organ}{suffix}")
    assert out.stat().st_size > 1000
    if suffix == ".png":
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return
    text = out.read_text(encoding="utf-8")
    for impression_id in organ_kg.impressions:
        assert f"impression:{impression_id}" in text
    assert organ_kg.subregions[0].node_id in text
    if suffix == ".html":
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text
        assert "<script>" in text


def test_render_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=".dot"):
        render(load_organ("liver"), tmp_path / "liver.svg")


def test_summary_names_tables_and_impressions():
    text = summary(load_organ("pancreas"))
    assert "pancreas_net" in text
    assert "pdac" in text
    assert load_organ("pancreas").version in text
