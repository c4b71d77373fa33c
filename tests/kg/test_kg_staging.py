"""AJCC 8th edition boundaries for every organ's staging rules, and missing facts giving TX/NX/MX."""

from __future__ import annotations

import pytest

from kg import FactError, load_organ

# (organ, facts, axis, expected category)
BOUNDARIES = [
    # Exocrine pancreas T: 5 / 10 / 20 / 40 mm, and T4 arteries regardless of size.
    ("pancreas", {"max_diameter_mm": 5}, "T", "T1a"),
    ("pancreas", {"max_diameter_mm": 6}, "T", "T1b"),
    ("pancreas", {"max_diameter_mm": 9.9}, "T", "T1b"),
    ("pancreas", {"max_diameter_mm": 10}, "T", "T1c"),
    ("pancreas", {"max_diameter_mm": 20}, "T", "T1c"),
    ("pancreas", {"max_diameter_mm": 21}, "T", "T2"),
    ("pancreas", {"max_diameter_mm": 40}, "T", "T2"),
    ("pancreas", {"max_diameter_mm": 41}, "T", "T3"),
    ("pancreas", {"max_diameter_mm": 8, "invaded_structures": ["common hepatic artery"]}, "T", "T4"),
    ("pancreas", {"max_diameter_mm": 50, "invaded_structures": ["SMA"]}, "T", "T4"),
    ("pancreas", {"invaded_structures": ["腹腔干"]}, "T", "T4"),
    ("pancreas", {"max_diameter_mm": 30, "invaded_structures": ["duodenum"]}, "T", "T2"),
    ("pancreas", {"nodes_positive": 0}, "N", "N0"),
    ("pancreas", {"nodes_positive": 1}, "N", "N1"),
    ("pancreas", {"nodes_positive": 3}, "N", "N1"),
    ("pancreas", {"nodes_positive": 4}, "N", "N2"),
    ("pancreas", {"distant_metastasis": False}, "M", "M0"),
    ("pancreas", {"metastasis_sites": ["liver"]}, "M", "M1"),
    # Pancreatic NET T: < 20 / 20-40 / > 40 mm, duodenum or bile duct T3, adjacent organs or large vessels T4.
    ("pancreas", {"histology": "neuroendocrine tumour", "max_diameter_mm": 19}, "T", "T1"),
    ("pancreas", {"histology": "neuroendocrine tumour", "max_diameter_mm": 20}, "T", "T2"),
    ("pancreas", {"histology": "PNET", "max_diameter_mm": 40}, "T", "T2"),
    ("pancreas", {"histology": "PNET", "max_diameter_mm": 41}, "T", "T3"),
    ("pancreas", {"histology": "PNET", "max_diameter_mm": 15, "invaded_structures": ["duodenum"]}, "T", "T3"),
    ("pancreas", {"histology": "PNET", "max_diameter_mm": 15, "invaded_structures": ["common bile duct"]}, "T", "T3"),
    ("pancreas", {"histology": "PNET", "max_diameter_mm": 15, "invaded_structures": ["spleen"]}, "T", "T4"),
    ("pancreas", {"histology": "PNET", "max_diameter_mm": 15, "invaded_structures": ["superior mesenteric artery"]}, "T", "T4"),
    ("pancreas", {"histology": "PNET", "nodes_positive": 0}, "N", "N0"),
    ("pancreas", {"histology": "PNET", "nodes_positive": 5}, "N", "N1"),
    ("pancreas", {"histology": "PNET", "metastasis_sites": ["liver"]}, "M", "M1a"),
    ("pancreas", {"histology": "PNET", "metastasis_sites": ["lung", "bone"]}, "M", "M1b"),
    ("pancreas", {"histology": "PNET", "metastasis_sites": ["liver", "peritoneum"]}, "M", "M1c"),
    ("pancreas", {"histology": "PNET", "distant_metastasis": True}, "M", "M1"),
    # Liver HCC: 20 mm solitary, vascular invasion, 50 mm with several tumours, major vein branch.
    ("liver", {"tumor_count": 1, "max_diameter_mm": 20}, "T", "T1a"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 20, "vascular_invasion": True}, "T", "T1a"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 21, "vascular_invasion": False}, "T", "T1b"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 21, "vascular_invasion": True}, "T", "T2"),
    ("liver", {"tumor_count": 3, "max_diameter_mm": 50}, "T", "T2"),
    ("liver", {"tumor_count": 2, "max_diameter_mm": 51}, "T", "T3"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 15, "invaded_structures": ["right portal vein"]}, "T", "T4"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 15, "invaded_structures": ["diaphragm"]}, "T", "T4"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 15, "invaded_structures": ["gallbladder"]}, "T", "T1a"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 15, "invaded_structures": ["visceral peritoneum"]}, "T", "T4"),
    ("liver", {"nodes_positive": 0}, "N", "N0"),
    ("liver", {"node_metastasis": True}, "N", "N1"),
    ("liver", {"distant_metastasis": True}, "M", "M1"),
    # Intrahepatic cholangiocarcinoma: 50 mm solitary, vascular invasion or several tumours, peritoneum, extrahepatic.
    ("liver", {"histology": "intrahepatic cholangiocarcinoma", "tumor_count": 1, "max_diameter_mm": 50, "vascular_invasion": False}, "T", "T1a"),
    ("liver", {"histology": "ICC", "tumor_count": 1, "max_diameter_mm": 51, "vascular_invasion": False}, "T", "T1b"),
    ("liver", {"histology": "ICC", "tumor_count": 1, "max_diameter_mm": 30, "vascular_invasion": True}, "T", "T2"),
    ("liver", {"histology": "ICC", "tumor_count": 2, "max_diameter_mm": 30}, "T", "T2"),
    ("liver", {"histology": "ICC", "tumor_count": 1, "max_diameter_mm": 30, "invaded_structures": ["visceral peritoneum"]}, "T", "T3"),
    ("liver", {"histology": "ICC", "tumor_count": 1, "max_diameter_mm": 30, "invaded_structures": ["duodenum"]}, "T", "T4"),
    # Stomach: depth ladder, T4a serosa, T4b adjacent organ; N 1-2 / 3-6 / 7-15 / >= 16.
    ("stomach", {"depth": "lamina propria"}, "T", "T1a"),
    ("stomach", {"depth": "muscularis mucosae"}, "T", "T1a"),
    ("stomach", {"depth": "submucosa"}, "T", "T1b"),
    ("stomach", {"depth": "muscularis propria"}, "T", "T2"),
    ("stomach", {"depth": "subserosa"}, "T", "T3"),
    ("stomach", {"depth": "serosa"}, "T", "T4a"),
    ("stomach", {"depth": "visceral peritoneum"}, "T", "T4a"),
    ("stomach", {"depth": "subserosa", "invaded_structures": ["pancreas"]}, "T", "T4b"),
    ("stomach", {"depth": "subserosa", "invaded_structures": ["duodenum"]}, "T", "T3"),
    ("stomach", {"nodes_positive": 0}, "N", "N0"),
    ("stomach", {"nodes_positive": 2}, "N", "N1"),
    ("stomach", {"nodes_positive": 3}, "N", "N2"),
    ("stomach", {"nodes_positive": 6}, "N", "N2"),
    ("stomach", {"nodes_positive": 7}, "N", "N3a"),
    ("stomach", {"nodes_positive": 15}, "N", "N3a"),
    ("stomach", {"nodes_positive": 16}, "N", "N3b"),
    ("stomach", {"metastasis_sites": ["peritoneum"]}, "M", "M1"),
    # Colon and rectum: depth ladder, N1a/N1b/N1c/N2a/N2b, M1a/M1b/M1c.
    ("colon", {"depth": "lamina propria"}, "T", "Tis"),
    ("colon", {"depth": "submucosa"}, "T", "T1"),
    ("colon", {"depth": "muscularis propria"}, "T", "T2"),
    ("colon", {"depth": "pericolic fat"}, "T", "T3"),
    ("colon", {"depth": "visceral peritoneum"}, "T", "T4a"),
    ("colon", {"depth": "pericolorectal tissue", "invaded_structures": ["visceral peritoneum"]}, "T", "T4a"),
    ("colon", {"depth": "pericolorectal tissue", "invaded_structures": ["bladder"]}, "T", "T4b"),
    ("colon", {"nodes_positive": 0}, "N", "N0"),
    ("colon", {"nodes_positive": 0, "tumor_deposits": False}, "N", "N0"),
    ("colon", {"nodes_positive": 0, "tumor_deposits": True}, "N", "N1c"),
    ("colon", {"nodes_positive": 1}, "N", "N1a"),
    ("colon", {"nodes_positive": 1, "tumor_deposits": True}, "N", "N1a"),
    ("colon", {"nodes_positive": 2}, "N", "N1b"),
    ("colon", {"nodes_positive": 3}, "N", "N1b"),
    ("colon", {"nodes_positive": 4}, "N", "N2a"),
    ("colon", {"nodes_positive": 6}, "N", "N2a"),
    ("colon", {"nodes_positive": 7}, "N", "N2b"),
    ("colon", {"metastasis_sites": ["liver"]}, "M", "M1a"),
    ("colon", {"metastasis_sites": ["liver", "lung"]}, "M", "M1b"),
    ("colon", {"metastasis_sites": ["peritoneum"]}, "M", "M1c"),
    ("colon", {"metastasis_sites": ["liver", "peritoneal carcinomatosis"]}, "M", "M1c"),
    ("colon", {"distant_metastasis": False}, "M", "M0"),
    # Esophagus: depth ladder, T4a and T4b structures, N 1-2 / 3-6 / >= 7.
    ("esophagus", {"depth": "high-grade dysplasia"}, "T", "Tis"),
    ("esophagus", {"depth": "lamina propria"}, "T", "T1a"),
    ("esophagus", {"depth": "submucosa"}, "T", "T1b"),
    ("esophagus", {"depth": "muscularis propria"}, "T", "T2"),
    ("esophagus", {"depth": "adventitia"}, "T", "T3"),
    ("esophagus", {"depth": "adventitia", "invaded_structures": ["pleura"]}, "T", "T4a"),
    ("esophagus", {"invaded_structures": ["azygos vein"]}, "T", "T4a"),
    ("esophagus", {"invaded_structures": ["pericardium"]}, "T", "T4a"),
    ("esophagus", {"invaded_structures": ["diaphragm"]}, "T", "T4a"),
    ("esophagus", {"invaded_structures": ["aorta"]}, "T", "T4b"),
    ("esophagus", {"invaded_structures": ["trachea", "pleura"]}, "T", "T4b"),
    ("esophagus", {"invaded_structures": ["椎体"]}, "T", "T4b"),
    ("esophagus", {"depth": "adjacent structures"}, "T", "T4"),
    ("esophagus", {"nodes_positive": 0}, "N", "N0"),
    ("esophagus", {"nodes_positive": 2}, "N", "N1"),
    ("esophagus", {"nodes_positive": 3}, "N", "N2"),
    ("esophagus", {"nodes_positive": 6}, "N", "N2"),
    ("esophagus", {"nodes_positive": 7}, "N", "N3"),
    ("esophagus", {"distant_metastasis": True}, "M", "M1"),
]


