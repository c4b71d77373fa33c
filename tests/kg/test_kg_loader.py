"""Loading the shipped organ KGs, the public API, synonyms, graph edges and the version hash."""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import pytest

import kg
from kg import ORGANS, kg_version, load_all, load_organ
from kg.loader import load_file, organ_path
from kg.schema import NODE_KINDS, PREDICATES

EXPECTED_ALL = {
    "FACTS", "ORGANS", "Edge", "FactError", "ImpressionInfo", "KGError", "OrganKG", "Problem",
    "RankedImpression", "Term", "kg_version", "load_all", "load_organ",
}


def test_public_api_is_guarded():
    assert set(kg.__all__) == EXPECTED_ALL
    for name in kg.__all__:
        assert hasattr(kg, name), name


@pytest.mark.parametrize("organ", ORGANS)
def test_every_organ_file_loads(organ):
    organ_kg = load_organ(organ)
    assert organ_kg.organ == organ
    assert isinstance(organ_kg.graph, nx.MultiDiGraph)
    assert len(organ_kg.version) == 16
    assert organ_kg.source.startswith("AJCC Cancer Staging Manual, 8th edition")
    assert organ_kg.subregions
    assert organ_kg.neighbours
    assert organ_kg.impressions
    assert organ_kg.totalseg_labels[organ if organ != "colon" else "colon"] > 0


@pytest.mark.parametrize("organ", ORGANS)
def test_graph_nodes_and_edges_are_typed(organ):
    graph = load_organ(organ).graph
    for node, data in graph.nodes(data=True):
        assert data["kind"] in NODE_KINDS, node
    for u, v, data in graph.edges(data=True):
        predicate = data["predicate"]
        assert predicate in PREDICATES or predicate.startswith("has_"), predicate
        assert data["edge_id"] == f"{u}|{predicate}|{v}"


@pytest.mark.parametrize("organ", ORGANS)
def test_every_impression_has_contradiction_or_support_edges(organ):
    organ_kg = load_organ(organ)
    contradicted = {v for _, v, d in organ_kg.graph.edges(data=True) if d["predicate"] == "contradicts"}
    for impression_id in organ_kg.impressions:
        assert organ_kg.supporting_findings(impression_id), impression_id
        assert f"impression:{impression_id}" in contradicted, impression_id


def test_totalseg_labels_match_task_total():
    expected = {"spleen": 1, "gallbladder": 4, "liver": 5, "stomach": 6, "pancreas": 7, "esophagus": 15,
                "small_bowel": 18, "duodenum": 19, "colon": 20, "aorta": 52, "inferior_vena_cava": 63,
                "portal_vein_and_splenic_vein": 64}
    for organ_kg in load_all().values():
        for name, label in organ_kg.totalseg_labels.items():
            if name in expected:
                assert label == expected[name], (organ_kg.organ, name)


def test_totalseg_labels_match_installed_class_map():
    map_to_binary = pytest.importorskip("totalsegmentator.map_to_binary", reason="TotalSegmentator is not installed")
    for organ_kg in load_all().values():
        for task, labels in organ_kg.totalseg_tasks.items():
            class_map = map_to_binary.class_map[task]
            for name, label in labels.items():
                assert class_map[label] == name, (organ_kg.organ, task, name)


@pytest.mark.parametrize(
    ("organ", "text", "kind", "expected"),
    [
        ("pancreas", "胰头", None, "head"),
        ("pancreas", "Head of the Pancreas", None, "head"),
        ("pancreas", "hypoattenuating", None, "hypodense"),
        ("pancreas", "Hypo-attenuating", None, "hypodense"),
        ("pancreas", "well defined", None, "well_defined"),
        ("pancreas", "low-density", None, "hypodense"),
        ("pancreas", "肝总动脉", "structure", "common_hepatic_artery"),
        ("pancreas", "CHA", "structure", "common_hepatic_artery"),
        ("pancreas", "PDAC", None, "pdac"),
        ("pancreas", "胰腺癌", "impression", "pdac"),
        ("liver", "segment VI", None, "segment_6"),
        ("liver", "S6", None, "segment_6"),
        ("liver", "segment six", None, "segment_6"),
        ("liver", "Segment-VI", None, "segment_6"),
        ("liver", "肝S6段", None, "segment_6"),
        ("liver", "caudate lobe", None, "segment_1"),
        ("liver", "segment IVa", None, "segment_4a"),
        ("liver", "APHE", None, "arterial_hyperenhancement"),
        ("liver", "快进快出", None, "washout"),
        ("stomach", "胃窦", None, "antrum"),
        ("colon", "乙状结肠", None, "sigmoid_colon"),
        ("colon", "pericolic fat", "layer", "pericolorectal_tissue"),
        ("esophagus", "奇静脉", "structure", "azygos_vein"),
        ("esophagus", "pT4b", "stage_category", "T4b"),
        ("pancreas", "not a term", None, None),
    ],
)
def test_resolve_synonyms(organ, text, kind, expected):
    term = load_organ(organ).resolve(text, kind)
    assert (term.id if term else None) == expected


