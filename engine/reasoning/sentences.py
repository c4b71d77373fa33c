"""Chain sentences of the rules backend, one function per step kind.

Each function turns KG names and extracted values into the phrases that a
template of ``engine.reasoning.phrasing`` expects. The phrases carry their
articles ('an 8 mm lesion'), verb agreement ('the colon and rectum contain'),
subregion wording ('segment 7 of the liver', 'the pancreatic head') and counts
('a suspicious regional lymph node', 'three suspicious regional lymph nodes').
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.qa.wording import format_mm, join_words, location_phrase, verb
from engine.reasoning.finding_words import (
    FINDING_SENTENCES,
    FindingWords,
    impression_phrase,
    indefinite_article,
    is_plural_noun,
    number_words,
)
from engine.reasoning.phrasing import Phraser

VESSEL_VERBS = {
    "contact": "is in contact with",
    "abutment": "abuts",
    "encasement": "encases",
    "occlusion": "occludes",
    "invasion": "invades",
    "tumor_thrombus": "extends as tumour thrombus into",
}
"""Verb phrase for each ``VesselFinding.relation``: 'The lesion encases the common hepatic artery.'"""


LESION_SITE_NAMES = {"colon": "large bowel"}
"""Name of an organ as the site of one lesion where its KG name reads as two places ('colon and rectum')."""


def region_phrase(organ: str, organ_name: str, subregion_name: str | None) -> str:
    """Return the place of a lesion: 'segment 7 of the liver', 'the pancreatic head', or the organ 'the large bowel'."""
    if subregion_name is None:
        return f"the {LESION_SITE_NAMES.get(organ, organ_name)}"
    return location_phrase(organ, organ_name, subregion_name)


def location(phraser: Phraser, key: str, region: str, size_mm: float | None) -> str:
    """Return the first location sentence: 'A 16 mm lesion is seen in segment 7 of the liver.'"""
    size = f"{format_mm(size_mm)} mm" if size_mm is not None else ""
    a_size = f"{indefinite_article(size)} {size}" if size else "a"
    contains = verb(region, "contains", "contain")
    return phraser.say("location", key, a_size=a_size, region=region, contains=contains)


def further_location(phraser: Phraser, key: str, region: str, several_lesions: bool) -> str:
    """Return the sentence of a second or later subregion: 'The lesion also involves the uncinate process of the pancreas.'"""
    return phraser.say("location_another" if several_lesions else "location_extent", key, region=region)


def finding(phraser: Phraser, key: str, finding_id: str, words: FindingWords, predicate: str) -> str:
    """Return the sentence stating one finding of the lesion: 'The lesion is hypodense.', 'There is a central scar.'

    ``predicate`` is the predicate of the finding's KG edge. A ``has_density``,
    ``has_enhancement``, ``has_shape`` or ``has_margin`` finding describes the
    lesion ('The lesion shows washout.'). A ``has_feature`` sign is present in
    the study ('There is calcification.'). A ``has_context`` finding belongs to
    the patient ('The patient has a history of pancreatitis.').
    """
    if finding_id in FINDING_SENTENCES:
        template = phraser.choose("finding", key, FINDING_SENTENCES[finding_id])
        return phraser.fill(template, neighbour=words.name.split()[-1])
    if predicate == "has_context":
        return phraser.say("context", key, noun=words.noun_phrase)
    if words.adjective or predicate != "has_feature":
        appear_clause = "appears" + words.clause[2:] if words.clause.startswith("is ") else words.clause
        return phraser.say("state", key, clause=words.clause, appear_clause=appear_clause)
    return phraser.say("presence", key, noun=words.noun_phrase, be=words.be)


def count(phraser: Phraser, key: str, finding_id: str, number: int | None) -> str:
    """Return the count sentence: 'The lesion is solitary.', 'There are three lesions in total.', 'Multiple lesions are present.'"""
    if finding_id == "single":
        return phraser.say("single", key)
    if number is not None and number > 1:
        return phraser.say("counted", key, count=number_words(number))
    return phraser.say("multiple", key)


def vessels(phraser: Phraser, key: str, relations: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Return the vessel sentence from (relation, vessel names) pairs: 'The lesion encases the common hepatic artery.'"""
    clauses = [f"{VESSEL_VERBS.get(relation, 'involves')} the {join_words(names)}" for relation, names in relations]
    return phraser.say("vessel", key, clauses=join_words(clauses))


