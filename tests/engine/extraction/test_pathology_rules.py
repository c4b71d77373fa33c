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
        ("Lymph nodes: 4/23 positive", (4, 23)),
        ("Lyrnph nodes: 0/1 2 (NEGATIVE FOR METASTATIC CARCINOMA).", (0, 12)),
        ("FOURTEEN LYMPH NODES NEGATIVE FOR METASTATIC CARCINOMA (O/14).", (0, 14)),
        ("Lymph nodes: 2 of 19 involved (pN1)", (2, 19)),
        ("Three of fifteen perigastric lymph nodes contain metastatic carcinoma.", (3, 15)),
        ("Number of Lymph Nodes Involved: 4\nNumber of Lymph Nodes Examined: 23", (4, 23)),
        ("淋巴结转移性癌（2/15）。", (2, 15)),
        ("Regional lymph nodes: 0 positive / 17 examined", (0, 17)),
        ("淋巴结15枚，其中2枚见癌转移。", (2, 15)),
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
        ("Margins: uninvolved; closest margin 0.4 cm (radial)", "negative"),
        ("PROXIMAL, DISTAL AND RADIAL MARGINS NEGATIVE.", "negative"),
        ("The proximal and distal margins are free of tumour.", "negative"),
        ("CRM: clear (>1 mm)", "negative"),
        ("UNCINATE (SMA) MARGIN INVOLVED BY CARCINOMA (R1); ALL OTHER MARGINS NEGATIVE.", "positive"),
        ("The resection margin is not involved.", "negative"),
        ("上、下切缘及环周切缘均未见癌。", "negative"),
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
        ("LVI: present; PNI: not identified", True, False),
        ("- LYMPHOVASCULAR INVASION: NOT IDENTIFIED.\n- PERINEURAL INVASION: PRESENT.", False, True),
        ("脉管内见癌栓；神经侵犯（-）。", True, False),
        ("未见脉管侵犯，可见神经侵犯。", False, True),
        ("Vascular invasion (macroscopic): Not identified\nVascular invasion (microscopic): Present\nPerineural invasion: Not identified", True, False),
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
        ("- pT3 pN0 (AJCC 8th)", ("T3", "N0", None), "AJCC8"),
        ("Invading the submucosa (pT1b).\nTNM8: pT1b pN1", ("T1b", "N1", None), "UICC8"),
        ("Pathologic Stage Classification (pTNM, AJCC 8th Edition): pT3 pN2a", ("T3", "N2a", None), "AJCC8"),
        ("病理分期：pT3N1M0（AJCC第8版）。", ("T3", "N1", "M0"), "AJCC8"),
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
    assert features.histology is None
    assert features.stated_stage is None


@pytest.mark.parametrize(
    "text,organ,depth",
    [
        ("The tumour invades through the muscularis propria into the subserosal connective tissue without penetration of the serosa.",
         "stomach", "subserosa"),
        ("ADENOCARCINOMA, INVADING THROUGH MUSCULARIS PROPRIA INTO SUBSEROSAL ADIPOSE TISSUE (PT3).", "colon", "pericolorectal_tissue"),
        ("Squamous cell carcinoma invading into the submucosa. The muscularis propria is free of tumour.", "esophagus", "submucosa"),
        ("（食管）中分化鳞状细胞癌，浸润至外膜。", "esophagus", "adventitia"),
    ],
)
def test_depth_of_invasion(text, organ, depth, kgs):
    assert _extract(text, kgs, organ=organ).depth == depth


@pytest.mark.parametrize(
    "text,size",
    [
        ("- TUMOR SIZE: 3.2 x 2.5 x O.8 em.\nCOMMENT: The tumor is centered 1.5 cm above the junction.", 32.0),
        ("The tumour measures 3.8 x 3.0 cm. Lymphovascular invasion is identified.", 38.0),
        ("Maximum tumour dimension: 45 mm", 45.0),
        ("肿瘤大小4.0×3.0×1.0cm，浸润至外膜。", 40.0),
        ("Hepatocellular carcinoma, moderately differentiated (Edmondson-Steiner grade II), 4.2 cm, with microvascular invasion.", 42.0),
    ],
)
def test_tumor_size_forms(text, size, kgs):
    assert _extract(text, kgs, organ="esophagus").tumor_size_mm == size


