"""Sizes in report text and the split into findings, impression and conclusion."""

from __future__ import annotations

import pytest

from engine.text.sections import numbered_items, split_sections, standardize
from engine.text.sizes import find_sizes


@pytest.mark.parametrize(
    "text,axes",
    [
        ("a 43 mm mass", (43.0,)),
        ("a 3.0 x 4.0 cm mass", (40.0, 30.0)),
        ("measuring 2.4x3.4x2.7 cm", (34.0, 27.0, 24.0)),
        ("11 cm in diameter", (110.0,)),
        ("a 2-3 cm lesion", (30.0,)),
        ("a 2 to 3 cm lesion", (30.0,)),
        ("1.5 centimeters", (15.0,)),
        ("Tumor Size: 2.8 x 2.6 x 2.4 CM.", (28.0, 26.0, 24.0)),
        ("a 8.5 x 6.5 em tumor mass", (85.0, 65.0)),
        ("病灶大小约3.2厘米", (32.0,)),
        ("12毫米", (12.0,)),
    ],
)
def test_size_converted_to_mm(text, axes):
    sizes = find_sizes(text)
    assert len(sizes) == 1
    assert sizes[0].axes_mm == axes
    assert text[sizes[0].start : sizes[0].end] == sizes[0].text


def test_writer_unit_kept_without_rescaling():
    sizes = find_sizes("a 45 cm pancreatic mass")
    assert sizes[0].max_mm == 450.0


def test_no_size_in_sequence_names():
    assert find_sizes("T2 hyperintense lesion in segment 6") == []


def test_sections_and_standardized_report():
    text = "FINDINGS: Hypodense mass in the pancreatic head.\nIMPRESSION: 1. Pancreatic cancer.\n2. No liver metastasis.\nConclusion: PDAC."
    sections = split_sections(text)
    assert [s.name for s in sections] == ["findings", "impression", "conclusion"]
    report = standardize(text, sections)
    assert report.findings == "Hypodense mass in the pancreatic head."
    assert report.impression.startswith("1. Pancreatic cancer.")
    assert report.conclusion == "PDAC."


def test_numbered_impression_items():
    text = "IMPRESSION: 1. Pancreatic cancer. 2. No liver metastasis."
    section = split_sections(text)[0]
    items = numbered_items(text, section.start, section.end)
    assert [text[a:b].strip() for a, b in items] == ["1. Pancreatic cancer.", "2. No liver metastasis."]


def test_one_line_history_field_ends_at_line():
    text = "Clinical history: Jaundice.\nHypodense mass in the pancreatic head."
    sections = split_sections(text)
    assert [s.name for s in sections] == ["history", "findings"]


@pytest.mark.parametrize("heading", ["Report:", "DIAGNOSIS:", "Impression:", "CONCLUSION:"])
def test_heading_variants(heading):
    sections = split_sections(f"{heading} Mass in the liver.")
    assert sections[0].name in ("findings", "conclusion", "impression")
    assert sections[0].heading.casefold() == heading[:-1].casefold()