@pytest.mark.parametrize(("organ", "facts", "axis", "expected"), BOUNDARIES)
def test_ajcc8_boundary(organ, facts, axis, expected):
    result = load_organ(organ).stage(facts)
    assert getattr(result, axis) == expected
    assert result.edition == "AJCC8"


# (organ, facts, axis, fact that must be reported missing)
MISSING = [
    ("pancreas", {}, "T", "max_diameter_mm"),
    ("pancreas", {"max_diameter_mm": 25}, "N", "nodes_positive"),
    ("pancreas", {"node_metastasis": True}, "N", "nodes_positive"),
    ("pancreas", {"max_diameter_mm": 25}, "M", "distant_metastasis"),
    ("liver", {"max_diameter_mm": 30}, "T", "tumor_count"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 30}, "T", "vascular_invasion"),
    ("stomach", {"max_diameter_mm": 30}, "T", "depth"),
    ("stomach", {"node_metastasis": True}, "N", "nodes_positive"),
    ("colon", {"max_diameter_mm": 30, "invaded_structures": []}, "T", "depth"),
    ("colon", {"node_metastasis": True}, "N", "nodes_positive"),
    ("esophagus", {"invaded_structures": []}, "T", "depth"),
    ("esophagus", {}, "M", "metastasis_sites"),
]


