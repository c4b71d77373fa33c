"""English forms of KG finding and impression names for chain sentences: articles, number, predicates.

A KG names a finding with an adjective ('hypodense', 'microcystic'), a mass noun
('washout', 'calcification'), a count noun ('central scar', 'enhancing capsule')
or a plural ('septations', 'diverticula'). Each form takes different grammar:
'The lesion is hypodense.', 'There is calcification.', 'There is a central
scar.', 'There are septations.'. ``FindingWords`` decides the form once per
finding, and every rules-backend sentence about a finding is built from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.qa.wording import (  # noqa: F401  Re-exported, because callers import the article rule from here.
    ADJECTIVE_ENDINGS,
    attribute_clause,
    head_noun,
    indefinite_article,
    is_plural_noun,
    noun_phrase,
    with_article,
)

COUNT_IMPRESSION_HEADS = frozenset({
    "tumour", "tumor", "cyst", "pseudocyst", "hemangioma", "haemangioma", "abscess", "polyp", "neoplasm", "cystadenoma",
    "leiomyoma", "metastasis", "adenoma", "nodule",
})
"""Impression head nouns that take an article ('a hepatic hemangioma'); carcinomas and lymphomas read without one."""

ADJECTIVE_NOUNS = {"shape": "shape", "margin": "margins", "boundary": "margins"}
"""Noun an adjective finding of these attributes qualifies when it is a sentence subject: 'the irregular shape', 'the ill-defined margins'."""


@dataclass(frozen=True)
class FindingWords:
    """The grammatical forms of one KG finding name."""

    name: str
    adjective: bool
    plural: bool
    noun_phrase: str
    """The finding with its indefinite article where it needs one: 'a central scar', 'septations', 'washout'."""
    clause: str
    """Predicate after 'The lesion': 'is hypodense', 'has mixed density', 'shows an enhancing capsule', 'has ill-defined margins'."""
    subject: str
    """Definite noun phrase that starts an impression sentence: 'the hypodense appearance', 'the central scar', 'multiple lesions'."""

    @property
    def be(self) -> str:
        """Return 'is' or 'are' to agree with the finding as a subject."""
        return "are" if self.plural else "is"


def is_adjective_name(attribute: str, name: str) -> bool:
    """True for a finding named by an adjective ('hypodense', 'ill-defined', 'microcystic'), not a noun phrase."""
    if attribute in ("shape", "margin", "boundary", "count"):
        return True
    if name.endswith("density") or " " in name:
        return False
    return name.endswith(ADJECTIVE_ENDINGS)


def finding_words(attribute: str, finding_id: str, name: str) -> FindingWords:
    """Return the forms of the finding ``finding_id`` named ``name`` in the KG attribute group ``attribute``."""
    if finding_id in ("single", "multiple"):
        return _count_words(finding_id, name)
    if finding_id in SUBJECT_OVERRIDES:
        return FindingWords(name, False, False, noun_phrase(name), f"shows {noun_phrase(name)}", SUBJECT_OVERRIDES[finding_id])
    if is_adjective_name(attribute, name):
        clause = attribute_clause("boundary" if attribute == "margin" else attribute, name)
        qualified = ADJECTIVE_NOUNS.get(attribute, "appearance")
        return FindingWords(name, True, qualified == "margins", name, clause, f"the {name} {qualified}")
    plural = is_plural_noun(name)
    phrase = noun_phrase(name)
    verb = "has" if name.endswith("density") else "shows"
    return FindingWords(name, False, plural, phrase, f"{verb} {phrase}", f"the {name}")


def _count_words(finding_id: str, name: str) -> FindingWords:
    if finding_id == "single":
        return FindingWords(name, True, False, "a solitary lesion", "is solitary", "a solitary lesion")
    return FindingWords(name, True, True, "multiple lesions", "is one of multiple lesions", "multiple lesions")


SUBJECT_OVERRIDES = {
    "main_duct_over_5mm": "a main pancreatic duct wider than 5 mm",
    "upper_or_middle_third": "the location in the upper or middle third",
    "lower_third_or_junction": "the location in the lower third or at the junction",
    "preserved_lumen": "the preserved lumen",
    "smooth_outer_wall": "the smooth outer wall",
    "lost_fat_plane": "the loss of the fat plane with a neighbouring structure",
}
"""Subjects of impression sentences for findings whose KG name does not read as a noun phrase."""

FINDING_SENTENCES = {
    "main_duct_over_5mm": ("The main pancreatic duct measures over 5 mm.", "The main pancreatic duct is dilated to over 5 mm."),
    "upper_or_middle_third": ("The lesion lies in the upper or middle third of the esophagus.",),
    "lower_third_or_junction": ("The lesion lies in the lower third of the esophagus or at the gastro-esophageal junction.",),
    "preserved_lumen": ("The lumen is preserved.", "The lesion leaves the lumen preserved."),
    "smooth_outer_wall": ("The outer wall is smooth.", "The outer contour of the wall is smooth."),
    "lost_fat_plane": ("The fat plane between the lesion and a neighbouring {neighbour} is lost.", "The lesion has lost its fat plane with a neighbouring {neighbour}."),
}
"""Whole finding sentences for findings whose KG name does not fit the finding templates; ``{neighbour}`` is the name's last word."""


def impression_phrase(name: str, plural: bool = False) -> str:
    """Return an impression name as the object of 'favours': 'a hepatic hemangioma', 'pancreatic ductal adenocarcinoma'.

    With ``plural`` (the subject is 'multiple lesions') a countable impression
    is plural: 'liver metastases', 'simple hepatic cysts'.
    """
    if head_noun(name).casefold() not in COUNT_IMPRESSION_HEADS:
        return name
    if not plural:
        return with_article(name)
    if name.endswith("sis"):
        return name[:-3] + "ses"
    return name + ("es" if name.endswith(("ss", "s")) else "s")


def number_words(count: int) -> str:
    """Return a count in words up to twelve and in digits above: 3 -> 'three', 25 -> '25'."""
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
    return words[count] if 0 <= count < len(words) else str(count)
