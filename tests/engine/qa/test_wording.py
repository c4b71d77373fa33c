"""English phrasing of organs, subregions, findings, sizes and staging facts."""

from __future__ import annotations

import random
import re

import pytest

from engine.qa.templates import QUESTION_TEMPLATES, pick_question
from engine.qa.wording import (
    COUNT_NOUN_HEADS,
    attribute_clause,
    condition_text,
    format_mm,
    head_noun,
    is_plural_noun,
    join_words,
    location_phrase,
    locations_phrase,
    not_stated,
)


@pytest.fixture(scope="module")
def kgs():
    import kg

    return kg.load_all()


@pytest.mark.parametrize(("organ", "organ_name", "subregion", "expected"), [
    ("liver", "liver", "segment 8", "segment 8 of the liver"),
    ("liver", "liver", "segment 4a", "segment 4a of the liver"),
    ("liver", "liver", "left lobe", "the left lobe of the liver"),
    ("liver", "liver", "hepatic hilum", "the hepatic hilum"),
    ("pancreas", "pancreas", "pancreatic head", "the pancreatic head"),
    ("pancreas", "pancreas", "uncinate process", "the uncinate process of the pancreas"),
    ("stomach", "stomach", "gastric body", "the gastric body"),
    ("stomach", "stomach", "cardia", "the cardia of the stomach"),
    ("colon", "colon and rectum", "sigmoid colon", "the sigmoid colon"),
    ("colon", "colon and rectum", "rectum", "the rectum"),
    ("colon", "colon and rectum", "hepatic flexure", "the hepatic flexure"),
    ("esophagus", "esophagus", "lower thoracic esophagus", "the lower thoracic esophagus"),
])
def test_location_phrase_articles(organ, organ_name, subregion, expected):
    assert location_phrase(organ, organ_name, subregion) == expected


def test_location_phrase_without_organ():
    assert location_phrase("liver", "liver", "segment 5", with_organ=False) == "segment 5"
    assert location_phrase("stomach", "stomach", "cardia", with_organ=False) == "the cardia"


def test_every_kg_subregion_reads_cleanly(kgs):
    for organ, graph in kgs.items():
        organ_name = graph.resolve(organ, "organ").name
        for term in graph.subregions:
            phrase = location_phrase(organ, organ_name, term.name)
            assert not phrase.startswith("the segment"), phrase
            assert "the the" not in phrase, phrase
            assert phrase.count(f"of the {organ_name}") <= 1, phrase
            assert re.fullmatch(r"(the )?[a-z0-9 \-]+", phrase), phrase


def test_locations_phrase_joins_segments():
    assert locations_phrase("liver", "liver", ["segment 5", "segment 6"]) == "segments 5 and 6 of the liver"
    assert locations_phrase("pancreas", "pancreas", ["pancreatic head", "pancreatic neck"]) == "the pancreatic head and the pancreatic neck"


@pytest.mark.parametrize(("subtask", "name", "expected"), [
    ("density", "hypodense", "is hypodense"),
    ("density", "mixed density", "has mixed density"),
    ("density", "soft-tissue density", "has soft-tissue density"),
    ("enhancement", "rim enhancement", "shows rim enhancement"),
    ("enhancement", "hypoenhancing", "is hypoenhancing"),
    ("enhancement", "non-enhancing", "is non-enhancing"),
    ("enhancement", "washout", "shows washout"),
    ("boundary", "infiltrative", "has infiltrative margins"),
    ("shape", "oval", "is oval"),
])
def test_attribute_clause_grammar(subtask, name, expected):
    assert attribute_clause(subtask, name) == expected


@pytest.mark.parametrize(("value", "expected"), [(45.0, "45"), (12.36, "12.4"), (0.96, "1"), (7.24, "7.2")])
def test_format_mm_one_decimal_at_most(value, expected):
    assert format_mm(value) == expected


def test_join_words_serial_comma_only_when_needed():
    assert join_words(["a"]) == "a"
    assert join_words(["a", "b"]) == "a and b"
    assert join_words(["a", "b", "c"]) == "a, b and c"
    assert join_words(["the liver", "the colon and rectum", "the esophagus"]) == "the liver, the colon and rectum, and the esophagus"


def test_not_stated_merges_fact_pairs():
    assert not_stated(["nodes_positive", "node_metastasis"]) == "the regional lymph node status is not stated"
    assert not_stated(["depth"]) == "the depth of invasion is not stated"
    assert not_stated(["depth", "invaded_structures"]) == "the depth of invasion and the structures the tumour invades are not stated"


