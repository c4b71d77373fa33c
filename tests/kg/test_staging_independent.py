"""AJCC 8th edition staging checked against fact sets written from the AJCC tables alone.

These cases were written from the AJCC 8th edition T, N and M definitions before
reading the KG rules, so they check the YAML rules rather than restate them. Each
fact set spells facts the way a user passes them to `tumorcot kg stage`: plain keys,
English and Chinese names, abbreviations, and boundary sizes such as exactly 20 mm.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from flows.cli.kg import app
from kg import load_organ

RUNNER = CliRunner()


def _liver(**facts):
    """HCC facts for a solitary tumour without invasion, overridden by ``facts``."""
    base = {"tumor_count": 1, "vascular_invasion": False, "invaded_structures": []}
    base.update(facts)
    return base


def _wall(depth, *invaded):
    return {"depth": depth, "invaded_structures": list(invaded)}


def _pnet(**facts):
    return {"histology": "PNET", **facts}


# (organ, facts, axis, expected category)
CASES = [
    # Liver HCC T: solitary <= 20 mm is T1a with or without vascular invasion; solitary > 20 mm
    # is T1b without and T2 with vascular invasion, at any size; several tumours are T2 when
    # none exceeds 50 mm and T3 otherwise; a major portal or hepatic vein branch, an adjacent
    # organ other than the gallbladder, or the visceral peritoneum make it T4.
    ("liver", _liver(max_diameter_mm=20), "T", "T1a"),
    ("liver", _liver(max_diameter_mm=20.0, vascular_invasion=True), "T", "T1a"),
    ("liver", _liver(max_diameter_mm=20.1), "T", "T1b"),
    ("liver", _liver(max_diameter_mm=21), "T", "T1b"),
    ("liver", _liver(max_diameter_mm=80), "T", "T1b"),
    ("liver", _liver(max_diameter_mm=21, vascular_invasion=True), "T", "T2"),
    ("liver", _liver(max_diameter_mm=80, vascular_invasion=True), "T", "T2"),
    ("liver", _liver(tumor_count=2, max_diameter_mm=15), "T", "T2"),
    ("liver", _liver(tumor_count=3, max_diameter_mm=50.0), "T", "T2"),
    ("liver", _liver(tumor_count=3, max_diameter_mm=51), "T", "T3"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["portal vein"]), "T", "T4"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["门静脉"]), "T", "T4"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["left portal vein"]), "T", "T4"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["right hepatic vein"]), "T", "T4"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["gallbladder"]), "T", "T1b"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["胆囊"]), "T", "T1b"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["diaphragm"]), "T", "T4"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["stomach"]), "T", "T4"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["visceral peritoneum"]), "T", "T4"),
    ("liver", _liver(max_diameter_mm=30, invaded_structures=["gallbladder", "duodenum"]), "T", "T4"),
    ("liver", {"nodes_positive": 0}, "N", "N0"),
    ("liver", {"nodes_positive": 2}, "N", "N1"),
    ("liver", {"node_metastasis": True}, "N", "N1"),
    ("liver", {"node_metastasis": False}, "N", "N0"),
    ("liver", {"distant_metastasis": False}, "M", "M0"),
    ("liver", {"distant_metastasis": True, "metastasis_sites": ["lung"]}, "M", "M1"),
    # Exocrine pancreas T: T1a <= 5 mm, T1b > 5 and < 10 mm, T1c 10-20 mm, T2 > 20 and <= 40 mm,
    # T3 > 40 mm; T4 for the celiac axis, SMA or common hepatic artery at any size. Veins,
    # the duodenum and the bile duct do not raise T in the 8th edition.
    *[("pancreas", {"max_diameter_mm": size, "invaded_structures": []}, "T", category) for size, category in (
        (5, "T1a"), (5.0, "T1a"), (5.1, "T1b"), (9.9, "T1b"), (10, "T1c"), (20, "T1c"), (20.0, "T1c"),
        (20.5, "T2"), (21, "T2"), (40, "T2"), (40.1, "T3"), (41, "T3"))],
    *[("pancreas", {"max_diameter_mm": 15, "invaded_structures": [artery]}, "T", "T4") for artery in (
        "celiac axis", "celiac trunk", "coeliac axis", "CHA", "common hepatic artery", "SMA",
        "superior mesenteric artery", "Superior Mesenteric Artery", "腹腔干", "腹腔动脉", "肠系膜上动脉", "肝总动脉")],
    ("pancreas", {"max_diameter_mm": 3, "invaded_structures": ["superior mesenteric artery"]}, "T", "T4"),
    ("pancreas", {"invaded_structures": ["SMA"]}, "T", "T4"),
    *[("pancreas", {"max_diameter_mm": 30, "invaded_structures": [other]}, "T", "T2") for other in (
        "superior mesenteric vein", "SMV", "portal vein", "duodenum", "common bile duct")],
    *[("pancreas", {"nodes_positive": count}, "N", category) for count, category in (
        (0, "N0"), (1, "N1"), (3, "N1"), (4, "N2"), (4.0, "N2"), (10, "N2"))],
    ("pancreas", {"distant_metastasis": False}, "M", "M0"),
    *[("pancreas", {"distant_metastasis": True, "metastasis_sites": [site]}, "M", "M1") for site in ("liver", "peritoneum", "lung")],
    ("pancreas", {"distant_metastasis": True}, "M", "M1"),
    # High-grade neuroendocrine carcinoma and acinar cell carcinoma use the exocrine table.
    ("pancreas", {"histology": "neuroendocrine carcinoma", "max_diameter_mm": 30, "invaded_structures": []}, "T", "T2"),
    ("pancreas", {"histology": "NEC", "max_diameter_mm": 15, "invaded_structures": []}, "T", "T1c"),
    ("pancreas", {"histology": "acinar cell carcinoma", "max_diameter_mm": 41, "invaded_structures": []}, "T", "T3"),
    # Pancreatic NET T: T1 < 20 mm, T2 20-40 mm, T3 > 40 mm or the duodenum or common bile duct,
    # T4 adjacent organs or the wall of the celiac axis or SMA. N1 is any node. M1a liver only,
    # M1b extrahepatic only, M1c both.
    *[("pancreas", {"histology": histology, "max_diameter_mm": size, "invaded_structures": []}, "T", category)
      for histology in ("neuroendocrine tumour", "PNET", "pancreatic neuroendocrine tumor", "NET", "神经内分泌肿瘤")
      for size, category in ((19.9, "T1"), (20, "T2"), (40, "T2"), (40.5, "T3"))],
    *[("pancreas", _pnet(max_diameter_mm=10, invaded_structures=[site]), "T", "T3") for site in (
        "duodenum", "common bile duct", "CBD", "胆总管", "十二指肠")],
    *[("pancreas", _pnet(max_diameter_mm=10, invaded_structures=[site]), "T", "T4") for site in (
        "stomach", "spleen", "colon", "adrenal gland", "celiac axis", "SMA")],
    ("pancreas", _pnet(max_diameter_mm=10, invaded_structures=["duodenum", "stomach"]), "T", "T4"),
    ("pancreas", _pnet(nodes_positive=0), "N", "N0"),
    ("pancreas", _pnet(nodes_positive=1), "N", "N1"),
    ("pancreas", _pnet(nodes_positive=6), "N", "N1"),
    ("pancreas", _pnet(distant_metastasis=False), "M", "M0"),
    ("pancreas", _pnet(distant_metastasis=True, metastasis_sites=["liver"]), "M", "M1a"),
    ("pancreas", _pnet(distant_metastasis=True, metastasis_sites=["肝"]), "M", "M1a"),
    *[("pancreas", _pnet(distant_metastasis=True, metastasis_sites=[site]), "M", "M1b") for site in (
        "lung", "bone", "peritoneum", "distant lymph nodes")],
    ("pancreas", _pnet(distant_metastasis=True, metastasis_sites=["liver", "bone"]), "M", "M1c"),
    ("pancreas", _pnet(distant_metastasis=True), "M", "M1"),
    # Stomach T by the deepest layer; T4b for adjacent structures. The omentum and the gastric
    # ligaments without visceral peritoneum perforation are T3; intramural spread into the
    # duodenum or esophagus is staged by depth.
    *[("stomach", _wall(depth), "T", category) for depth, category in (
        ("lamina propria", "T1a"), ("muscularis mucosae", "T1a"), ("submucosa", "T1b"), ("muscularis propria", "T2"),
        ("subserosa", "T3"), ("subserosal connective tissue", "T3"), ("serosa", "T4a"), ("visceral peritoneum", "T4a"),
        ("黏膜下层", "T1b"), ("固有肌层", "T2"), ("浆膜下层", "T3"), ("浆膜", "T4a"), ("Muscularis Propria", "T2"),
        ("muscularis_propria", "T2"))],
    *[("stomach", _wall("serosa", organ), "T", "T4b") for organ in (
        "pancreas", "spleen", "transverse colon", "liver", "diaphragm", "left adrenal gland", "small intestine")],
    ("stomach", {"invaded_structures": ["胰腺"]}, "T", "T4b"),
    ("stomach", _wall("subserosa", "visceral peritoneum"), "T", "T4a"),
    ("stomach", _wall("subserosa", "greater omentum"), "T", "T3"),
    ("stomach", _wall("subserosa", "gastrocolic ligament"), "T", "T3"),
    ("stomach", {"invaded_structures": ["肝胃韧带"]}, "T", "T3"),
    ("stomach", _wall("muscularis propria", "duodenum"), "T", "T2"),
    ("stomach", _wall("muscularis propria", "esophagus"), "T", "T2"),
    *[("stomach", {"nodes_positive": count}, "N", category) for count, category in (
        (0, "N0"), (1, "N1"), (2, "N1"), (3, "N2"), (6, "N2"), (7, "N3a"), (15, "N3a"), (16, "N3b"), (30, "N3b"))],
    ("stomach", {"distant_metastasis": False}, "M", "M0"),
    ("stomach", {"distant_metastasis": True, "metastasis_sites": ["peritoneum"]}, "M", "M1"),
    # Colon and rectum T: Tis intramucosal, T1 submucosa, T2 muscularis propria, T3 pericolorectal
    # tissue, T4a visceral peritoneum, T4b other organs. N1a 1, N1b 2-3, N1c deposits without
    # nodes, N2a 4-6, N2b 7+. M1a one organ, M1b two or more, M1c peritoneum.
    *[("colon", _wall(depth), "T", category) for depth, category in (
        ("lamina propria", "Tis"), ("muscularis mucosae", "Tis"), ("submucosa", "T1"), ("muscularis propria", "T2"),
        ("subserosa", "T3"), ("pericolorectal tissue", "T3"), ("pericolic fat", "T3"), ("visceral peritoneum", "T4a"),
        ("serosa", "T4a"))],
    ("colon", _wall("subserosa", "visceral peritoneum"), "T", "T4a"),
    *[("colon", _wall("subserosa", organ), "T", "T4b") for organ in (
        "bladder", "urinary bladder", "small bowel", "uterus", "膀胱", "abdominal wall")],
    *[("colon", {"nodes_positive": count, "tumor_deposits": deposits}, "N", category) for count, deposits, category in (
        (0, False, "N0"), (1, False, "N1a"), (2, False, "N1b"), (3, False, "N1b"), (0, True, "N1c"), (1, True, "N1a"),
        (4, False, "N2a"), (6, False, "N2a"), (7, False, "N2b"), (12, True, "N2b"))],
    ("colon", {"distant_metastasis": False}, "M", "M0"),
    *[("colon", {"distant_metastasis": True, "metastasis_sites": sites}, "M", category) for sites, category in (
        (["liver"], "M1a"), (["lung"], "M1a"), (["distant lymph nodes"], "M1a"), (["para-aortic lymph nodes"], "M1a"),
        (["liver", "肝"], "M1a"), (["liver", "lung"], "M1b"), (["distant lymph nodes", "liver"], "M1b"),
        (["peritoneum"], "M1c"), (["腹膜"], "M1c"), (["liver", "peritoneum"], "M1c"))],
    ("colon", {"distant_metastasis": True}, "M", "M1"),
    # Esophagus T: T1a lamina propria or muscularis mucosae, T1b submucosa, T2 muscularis propria,
    # T3 adventitia; T4a pleura, pericardium, azygos vein, diaphragm or peritoneum; T4b aorta,
    # vertebral body or airway. N1 1-2, N2 3-6, N3 7+.
    *[("esophagus", _wall(depth), "T", category) for depth, category in (
        ("lamina propria", "T1a"), ("muscularis mucosae", "T1a"), ("submucosa", "T1b"), ("muscularis propria", "T2"),
        ("adventitia", "T3"), ("外膜", "T3"))],
    *[("esophagus", _wall("adventitia", structure), "T", category) for structure, category in (
        ("pleura", "T4a"), ("pericardium", "T4a"), ("azygos vein", "T4a"), ("diaphragm", "T4a"), ("peritoneum", "T4a"),
        ("心包", "T4a"), ("奇静脉", "T4a"), ("胸膜", "T4a"), ("aorta", "T4b"), ("vertebral body", "T4b"), ("trachea", "T4b"),
        ("airway", "T4b"), ("left main bronchus", "T4b"), ("主动脉", "T4b"), ("气管", "T4b"), ("椎体", "T4b"))],
    ("esophagus", _wall("adventitia", "pleura", "aorta"), "T", "T4b"),
    *[("esophagus", {"nodes_positive": count}, "N", category) for count, category in (
        (0, "N0"), (1, "N1"), (2, "N1"), (3, "N2"), (6, "N2"), (7, "N3"), (20, "N3"))],
    ("esophagus", {"distant_metastasis": False}, "M", "M0"),
    ("esophagus", {"distant_metastasis": True, "metastasis_sites": ["liver"]}, "M", "M1"),
]

# (organ, facts, axis, a fact that must be listed as missing)
MISSING = [
    ("liver", {"max_diameter_mm": 30, "vascular_invasion": False, "invaded_structures": []}, "T", "tumor_count"),
    ("liver", {"tumor_count": 1, "max_diameter_mm": 30, "invaded_structures": []}, "T", "vascular_invasion"),
    ("liver", {"tumor_count": 1, "vascular_invasion": False, "invaded_structures": []}, "T", "max_diameter_mm"),
    ("liver", {"tumor_count": 3, "invaded_structures": []}, "T", "max_diameter_mm"),
    ("liver", {}, "N", "nodes_positive"),
    ("liver", {}, "M", "distant_metastasis"),
    ("pancreas", {"invaded_structures": []}, "T", "max_diameter_mm"),
    ("pancreas", {}, "N", "nodes_positive"),
    ("pancreas", {"node_metastasis": True}, "N", "nodes_positive"),
    ("pancreas", {"max_diameter_mm": None, "nodes_positive": None}, "N", "nodes_positive"),
    ("pancreas", {"histology": "PNET", "invaded_structures": []}, "T", "max_diameter_mm"),
    ("stomach", {"max_diameter_mm": 40}, "T", "depth"),
    ("stomach", {}, "N", "nodes_positive"),
    ("colon", {"invaded_structures": []}, "T", "depth"),
    ("colon", {"tumor_deposits": True}, "N", "nodes_positive"),
    ("esophagus", {"invaded_structures": []}, "T", "depth"),
    ("esophagus", {}, "M", "distant_metastasis"),
]


def _case_id(case):
    organ, facts, axis, expected = case
    return f"{organ}-{axis}-{expected}-{json.dumps(facts, ensure_ascii=False)}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_stage_matches_ajcc8(case):
    organ, facts, axis, expected = case
    result = load_organ(organ).stage(facts)
    assert getattr(result, axis) == expected, result.model_dump()
    assert result.edition == "AJCC8"


@pytest.mark.parametrize("case", MISSING, ids=_case_id)
def test_missing_fact_gives_x_category(case):
    organ, facts, axis, fact = case
    result = load_organ(organ).stage(facts)
    assert getattr(result, axis) == f"{axis}X", result.model_dump()
    assert fact in result.missing


# Every tenth case again through the command line, as a user would run it.
@pytest.mark.parametrize("case", CASES[::10], ids=_case_id)
def test_cli_stage_matches_api(case):
    organ, facts, axis, expected = case
    output = RUNNER.invoke(app, ["stage", organ, "--facts", json.dumps(facts, ensure_ascii=False)])
    assert output.exit_code == 0, output.output
    payload = json.loads(output.output)
    assert payload[axis] == expected
    assert payload["edition"] == "AJCC8"
    assert set(payload) >= {"T", "N", "M", "edition", "rules", "missing"}
