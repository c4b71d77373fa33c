"""Every chain sentence template, filled with every KG value of its kind in every organ, reads as correct English.

A phraser that always picks template number ``i`` renders each template in
turn, so no template hides behind the seeded choice.
"""

from __future__ import annotations

import pytest

from engine.reasoning import kg_paths, sentences
from engine.reasoning.finding_steps import structure_name, words_for
from engine.reasoning.finding_words import impression_phrase, indefinite_article, noun_phrase
from engine.reasoning.phrasing import TEMPLATES, Phraser
from tests.engine.reasoning.grammar import grammar_problems

ORGANS = ("liver", "pancreas", "stomach", "colon", "esophagus")
SIZES_MM = (None, 8.0, 11.0, 16.0, 18.0, 45.5, 80.0, 120.0)
MAX_TEMPLATES = max(len(templates) for templates in TEMPLATES.values())


class FixedPhraser(Phraser):
    """A phraser that always picks template ``index`` (modulo the number of templates)."""

    def __init__(self, index: int) -> None:
        super().__init__(0, "case", "organ")
        self.index = index

    def choose(self, kind: str, key: str = "", templates: tuple[str, ...] | None = None) -> str:
        options = templates or TEMPLATES[kind]
        return options[self.index % len(options)]


PHRASERS = [FixedPhraser(index) for index in range(MAX_TEMPLATES)]


def _assert_reads(rendered: list[tuple[str, str]]) -> None:
    """Assert that every (label, sentence) pair reads correctly, listing all bad sentences at once."""
    bad = [f"{label}: {sentence!r}: {', '.join(problems)}" for label, sentence in rendered if (problems := grammar_problems(sentence))]
    assert not bad, "\n".join(bad)


def _finding_nodes(kg):
    lesion = kg_paths.lesion_node(kg)
    for _, node, attrs in kg.graph.out_edges(lesion, data=True):
        if node.startswith("finding:"):
            yield node, attrs["predicate"]


def _subregions(kg):
    return [kg_paths.node_name(kg, n) for n in kg.graph if n.startswith("subregion:")]


def _organ_name(kg) -> str:
    return kg_paths.node_name(kg, kg_paths.organ_node(kg))


@pytest.mark.parametrize("organ", ORGANS)
def test_location_sentences_read(organ, kgs):
    kg = kgs[organ]
    rendered = []
    for name in [None, *_subregions(kg)]:
        place = sentences.region_phrase(organ, _organ_name(kg), name)
        for phraser in PHRASERS:
            for size in SIZES_MM:
                rendered.append((f"{organ}/{name}/{size}", sentences.location(phraser, "k", place, size)))
            rendered.append((f"{organ}/{name}/extent", sentences.further_location(phraser, "k", place, False)))
            rendered.append((f"{organ}/{name}/another", sentences.further_location(phraser, "k", place, True)))

    _assert_reads(rendered)


def test_location_names_segments_and_subregions(kgs):
    def first(organ, subregion, size=None):
        kg = kgs[organ]
        return sentences.location(PHRASERS[1], "k", sentences.region_phrase(organ, _organ_name(kg), subregion), size)

    assert first("liver", "segment 7", 16.0) == "Segment 7 of the liver contains a 16 mm focal lesion."
    assert first("liver", "segment 4a", 8.0) == "Segment 4a of the liver contains an 8 mm focal lesion."
    assert first("pancreas", "pancreatic head") == "The pancreatic head contains a focal lesion."
    assert first("colon", "sigmoid colon") == "The sigmoid colon contains a focal lesion."
    assert first("esophagus", "lower thoracic esophagus") == "The lower thoracic esophagus contains a focal lesion."
    assert first("stomach", "cardia") == "The cardia of the stomach contains a focal lesion."
    assert first("colon", None) == "The large bowel contains a focal lesion."


@pytest.mark.parametrize("organ", ORGANS)
def test_finding_sentences_read(organ, kgs):
    kg = kgs[organ]
    rendered = []
    for node, predicate in _finding_nodes(kg):
        finding_id = kg_paths.local_id(node)
        words = words_for(kg, node)
        for phraser in PHRASERS:
            if finding_id in ("single", "multiple"):
                for number in (None, 1, 2, 3, 25):
                    rendered.append((f"{node}/{number}", sentences.count(phraser, "k", finding_id, number)))
            else:
                rendered.append((node, sentences.finding(phraser, "k", finding_id, words, predicate)))

    _assert_reads(rendered)


@pytest.mark.parametrize("organ", ORGANS)
def test_impression_sentences_read(organ, kgs):
    kg = kgs[organ]
    rendered = []
    for info in kg.impressions.values():
        for finding_id, _ in info.supports:
            words = words_for(kg, f"finding:{finding_id}")
            for phraser in PHRASERS:
                rendered.append((f"{finding_id}->{info.id}", sentences.impression(phraser, "k", words, info.name)))

    _assert_reads(rendered)