def nodes(phraser: Phraser, key: str, number: int | None) -> str:
    """Return the node sentence: 'There are three suspicious regional lymph nodes.'"""
    if number == 1:
        return phraser.say("nodes", key, nodes="a suspicious regional lymph node", be="is")
    counted = f"{number_words(number)} " if number else ""
    return phraser.say("nodes", key, nodes=f"{counted}suspicious regional lymph nodes", be="are")


def metastases(phraser: Phraser, key: str, site_names: Sequence[str]) -> str:
    """Return the distant-lesion sentence: 'Lesions suspicious for distant metastasis are seen in the liver and lung.'"""
    sites = "the " + join_words(site_names)
    contains = "contain" if len(site_names) > 1 or is_plural_noun(site_names[0]) else "contains"
    return phraser.say("metastasis", key, sites=sites, contains=contains)


def impression(phraser: Phraser, key: str, words: FindingWords, impression_name: str) -> str:
    """Return the impression sentence: 'The washout supports a diagnosis of hepatocellular carcinoma.'"""
    plural = words.plural
    lesions = words.subject == "multiple lesions"
    return phraser.say(
        "impression", key, subject=words.subject, impression=impression_name, impression_np=impression_phrase(impression_name, lesions),
        supports="support" if plural else "supports", favours="favour" if plural else "favours", be=words.be,
    )


def stage(phraser: Phraser, axis: str, category: str, reason: str) -> str:
    """Return a staging sentence: 'Under AJCC 8th edition rules the primary tumour is T2, because it measures 30 mm.'"""
    lead = f"{reason[:1].upper()}{reason[1:]}, " if reason else ""
    return phraser.say(f"stage_{axis}", axis, category=category, reason=f", {reason}" if reason else "", reason_lead=lead)


def stage_reason(
    axis: str, *, size_mm: float | None = None, tumours: int | None = None, structures: Sequence[str] = (), depth: str | None = None,
    node_count: int | None = None, node_metastasis: bool | None = None, nodes_confirmed: bool = False, sites: Sequence[str] = (),
    distant_metastasis: bool | None = None,
) -> str:
    """Return why a staging rule of ``axis`` fired, from the staging facts it read: 'because it involves the common hepatic artery'.

    ``nodes_confirmed`` marks node facts from the pathology report, which count
    positive nodes. A radiology report's nodes are suspicious nodes.
    """
    if axis == "T":
        return _tumour_reason(size_mm, tumours, structures, depth)
    if axis == "N":
        kind = "positive" if nodes_confirmed else "suspicious"
        if node_count is not None:
            number = int(node_count)
            if number == 0:
                return f"with no {kind} regional lymph nodes"
            return f"with {number_words(number)} {kind} regional lymph node{'' if number == 1 else 's'}"
        if node_metastasis is not None:
            return f"with {kind} regional lymph nodes" if node_metastasis else f"with no {kind} regional lymph nodes"
        return ""
    if sites:
        return "with metastasis to the " + join_words(list(dict.fromkeys(sites)))
    if distant_metastasis is False:
        return "with no distant metastasis"
    return ""


def _tumour_reason(size_mm: float | None, tumours: int | None, structures: Sequence[str], depth: str | None) -> str:
    if structures:
        return "because it involves the " + join_words(list(dict.fromkeys(structures)))
    if depth:
        return f"because it invades the {depth}"
    if size_mm is None:
        return ""
    size = f"{format_mm(float(size_mm))} mm"
    if tumours is not None and tumours > 1:
        return f"because there are {number_words(int(tumours))} tumours, the largest measuring {size}"
    if tumours == 1:
        return f"because it is a solitary tumour measuring {size}"
    return f"because it measures {size}"


def normal(phraser: Phraser, key: str, organ_name: str, from_report: bool) -> str:
    """Return the sentence of a normal organ: 'No focal lesion is seen in the colon and rectum.'"""
    organ = f"the {organ_name}"
    return phraser.say(
        "normal" if from_report else "normal_mask", key, organ=organ,
        appears=verb(organ_name, "appears", "appear"), shows=verb(organ_name, "shows", "show"), is_=verb(organ_name, "is", "are"),
    )
