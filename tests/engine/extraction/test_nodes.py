"""Lymph nodes in radiology reports: station, short axis, count and suspicion."""

from __future__ import annotations

import pytest

from engine.extraction import extract_report


def _node(text, kgs, index=0):
    return extract_report(text, "case-1", kgs).nodes[index]


@pytest.mark.parametrize(
    "text,station",
    [
        ("Enlarged lymph node with a short-axis diameter of 14 mm is identified in the celiac axis.", "celiac axis"),
        ("A 12 mm peripancreatic lymph node.", "peripancreatic"),
        ("Enlarged portocaval lymph node.", "portocaval"),
        ("Para-aortic lymphadenopathy.", "para-aortic"),
        ("Three enlarged mesenteric nodes.", "mesenteric"),
        ("Multiple enlarged perigastric lymph nodes.", "perigastric"),
        ("An enlarged paraesophageal lymph node.", "paraesophageal"),
        ("Enlarged hilar lymph nodes.", "hilar"),
        ("Pericolic stranding and three enlarged mesenteric nodes.", "mesenteric"),
        ("Enlarged peripancreatic and portocaval lymph nodes.", "peripancreatic, portocaval"),
        ("胰周见两个肿大淋巴结。", "胰周"),
    ],
)
def test_node_station(text, station, kgs):
    assert _node(text, kgs).station == station


@pytest.mark.parametrize(
    "text,count",
    [
        ("Three enlarged mesenteric nodes.", 3),
        ("2 nodes in the mesentery measure up to 12 mm.", 2),
        ("An enlarged paraesophageal lymph node.", 1),
        ("Multiple enlarged perigastric lymph nodes.", None),
        ("No enlarged lymph nodes.", 0),
        ("胰周见两个肿大淋巴结。", 2),
    ],
)
def test_node_count(text, count, kgs):
    assert _node(text, kgs).count == count


@pytest.mark.parametrize(
    "text,short_axis",
    [
        ("Three enlarged mesenteric nodes, the largest 1.4 cm in short axis.", 14.0),
        ("Enlarged lymph node with a short-axis diameter of 14 mm in the celiac axis.", 14.0),
        ("A 1.2 x 2.2 cm node along the greater curvature.", 12.0),
        ("A 3 cm pancreatic head mass and a 7 mm peripancreatic node.", 7.0),
    ],
)
def test_node_short_axis(text, short_axis, kgs):
    assert _node(text, kgs).short_axis_mm == short_axis


@pytest.mark.parametrize(
    "text,suspicious",
    [
        ("A peripancreatic lymph node measures 7 mm in short axis, not enlarged by size criteria.", False),
        ("Several subcentimetre peripancreatic lymph nodes, none enlarged.", False),
        ("Porta hepatis lymph node measures 12 mm in short axis, likely reactive.", False),
        ("Two mesorectal lymph nodes of 4 mm and 6 mm with smooth borders, not suspicious.", False),
        ("Ileocolic nodes are of indeterminate significance.", False),
        ("Liver metastases and a 6 mm peripancreatic node.", False),
        ("Multiple enlarged perigastric lymph nodes.", True),
        ("Sigmoid colon carcinoma with regional nodal metastases.", True),
        ("A 14 mm aortocaval node.", True),
        ("胃周见多发肿大淋巴结。", True),
    ],
)
def test_node_suspicion(text, suspicious, kgs):
    assert _node(text, kgs).suspicious is suspicious


def test_nodal_metastases_not_distant(kgs):
    features = extract_report("Sigmoid colon carcinoma with regional nodal metastases. No liver metastases.", "case-1", kgs)
    assert [(m.site, m.negated) for m in features.metastases] == [("liver", True)]