@pytest.mark.parametrize("text,grade", [("（食管）中分化鳞状细胞癌", "G2"), ("低分化腺癌", "G3"), ("Histologic Grade: G2: Moderately differentiated", "G2")])
def test_grade_forms(text, grade, kgs):
    assert _extract(text, kgs, organ="esophagus").grade == grade


@pytest.mark.parametrize("text,count", [("Tumor focality: Solitary", 1), ("Tumor focality: multifocal, 2 tumors", 2), ("Tumor focality: multifocal", None)])
def test_tumor_focality(text, count, kgs):
    assert _extract(text, kgs, organ="liver").tumor_count == count


@pytest.mark.parametrize(
    "text,present,sites",
    [
        ("Distant metastasis: present (liver, biopsy proven)", True, ("liver",)),
        ("Distant metastasis: not identified in the submitted material", False, ()),
        ("Distant metastasis (pM):  Cannot evaluate pMX.", None, ()),
        ("Distant Metastasis: Not applicable", None, ()),
        ("Distant metastasis: pM1c (peritoneum)", True, ("peritoneum",)),
    ],
)
def test_distant_metastasis_line(text, present, sites, kgs):
    features = _extract(text, kgs)
    assert features.distant_metastasis is present
    assert features.metastasis_sites == sites


@pytest.mark.parametrize(
    "text,organ",
    [
        ("Specimen: Gastrectomy\nHistologic type: adenocarcinoma\nDistant metastasis: present (liver, biopsy proven)", "stomach"),
        ("Specimen: Pancreaticoduodenectomy (Whipple procedure)\nHistologic type: ductal adenocarcinoma\nDistant metastasis: not identified", "pancreas"),
        ("ESOPHAGUS, DISTAL, AND PROXIMAL STOMACH, ESOPHAGOGASTRECTOMY: INVASIVE ADENOCARCINOMA.", "esophagus"),
        ("Right hemicolectomy: adenocarcinoma of the caecum. Liver metastasis on biopsy.", "colon"),
    ],
)
def test_pathology_organ_from_specimen(text, organ, kgs):
    assert extract_pathology(text, "case-1", kgs).organ == organ


def test_pathology_sites_give_m_subcategory(kgs):
    text = "Specimen: Sigmoidectomy\nHistologic type: adenocarcinoma\nDistant metastasis: present (liver, biopsy proven)"
    stage = stage_case(None, extract_pathology(text, "case-1", kgs), kgs)["colon"]
    assert stage.M == "M1a"


@pytest.mark.parametrize(
    "text,pair",
    [
        ("Perigastric lymph nodes: 3/10; lesser curvature nodes: 1/5.", (4, 15)),
        ("小弯侧淋巴结4/12枚见癌转移，大弯侧淋巴结0/6枚。", (4, 18)),
        ("Regional lymph nodes: 3/12. Total lymph nodes: 3/12.", (3, 12)),
    ],
)
def test_station_counts_summed_once(text, pair, kgs):
    features = _extract(text, kgs, organ="stomach")
    assert (features.nodes_positive, features.nodes_examined) == pair


def test_narrative_icc_staged(kgs):
    text = ("Diagnosis: Intrahepatic cholangiocarcinoma, moderately differentiated, measuring 7.5 cm in greatest dimension, solitary, "
            "with perineural invasion. No vascular invasion is identified. Three hilar lymph nodes are negative for carcinoma (0/3).")
    features = extract_pathology(text, "case-1", kgs)
    assert (features.tumor_size_mm, features.tumor_count, features.perineural_invasion) == (75.0, 1, True)
    stage = stage_case(None, features, kgs)["liver"]
    assert (stage.T, stage.N) == ("T1b", "N0")


def test_chinese_clean_margin(kgs):
    assert _extract("上、下切缘净。", kgs, organ="stomach").margins == "negative"
