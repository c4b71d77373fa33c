"""One lesion placed differently in the findings and the impression: one lesion, the findings place, one flag."""

from __future__ import annotations

import pytest

from engine.extraction import extract_report


def _location_flags(features):
    return [flag for flag in features.flags if flag.code == "inconsistent_location"]


def _current(features, organ):
    return [lesion for lesion in features.lesions if lesion.organ == organ and not lesion.negated]


def test_head_tail_mismatch_merged_with_findings_place(kgs):
    text = (
        "FINDINGS: There is a 3.1 x 2.6 cm hypodense mass in the pancreatic head.\n"
        "IMPRESSION: 3.1 cm mass in the pancreatic tail, most likely pancreatic ductal adenocarcinoma."
    )
    features = extract_report(text, "case-1", kgs)
    lesions = _current(features, "pancreas")
    assert len(lesions) == 1
    assert lesions[0].subregions == ("head",)
    assert lesions[0].impression_id == "pdac"
    flags = _location_flags(features)
    assert len(flags) == 1
    assert "'pancreatic head'" in flags[0].message
    assert "'pancreatic tail'" in flags[0].message


def test_merged_lesion_keeps_no_wrong_place_evidence(kgs):
    text = "FINDINGS: A 2.6 cm lesion in the left lobe of the liver.\nIMPRESSION: 2.6 cm right lobe liver lesion, consistent with hemangioma."
    features = extract_report(text, "case-1", kgs)
    lesion = _current(features, "liver")[0]
    assert lesion.subregions == ("left_lobe",)
    places = [item.span.text for item in lesion.evidence if item.field == "subregions"]
    assert places == ["left lobe"]
    assert len(_location_flags(features)) == 1


def test_organ_outside_kgs_flagged(kgs):
    text = "FINDINGS: There is a 4.5 cm hypodense mass in liver segment 6.\nIMPRESSION: 4.5 cm right renal mass, suspicious for malignancy."
    features = extract_report(text, "case-1", kgs)
    flags = _location_flags(features)
    assert len(flags) == 1
    assert "'right renal'" in flags[0].message
    assert [lesion.subregions for lesion in _current(features, "liver")] == [("segment_6",)]


def test_organ_in_other_kg_merged(kgs):
    text = "FINDINGS: A 3.2 cm hypodense mass in the pancreatic head.\nCONCLUSION: 3.2 cm mass in the liver."
    features = extract_report(text, "case-1", kgs)
    assert len(_location_flags(features)) == 1
    assert _current(features, "liver") == []
    assert len(_current(features, "pancreas")) == 1


def test_unsized_single_lesions_matched_by_organ(kgs):
    text = "FINDINGS: Hypodense mass in the pancreatic head.\nIMPRESSION: Pancreatic tail mass, likely adenocarcinoma."
    features = extract_report(text, "case-1", kgs)
    assert len(_location_flags(features)) == 1
    assert [lesion.subregions for lesion in _current(features, "pancreas")] == [("head",)]


@pytest.mark.parametrize(
    "text",
    [
        "FINDINGS: A 2.4 cm mass in the uncinate process.\nIMPRESSION: 2.4 cm pancreatic head mass, compatible with adenocarcinoma.",
        "FINDINGS: A 3 cm lesion in segment 6 of the liver.\nIMPRESSION: 3 cm right lobe liver lesion.",
        "FINDINGS: A 2 cm cyst in segment 2 of the liver and a 5 cm mass in segment 7.\nIMPRESSION: 5 cm segment 7 mass, likely HCC.",
    ],
)
def test_nested_or_distinct_places_not_flagged(text, kgs):
    assert _location_flags(extract_report(text, "case-1", kgs)) == []


def test_chinese_mismatch_flagged(kgs):
    text = "影像所见：胰头见一低密度肿块，大小约3.2cm。\n诊断意见：胰尾占位，大小约3.2cm，考虑胰腺癌。"
    features = extract_report(text, "case-1", kgs)
    assert len(_location_flags(features)) == 1
    assert [lesion.subregions for lesion in _current(features, "pancreas")] == [("head",)]