@pytest.mark.parametrize("organ", ORGANS)
def test_context_sentences_read(organ, kgs):
    kg = kgs[organ]
    vessels = [s.name for s in kg.doc.structures if s.group == "vessel"] or ["aorta"]
    sites = [structure_name(kg, site) for site in ("liver", "lung", "peritoneum", "bone", "distant_lymph_nodes")]
    rendered = []
    for phraser in PHRASERS:
        for relation in sentences.VESSEL_VERBS:
            rendered.append((relation, sentences.vessels(phraser, "k", [(relation, vessels[:1])])))
            rendered.append((relation, sentences.vessels(phraser, "k", [(relation, vessels[:3]), ("contact", vessels[-1:])])))
        for number in (None, 1, 2, 3, 13):
            rendered.append((f"nodes/{number}", sentences.nodes(phraser, "k", number)))
        for count in range(1, len(sites) + 1):
            rendered.append((f"sites/{count}", sentences.metastases(phraser, "k", sites[:count])))

    _assert_reads(rendered)


@pytest.mark.parametrize("organ", ORGANS)
def test_staging_sentences_read(organ, kgs):
    kg = kgs[organ]
    categories = sorted(kg_paths.local_id(n) for n in kg.graph if n.startswith("stage:") and not n.endswith("X"))
    reasons = {
        "T": ["", sentences.stage_reason("T", size_mm=8.0), sentences.stage_reason("T", size_mm=30.0, tumours=1),
              sentences.stage_reason("T", size_mm=55.0, tumours=2), sentences.stage_reason("T", structures=["common hepatic artery", "portal vein"]),
              sentences.stage_reason("T", depth="muscularis propria")],
        "N": ["", *(sentences.stage_reason("N", node_count=count, nodes_confirmed=confirmed) for count in (0, 1, 3, 14) for confirmed in (True, False)),
              sentences.stage_reason("N", node_metastasis=True), sentences.stage_reason("N", node_metastasis=False, nodes_confirmed=True)],
        "M": ["", sentences.stage_reason("M", sites=["liver", "lung"]), sentences.stage_reason("M", distant_metastasis=False)],
    }
    rendered = []
    for phraser in PHRASERS:
        for category in categories:
            for reason in reasons[category[0]]:
                rendered.append((category, sentences.stage(phraser, category[0], category, reason)))

    _assert_reads(rendered)


@pytest.mark.parametrize("organ", ORGANS)
def test_normal_sentences_read(organ, kgs):
    rendered = []
    for phraser in PHRASERS:
        for from_report in (True, False):
            rendered.append((organ, sentences.normal(phraser, "k", _organ_name(kgs[organ]), from_report)))

    _assert_reads(rendered)


def test_colon_normal_sentence_agrees_in_number(kgs):
    name = _organ_name(kgs["colon"])
    rendered = [sentences.normal(phraser, "k", name, True) for phraser in PHRASERS]

    assert "The colon and rectum appear normal, without a focal lesion." in rendered
    assert "The colon and rectum show no mass or focal abnormality." in rendered


@pytest.mark.parametrize(
    ("phrase", "article"),
    [("8 mm", "an"), ("11 mm", "an"), ("18 mm", "an"), ("80 mm", "an"), ("16 mm", "a"), ("1 mm", "a"), ("ill-defined", "an"),
     ("unilocular", "a"), ("upstream", "an"), ("hour", "an"), ("enhancing capsule", "an"), ("double-duct sign", "a")],
)
def test_indefinite_article_by_sound(phrase, article):
    assert indefinite_article(phrase) == article


@pytest.mark.parametrize(
    ("name", "phrase"),
    [("central scar", "a central scar"), ("enhancing capsule", "an enhancing capsule"), ("septations", "septations"),
     ("calcification", "calcification"), ("ascites", "ascites"), ("history of pancreatitis", "a history of pancreatitis"),
     ("clinical signs of infection", "clinical signs of infection"), ("exophytic submucosal mass", "an exophytic submucosal mass")],
)
def test_noun_phrase_takes_article(name, phrase):
    assert noun_phrase(name) == phrase


def test_checker_flags_known_defects():
    defects = [
        "The lesion shows a arterial-phase hyperenhancement appearance.",
        "It appears rim enhancement on CT",
        "The lesion shows a oval appearance.",
        "The segment 7 contains a 16 mm focal lesion.",
        "The colon and rectum contains a focal lesion.",
        "The lesion is is hypodense.",
        "1 suspicious regional lymph nodes are present.",
        "There is an 16 mm lesion in the {region}.",
        "The distant lymph nodes contains lesions suspicious for metastasis.",
    ]

    for sentence in defects:
        assert grammar_problems(sentence), sentence


@pytest.mark.parametrize(
    ("name", "plural", "phrase"),
    [("liver metastasis", False, "a liver metastasis"), ("liver metastasis", True, "liver metastases"),
     ("simple hepatic cyst", True, "simple hepatic cysts"), ("liver abscess", True, "liver abscesses"),
     ("hepatocellular carcinoma", True, "hepatocellular carcinoma"), ("intraductal papillary mucinous neoplasm", False, "an intraductal papillary mucinous neoplasm")],
)
def test_impression_phrase_number(name, plural, phrase):
    assert impression_phrase(name, plural) == phrase