def test_condition_text_reads_as_words(kgs):
    rules = {rule.id: rule for table in kgs["pancreas"].tables for axis_rules in table.rules.values() for rule in axis_rules}
    assert condition_text(rules["pancreas_exocrine_N1"].when) == "1 to 3 positive regional lymph nodes"
    assert condition_text(rules["pancreas_exocrine_T2"].when) == "tumour size over 20 mm and at most 40 mm"
    assert condition_text(rules["pancreas_exocrine_M0"].when) == "no distant metastasis"


def test_organ_questions_agree_with_plural_organ_name():
    questions = {pick_question("organ_bbox", random.Random(seed), organ="colon and rectum") for seed in range(40)}
    assert any(q.startswith("Where are the colon and rectum") for q in questions)
    assert not any("colon and rectum occupy" in q or "is the colon and rectum" in q for q in questions)
    assert any("their 3D bounding box" in q for q in questions)


def test_templates_have_no_doubled_words():
    values = {"organ": "pancreas", "lesion": "the lesion in the pancreatic head", "adjective": "pancreatic", "tumour": "pancreatic tumour"}
    for subtask in QUESTION_TEMPLATES:
        for seed in range(12):
            question = pick_question(subtask, random.Random(seed), **values)
            assert not re.search(r"\b(\w+) \1\b", question), question


def test_not_stated_keeps_fact_order():
    assert not_stated(["nodes_positive", "distant_metastasis", "metastasis_sites"]) == (
        "the number of positive regional lymph nodes and the distant metastasis status are not stated")


ENHANCEMENT_CLAUSES = {
    "arterial-phase hyperenhancement": "shows arterial-phase hyperenhancement",
    "centripetal fill-in": "shows centripetal fill-in",
    "delayed enhancement": "shows delayed enhancement",
    "enhancing capsule": "shows an enhancing capsule",
    "heterogeneous enhancement": "shows heterogeneous enhancement",
    "homogeneous enhancement": "shows homogeneous enhancement",
    "hypoenhancing": "is hypoenhancing",
    "mucosal hyperenhancement": "shows mucosal hyperenhancement",
    "non-enhancing": "is non-enhancing",
    "peripheral nodular discontinuous enhancement": "shows peripheral nodular discontinuous enhancement",
    "rim enhancement": "shows rim enhancement",
    "washout": "shows washout",
}
"""Expected clause of every enhancement term of the organ KGs."""

NOT_SIGN_ATTRIBUTES = frozenset({"density", "enhancement", "shape", "margin", "count", "context"})
"""KG attributes whose terms are not lesion signs. This test treats the terms of every other attribute as signs."""


def _kg_terms(kgs, attributes):
    terms = set()
    for graph in kgs.values():
        for _, data in graph.graph.nodes(data=True):
            if data.get("kind") == "finding" and attributes(data.get("attribute")):
                terms.add(data["name"])
    return sorted(terms)


def test_enhancement_clauses_cover_kg_terms(kgs):
    assert _kg_terms(kgs, lambda attribute: attribute == "enhancement") == sorted(ENHANCEMENT_CLAUSES)
    for name, expected in ENHANCEMENT_CLAUSES.items():
        assert attribute_clause("enhancement", name) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("central scar", "shows a central scar"),
    ("double-duct sign", "shows a double-duct sign"),
    ("exophytic submucosal mass", "shows an exophytic submucosal mass"),
    ("septations", "shows septations"),
    ("calcification", "shows calcification"),
    ("necrosis", "shows necrosis"),
    ("ascites", "shows ascites"),
    ("diverticula", "shows diverticula"),
    ("microcystic", "is microcystic"),
    ("unilocular", "is unilocular"),
])
def test_sign_clause_article(name, expected):
    assert attribute_clause("signs", name) == expected


def test_sign_clauses_of_all_kg_terms(kgs):
    for name in _kg_terms(kgs, lambda attribute: attribute not in NOT_SIGN_ATTRIBUTES):
        clause = attribute_clause("signs", name)
        verb, _, rest = clause.partition(" ")
        head = head_noun(name).casefold()
        counted = head in COUNT_NOUN_HEADS and not is_plural_noun(name)

        assert verb in ("is", "shows"), clause
        if verb == "is":
            assert " " not in name, clause
        assert rest.startswith(("a ", "an ")) == counted, clause
        assert rest.endswith(name), clause
