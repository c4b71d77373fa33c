"""The radiology report of a synthetic case, written from its truth with KG terms.

The FINDINGS section walks the organs in a fixed order: organs with lesions get one
sentence per lesion (impression-free imaging description), the others a normal
statement. The IMPRESSION names each diagnosis with the KG impression term. Every
choice of wording is drawn from the case's own random generator, so the text is
reproducible for a seed and varies between cases.
"""

from __future__ import annotations

import re

import numpy as np

from engine.cohort.catalogue import CasePlan
from engine.cohort.phrasing import adjective_form, choose, count_word, noun_form, region_form, size_text
from engine.cohort.truth import DrawnLesion
from engine.cohort.vocabulary import Vocabulary

NORMAL_STATEMENTS: dict[str, tuple[str, ...]] = {
    "liver": ("No focal liver lesion.", "The liver is normal in size and attenuation without a focal lesion.", "The liver is unremarkable."),
    "gallbladder": ("The gallbladder is unremarkable.", "No gallstones; the gallbladder wall is not thickened."),
    "spleen": ("The spleen is unremarkable.", "The spleen is normal in size."),
    "pancreas": ("The pancreas is unremarkable, without a focal mass or duct dilatation.", "Normal pancreas.", "No pancreatic mass."),
    "kidneys": ("Both kidneys enhance symmetrically, without hydronephrosis.", "The kidneys are unremarkable."),
    "stomach": ("The stomach is unremarkable.", "No gastric wall thickening."),
    "colon": ("The colon is unremarkable, without wall thickening.", "No colonic mass."),
    "esophagus": ("The distal esophagus is unremarkable.", "No esophageal wall thickening."),
}
ORGAN_ORDER: tuple[str, ...] = ("liver", "gallbladder", "spleen", "pancreas", "kidneys", "stomach", "colon", "esophagus")
SECTION_TITLES = {"liver": "Liver", "gallbladder": "Gallbladder", "spleen": "Spleen", "pancreas": "Pancreas", "kidneys": "Kidneys",
                  "stomach": "Stomach", "colon": "Colon", "esophagus": "Esophagus"}


def write_radiology_report(plan: CasePlan, lesions: list[DrawnLesion], vocabulary: Vocabulary, rng: np.random.Generator) -> str:
    """Return the full report text: header, FINDINGS and IMPRESSION."""
    lines = ["CT ABDOMEN WITH INTRAVENOUS CONTRAST", "", "TECHNIQUE: Axial images in the portal venous phase.", "", "FINDINGS:"]
    for organ in ORGAN_ORDER:
        organ_lesions = [lesion for lesion in lesions if lesion.organ == organ]
        text = _organ_findings(organ, organ_lesions, vocabulary, rng) if organ_lesions else choose(rng, NORMAL_STATEMENTS[organ])
        lines.append(f"{SECTION_TITLES[organ]}: {text}")
    lines.append(f"Vessels: {_vessel_text(plan, lesions, vocabulary, rng)}")
    lines.append(f"Lymph nodes: {_node_text(plan, lesions, vocabulary, rng)}")
    lines.append("Other: No ascites. No free air.")
    lines += ["", "IMPRESSION:"]
    lines += [f"{number}. {item}" for number, item in enumerate(_impression_items(plan, lesions, vocabulary, rng), start=1)]
    return "\n".join(lines) + "\n"


def _organ_findings(organ: str, lesions: list[DrawnLesion], vocabulary: Vocabulary, rng: np.random.Generator) -> str:
    sentences = []
    if len(lesions) > 1:
        sentences.append(f"There are {count_word(len(lesions))} lesions in the {vocabulary.organ_phrase(organ).forms['en'][0]}.")
    for index, lesion in enumerate(lesions):
        sentences.append(_lesion_sentence(lesion, vocabulary, rng, first=index == 0, several=len(lesions) > 1))
    return " ".join(sentences)


def _lesion_sentence(lesion: DrawnLesion, vocabulary: Vocabulary, rng: np.random.Generator, first: bool, several: bool) -> str:
    kind = lesion.plan.kind
    organ = kind.organ
    m = lesion.measurement
    size = size_text(m.max_axial_diameter_mm, m.short_axis_mm, rng)
    where = _location(lesion, vocabulary, rng)
    density = _finding_words(organ, kind.density, vocabulary, rng)
    # Organs whose KG has no shape attribute (colon, esophagus) get no shape word.
    shape = _finding_words(organ, lesion.plan.shape, vocabulary, rng) if vocabulary.finding(organ, lesion.plan.shape) else ("", "")
    margin = _finding_words(organ, lesion.plan.margin, vocabulary, rng)
    enhancement = _finding_words(organ, kind.enhancement, vocabulary, rng)
    noun = "segment of wall thickening" if kind.wall_thickening else choose(rng, ("lesion", "mass", "lesion") if lesion.plan.role == "primary" else ("lesion",))
    opener = "One" if several else _article(size).capitalize()
    if kind.wall_thickening:
        sentence = choose(rng, (
            f"{opener} {size} {shape[0]} {noun} is present in {where}, {density[1]}, with {margin[1]} and {enhancement[1]}.",
            f"In {where} there is {_article(size) if not several else 'one'} {size} {shape[0]} {noun}, {density[1]}, with {margin[1]} and {enhancement[1]}.",
        ))
    else:
        sentence = choose(rng, (
            f"{opener} {size} {shape[0]} {density[0]} {noun} is seen in {where}, with {margin[1]} and {enhancement[1]}.",
            f"In {where} there is {_article(shape[0]) if not several else 'one'} {shape[0]} {density[0]} {noun} measuring {size}, with {margin[1]} and {enhancement[1]}.",
            f"{_article(density[0]).capitalize() if not several else 'One'} {density[0]} {noun} in {where} measures {size}; it is {shape[0]}, with {margin[1]} and {enhancement[1]}.",
        ))
    sentence = re.sub(r"  +", " ", sentence)
    extras = [_finding_words(organ, name, vocabulary, rng)[1] for name in kind.extra_findings if vocabulary.finding(organ, name) is not None]
    if extras and lesion.plan.role == "primary" and first:
        sentence += f" Associated findings: {', '.join(extras)}."
    return sentence


