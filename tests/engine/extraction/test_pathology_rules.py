"""Pathology rules backend: nodes, margins, invasion, grade and the stated stage with its edition."""

from __future__ import annotations

import pytest

from engine.extraction import extract_pathology
from engine.staging_facts import collect_facts, stage_case, stage_flags


def _extract(text, kgs, organ="colon"):
    return extract_pathology(text, "case-1", kgs, organ_hint=organ)


@pytest.mark.parametrize(
    "text,pair",
    [
        ("Metastatic adenocarcinoma is present in 7 of 20 lymph nodes (pN2).", (7, 20)),
        ("All 25 regional lymph nodes are negative for metastatic disease, 0/25, pN0.", (0, 25)),
        ("Thirty lymph nodes are negative for metastatic tumor.", (0, 30)),
        ("Tumour in 0 of 12 lymph nodes.", (0, 12)),
        ("A single (of 33) regional lymph node is positive for metastatic adenocarcinoma.", (1, 33)),
    ],
)
def test_node_counts(text, pair, kgs):
    features = _extract(text, kgs)
    assert (features.nodes_positive, features.nodes_examined) == pair


@pytest.mark.parametrize(
    "text,status",
    [
        ("Resection margins are negative for tumor.", "negative"),
        ("Margins: NEGATIVE.", "negative"),
        ("Proximal margin: Negative for tumor.", "negative"),
        ("Resection status: R1 (dorsal margin).", "positive"),
    ],
)
def test_margins(text, status, kgs):
    assert _extract(text, kgs).margins == status


@pytest.mark.parametrize(
    "text,lvi,pni",
    [
        ("Lymphovascular invasion is not identified. Extensive perineural invasion is present.", False, True),
        ("Perineural Invasion: NEGATIVE. Microvascular invasion: PRESENT", True, False),
        ("Vascular invasion: Not detected.", False, None),
        ("pT4, pN1(6/21), L1, V1, Pn1", True, True),
    ],
)
def test_invasion_flags(text, lvi, pni, kgs):
    features = _extract(text, kgs)
    assert features.lymphovascular_invasion is lvi
    assert features.perineural_invasion is pni


def test_histology_grade_size(kgs):
    text = "Histologic type: Invasive mucinous adenocarcinoma.\nHistologic grade: Poorly differentiated.\nA 5 x 4.5 cm tumor mass."
    features = _extract(text, kgs)
    assert features.histology == "colorectal_adenocarcinoma"
    assert features.malignant is True
    assert features.grade == "G3"
    assert features.tumor_size_mm == 50.0


def test_ocr_spaced_histology(kgs):
    features = extract_pathology("Clinical History\nPANCREATIC NE -UROENDO CRINE TUMOR\n", "case-1", kgs, organ_hint="pancreas")
    assert features.histology == "neuroendocrine_tumour"


@pytest.mark.parametrize(
    "text,stage,edition",
    [
        ("PATHOLOGIC STAGE (AJCC 7th Edition): pT2 pNX pMX", ("T2", "NX", "MX"), "AJCC7"),
        ("UICC, 6th Edition 2002: pT4, pN1(6/21), L1", ("T4", "N1", None), "UICC6"),
        ("Tumor invades into pericolonic fat (pT3). Metastatic adenocarcinoma in 7 of 20 nodes (pN2). (pMl).", ("T3", "N2", "M1"), None),
    ],
)
def test_stated_stage_and_edition(text, stage, edition, kgs):
    stated = _extract(text, kgs).stated_stage
    assert (stated.T, stated.N, stated.M) == stage
    assert stated.edition == edition


def test_pathology_facts_win_over_report(kgs):
    from engine.extraction import extract_report

    report = extract_report("A 3 cm hypodense mass in the pancreatic head, consistent with pancreatic adenocarcinoma.", "case-1", kgs)
    pathology = extract_pathology("Ductal adenocarcinoma, tumor size: 4.5 cm. Metastasis in 2 of 15 lymph nodes.", "case-1", kgs, organ_hint="pancreas")
    facts, sources = collect_facts("pancreas", report, pathology, kgs["pancreas"])
    assert facts["max_diameter_mm"] == 45.0
    assert sources["max_diameter_mm"] == "pathology"
    assert facts["nodes_positive"] == 2
    stage = stage_case(report, pathology, kgs)["pancreas"]
    assert (stage.T, stage.N) == ("T3", "N1")


def test_older_edition_disagreement_flagged(kgs):
    text = "Ductal adenocarcinoma of the pancreas, 6.8 x 4.0 x 2.6 cm. A single (of 33) regional lymph node is positive. [AJCC pT2 N1] (7th edition, 2010)."
    pathology = extract_pathology(text, "case-1", kgs, organ_hint="pancreas")
    stages = stage_case(None, pathology, kgs)
    assert stages["pancreas"].T == "T3"
    assert pathology.stated_stage.T == "T2"
    flags = stage_flags("case-1", pathology, stages)
    assert [flag.code for flag in flags] == ["stage_edition_mismatch"]


def test_empty_pathology_text(kgs):
    features = extract_pathology("", "case-1", kgs)
    assert features.histology is None and features.stated_stage is None