@pytest.mark.parametrize(("organ", "facts", "axis", "fact"), MISSING)
def test_missing_facts_give_x_category(organ, facts, axis, fact):
    result = load_organ(organ).stage(facts)
    assert getattr(result, axis) == f"{axis}X"
    assert fact in result.missing


def test_ct_only_hollow_organ_reports_only_depth_missing():
    result = load_organ("colon").stage({"invaded_structures": [], "nodes_positive": 2, "distant_metastasis": False})
    assert (result.T, result.N, result.M) == ("TX", "N1b", "M0")
    assert result.missing == ("depth",)


def test_stage_records_rules_and_table():
    result = load_organ("pancreas").stage({"max_diameter_mm": 30, "nodes_positive": 4, "distant_metastasis": False})
    assert result.rules == ("pancreas_exocrine_T2", "pancreas_exocrine_N2", "pancreas_exocrine_M0")
    assert result.table == "pancreas_exocrine"
    assert result.missing == ()


def test_histology_chooses_net_table():
    pancreas = load_organ("pancreas")
    assert pancreas.stage({"histology": "胰腺神经内分泌肿瘤"}).table == "pancreas_net"
    assert pancreas.stage({"histology": "pnet"}).table == "pancreas_net"
    assert pancreas.stage({"histology": "PDAC"}).table == "pancreas_exocrine"
    assert pancreas.stage({}, table="pancreas_net").table == "pancreas_net"


@pytest.mark.parametrize(
    ("facts", "needle"),
    [
        ({"max_diameter": 20}, "did you mean 'max_diameter_mm'"),
        ({"max_diameter_mm": "20"}, "must be a number"),
        ({"max_diameter_mm": -1}, "must be a number >= 0"),
        ({"nodes_positive": 2.5}, "whole number"),
        ({"nodes_positive": True}, "whole number"),
        ({"vascular_invasion": "yes"}, "true or false"),
        ({"invaded_structures": ["common hepatic arterx"]}, "did you mean"),
        ({"histology": "no such tumour"}, "not a known histology"),
    ],
)
def test_invalid_facts_raise(facts, needle):
    with pytest.raises(FactError) as caught:
        load_organ("pancreas").stage(facts)
    assert needle in str(caught.value)


def test_unknown_table_raises():
    with pytest.raises(FactError, match="unknown staging table"):
        load_organ("pancreas").stage({}, table="pancreas_nett")


def test_null_fact_counts_as_absent():
    result = load_organ("pancreas").stage({"max_diameter_mm": None, "nodes_positive": 2})
    assert result.T == "TX"
    assert result.N == "N1"