def _finding_words(organ: str, name: str, vocabulary: Vocabulary, rng: np.random.Generator) -> tuple[str, str]:
    """Return (adjective, noun phrase) forms of a finding; missing forms fall back to the term name."""
    phrase = vocabulary.finding(organ, name)
    if phrase is None:
        plain = name.replace("_", " ")
        return plain, plain
    adjective = adjective_form(phrase, rng)
    noun = noun_form(phrase, rng)
    if noun is None and name in ("well_defined", "ill_defined", "infiltrative"):
        noun = adjective if adjective and "margin" in adjective else f"{adjective} margins"
    elif noun is None:
        noun = f"{adjective} appearance"
    return adjective or phrase.forms["en"][0], noun


def _location(lesion: DrawnLesion, vocabulary: Vocabulary, rng: np.random.Generator) -> str:
    """Return the lesion's place with its article, for example 'the pancreatic head' or 'segment 5 of the liver'."""
    phrase = vocabulary.subregion(lesion.organ, lesion.subregion_key) if lesion.subregion_key else None
    if phrase is None:
        return f"the {vocabulary.organ_phrase(lesion.organ).forms['en'][0]}"
    form = region_form(phrase, rng)
    if lesion.organ == "liver" and "liver" not in form.lower() and "hepatic" not in form.lower():
        form = f"{form} of the liver"
    return form if re.match(r"(?i)(couinaud |segment |seg |s\d)", form) else f"the {form}"


def _article(word: str) -> str:
    """Return 'an' before a vowel sound written with a vowel letter or a digit 8 or 11/18, else 'a'."""
    return "an" if re.match(r"(?i)[aeiou]|8|11 |18 |11\.|18\.", word) else "a"


def _vessel_text(plan: CasePlan, lesions: list[DrawnLesion], vocabulary: Vocabulary, rng: np.random.Generator) -> str:
    if not plan.invaded_structures or plan.primary is None:
        return choose(rng, ("The major vessels are patent.", "Patent portal and mesenteric vessels; no vascular invasion."))
    organ = plan.primary.organ
    names = []
    for structure in plan.invaded_structures:
        phrase = vocabulary.structure(organ, structure)
        names.append(choose(rng, phrase.forms["en"]) if phrase is not None else structure.replace("_", " "))
    verb = choose(rng, ("encases", "involves", "surrounds more than 180 degrees of"))
    return f"The {organ} mass {verb} the {' and the '.join(names)}."


def _node_text(plan: CasePlan, lesions: list[DrawnLesion], vocabulary: Vocabulary, rng: np.random.Generator) -> str:
    if plan.nodes_positive == 0 or plan.primary is None:
        return choose(rng, ("No enlarged lymph nodes.", "No lymphadenopathy.", "No pathologically enlarged abdominal lymph nodes."))
    count = plan.nodes_positive
    organ = plan.primary.organ
    short_axis = 11 + int(rng.integers(0, 8))
    nodes = "node" if count == 1 else "nodes"
    return f"{count_word(count).capitalize()} enlarged regional lymph {nodes} near the {organ}, the largest {short_axis} mm in short axis."


def _impression_items(plan: CasePlan, lesions: list[DrawnLesion], vocabulary: Vocabulary, rng: np.random.Generator) -> list[str]:
    if not lesions:
        return [choose(rng, (
            "No focal lesion of the liver, pancreas, stomach, colon or esophagus.",
            "Normal CT of the abdomen; no mass in the liver, pancreas, stomach, colon or esophagus.",
        ))]
    items = []
    groups: dict[tuple[str, str], list[DrawnLesion]] = {}
    for lesion in lesions:
        groups.setdefault((lesion.plan.role, lesion.plan.kind.key), []).append(lesion)
    for (role, _), group in groups.items():
        kind = group[0].plan.kind
        phrase = vocabulary.impression(kind)
        name = choose(rng, phrase.forms["en"]) if phrase is not None else kind.impression
        largest = max(group, key=lambda lesion: lesion.measurement.max_axial_diameter_mm)
        where = _location(largest, vocabulary, rng)
        size = size_text(largest.measurement.max_axial_diameter_mm, largest.measurement.short_axis_mm, rng)
        if len(group) == 1:
            text = f"{name[0].upper() + name[1:]} in {where}, {size}."
        else:
            text = f"{count_word(len(group)).capitalize()} lesions consistent with {name} in the {vocabulary.organ_phrase(kind.organ).forms['en'][0]}, the largest {size} in {where}."
        if role == "primary" and plan.invaded_structures:
            text += " Arterial involvement as described."
        items.append(text)
    if plan.nodes_positive and plan.primary is not None:
        items.append("Regional lymphadenopathy.")
    return items