def test_resolve_respects_language():
    pancreas = load_organ("pancreas")
    assert pancreas.resolve("胰头", lang="zh").id == "head"
    assert pancreas.resolve("胰头", lang="en") is None
    assert pancreas.resolve("pancreatic head", lang="en").id == "head"


def test_synonym_index_lists_every_language():
    index = load_organ("pancreas").synonym_index()
    assert index[("胰头", "zh")] == ("subregion", "head")
    assert index[("hypoattenuating", "en")] == ("finding", "hypodense")
    assert {lang for _, lang in index} >= {"en", "zh"}


@pytest.mark.parametrize(
    ("subject", "predicate", "obj"),
    [
        ("pancreatic body lesion", "has_density", "hypoattenuating"),
        ("pancreas lesion", "located_in", "pancreas head"),
        ("hypodense", "suggests", "PDAC"),
        ("pdac", "has_endpoint", "malignant"),
        ("pdac", "histology", "ductal adenocarcinoma"),
        ("pdac", "staged_as", "T4"),
        ("pnet", "staged_as", "T1"),
        ("arterial-phase hyperenhancement", "contradicts", "pdac"),
        ("uncinate process", "part_of", "head"),
        ("head", "adjacent_to", "duodenum"),
    ],
)
def test_chain_triplets_are_edges(subject, predicate, obj):
    edge = load_organ("pancreas").find_edge(subject, predicate, obj)
    assert edge is not None
    assert edge.edge_id == f"{edge.subject}|{edge.predicate}|{edge.object}"


@pytest.mark.parametrize(
    ("subject", "predicate", "obj"),
    [
        ("hypodense", "suggests", "pnet"),
        ("pdac", "has_endpoint", "benign"),
        ("pdac", "staged_as", "N3"),
        ("cystic", "suggests", "pdac"),
    ],
)
def test_triplets_outside_the_kg_are_rejected(subject, predicate, obj):
    assert load_organ("pancreas").find_edge(subject, predicate, obj) is None


def test_suggests_edge_carries_strength():
    edge = load_organ("pancreas").find_edge("double duct sign", "suggests", "pdac")
    assert edge.strength == pytest.approx(0.8)


def test_differential_ranks_by_evidence():
    pancreas = load_organ("pancreas")
    ranked = pancreas.differential(["hypodense", "hypoenhancing", "double-duct sign"])
    assert ranked[0].impression.id == "pdac"
    assert ranked[0].score == pytest.approx(0.6 + 0.8 + 0.8)
    cystic = pancreas.differential(["cystic", "communicates with the pancreatic duct"])
    assert cystic[0].impression.id == "ipmn"
    assert all(r.impression.id != "pdac" for r in cystic)


def test_contradicting_findings_sorted_by_strength():
    contradicting = load_organ("pancreas").contradicting_findings("pdac")
    strengths = [s for _, s in contradicting]
    assert strengths == sorted(strengths, reverse=True)
    assert ("arterial_hyperenhancement", 0.6) in contradicting


def test_neighbours_of_region():
    pancreas = load_organ("pancreas")
    assert "common_hepatic_artery" in pancreas.neighbours_of("pancreas")
    assert "duodenum" in pancreas.neighbours_of("胰头")
    assert "segment_7" in load_organ("liver").neighbours_of("segment VI")
    with pytest.raises(KeyError):
        pancreas.neighbours_of("kidney of the moon")


def test_kg_version_ignores_comments_and_whitespace(tmp_path):
    source = organ_path("pancreas")
    original = load_file(source)
    reformatted = tmp_path / "pancreas.yaml"
    text = source.read_text(encoding="utf-8")
    reformatted.write_text("# a clinician's comment\n\n" + text.replace("organ: pancreas\n", "organ:    pancreas   # edited\n"), encoding="utf-8")
    assert load_file(reformatted).version == original.version


def test_kg_version_changes_on_content_edit(tmp_path):
    source = organ_path("pancreas")
    edited = tmp_path / "pancreas.yaml"
    edited.write_text(source.read_text(encoding="utf-8").replace("strength: 0.8}", "strength: 0.75}", 1), encoding="utf-8")
    assert load_file(edited).version != load_file(source).version


def test_combined_kg_version_is_order_independent():
    kgs = load_all()
    assert kg_version(kgs) == kg_version(list(reversed(list(kgs.values()))))
    assert kg_version(kgs) != kg_version([kgs["liver"]])
    assert len(kg_version(kgs)) == 16


def test_load_organ_from_path_checks_organ(tmp_path):
    copy = tmp_path / "pancreas.yaml"
    shutil.copy(organ_path("pancreas"), copy)
    assert load_organ("pancreas", copy).organ == "pancreas"
    with pytest.raises(kg.KGError):
        load_organ("liver", copy)


def test_load_broken_file_raises_with_every_problem():
    broken = Path(__file__).parent / "fixtures" / "multiple_problems.yaml"
    with pytest.raises(kg.KGError) as caught:
        load_file(broken)
    assert [p.code for p in caught.value.problems] == ["unknown-reference", "invalid-category", "unknown-fact"]


def test_unknown_organ_is_a_key_error():
    with pytest.raises(KeyError, match="shipped organs"):
        load_organ("kidney")
