"""Surface forms of every organ KG, indexed for matching report text.

One form may name terms in several organ KGs ("hepatic" is the liver organ and a
structure next to the pancreas; "tail" is a pancreatic subregion). Every reading is
kept; the lesion and node modules choose by the organs named nearby.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kg.terms import normalize

LESION_WORDS: tuple[str, ...] = (
    "mass", "masses", "lesion", "lesions", "tumor", "tumors", "tumour", "tumours", "nodule", "nodules", "cyst", "cysts",
    "thickening", "stricture", "narrowing", "stenosis", "neoplasm", "malignancy", "carcinoma", "cancer", "polyp",
    "focus", "formation", "deposit", "soft tissue density", "tumor mass", "mass lesion", "polypoid lesion",
    "wall thickening", "thickened wall", "thickened", "area of",
)
IGNORED_WORDS: tuple[str, ...] = ("mass effect", "lymph node stations", "nodes per cassette")
"""Phrases that contain a lesion or node word but name none; matched so the shorter word is not."""
NODE_WORDS: tuple[str, ...] = (
    "lymph node", "lymph nodes", "node", "nodes", "adenopathy", "lymphadenopathy", "lymph node enlargement",
)
METASTASIS_WORDS: tuple[str, ...] = (
    "metastasis", "metastases", "mets", "metastatic deposit", "metastatic disease", "metastatic tumor", "metastatic tumour",
)
RELATION_WORDS: tuple[str, ...] = (
    "encasement", "encases", "encasing", "encased", "encase", "abutment", "abuts", "abutting", "abut", "abutted",
    "occlusion", "occluded", "occludes", "occluding", "tumor thrombus", "tumour thrombus", "thrombus", "tumor in vein",
    "invasion", "invades", "invading", "invaded", "invade", "infiltration", "infiltrates", "infiltrating",
    "loss of fat planes", "loss of fat plane", "spread", "compresses", "compressing", "contact", "involving", "involves",
    "involvement", "extends into", "extending into",
)
"""Relation cues given to ConText as targets, so each gets its negation and certainty; ``engine.extraction.vessels`` classifies them."""
ATTRIBUTE_FIELDS: dict[str, str] = {"density": "density", "enhancement": "enhancement", "shape": "shape", "margin": "boundary", "boundary": "boundary"}


@dataclass(frozen=True)
class Reading:
    """One meaning of a surface form: organ KG, node kind, term id, and the finding attribute or structure group if any."""

    organ: str
    kind: str
    id: str
    attribute: str | None = None


@dataclass
class Lexicon:
    """Every KG surface form by normalised key, with a regular expression that finds them in text."""

    readings: dict[str, list[Reading]] = field(default_factory=lambda: defaultdict(list))
    names: dict[tuple[str, str, str], str] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None
    zh_pattern: re.Pattern[str] | None = None
    has_zh: bool = False
    abbreviations: set[str] = field(default_factory=set)
    """Short keys that the KGs write only in capitals ("CA", "PV", "SMA"); text must write them in capitals too."""

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, list[Reading]]]:
        """Return ``(start, end, readings)`` of every KG form in ``text[start:end]``, longest first at each place."""
        end = len(text) if end is None else end
        found = []
        for pattern in (self.pattern, self.zh_pattern):
            if pattern is None:
                continue
            for match in pattern.finditer(text, start, end):
                key = normalize(match.group(0))
                readings = self.readings.get(key)
                if key in self.abbreviations and not match.group(0).isupper():
                    continue  # "ca" in "approx. ca 3 cm" is not the celiac artery
                if readings:
                    found.append((match.start(), match.end(), readings))
        return sorted(found)

    def targets(self, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
        """Return English ``(form, label)`` target rules for the term kinds given; the label is the kind upper-cased."""
        rules = []
        for key, readings in self.readings.items():
            if re.search(r"[\u4e00-\u9fff]", key) or len(key) < 3:
                continue
            for kind in {r.kind for r in readings if r.kind in kinds}:
                rules.append((key, kind.upper()))
                if kind in ("impression", "lesion") and key[-1].isalpha() and not key.endswith("s"):
                    rules.append((key + "s", kind.upper()))
        return rules


def build_lexicon(kgs: Mapping[str, Any]) -> Lexicon:
    """Index the synonyms, names and ids of every term of ``kgs``; cached by KG versions."""
    key = tuple(sorted((organ, getattr(kg, "version", id(kg))) for organ, kg in kgs.items()))
    return _build_cached(key, _KGBox(kgs))


class _KGBox:
    """Hashable wrapper so the KG mapping can pass through ``lru_cache`` keyed by versions only."""

    def __init__(self, kgs: Mapping[str, Any]):
        self.kgs = kgs

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return True


@lru_cache(maxsize=4)
def _build_cached(key: tuple, box: _KGBox) -> Lexicon:
    lexicon = Lexicon()
    case_forms: dict[str, bool] = {}
    for organ, kg in box.kgs.items():
        groups = {spec.id: spec.group for spec in kg.doc.structures}
        for (kind, term_id), term in kg.index.terms.items():
            if kind in ("stage_category", "table", "rule", "fact"):
                continue
            reading = Reading(organ, kind, term_id, groups.get(term_id) if kind == "structure" else term.attribute)
            lexicon.names[(organ, kind, term_id)] = term.name
            forms = [term.name, term_id.replace("_", " ")] + [f for forms in term.synonyms.values() for f in forms]
            for form in forms:
                _add(lexicon, form, reading)
                _note_case(case_forms, form)
                # Reports abbreviate carcinoma as "CA" ("colon CA", "gastric CA").
                if kind == "impression" and re.search(r" (?:carcinoma|cancer)$", form):
                    _add(lexicon, re.sub(r" (?:carcinoma|cancer)$", " ca", form), reading)
    lexicon.abbreviations = {key for key, upper in case_forms.items() if upper and len(key) <= ABBREVIATION_MAX_LENGTH}
    _compile(lexicon)
    # The cached lexicon is shared by every thread; a plain dict cannot grow on a missed lookup.
    lexicon.readings = {key: list(readings) for key, readings in lexicon.readings.items()}
    return lexicon


ABBREVIATION_MAX_LENGTH = 5
"""Keys up to this length written only in capitals in the KGs are matched case-sensitively."""


def _note_case(case_forms: dict[str, bool], form: str) -> None:
    key = normalize(form)
    case_forms[key] = case_forms.get(key, True) and form.isupper()


_SPELLINGS: tuple[tuple[str, str], ...] = (("oesophag", "esophag"), ("tumour", "tumor"), ("haemangioma", "hemangioma"), ("oedema", "edema"))
"""British and American spellings; a KG form in one spelling also matches the other."""


def _add(lexicon: Lexicon, form: str, reading: Reading) -> None:
    key = normalize(form)
    if not key:
        return
    variants = {key}
    for british, american in _SPELLINGS:
        variants |= {v.replace(british, american) for v in variants} | {v.replace(american, british) for v in variants}
    for variant in variants:
        if reading not in lexicon.readings[variant]:
            lexicon.readings[variant].append(reading)


def _compile(lexicon: Lexicon) -> None:
    latin, chinese = [], []
    for key in lexicon.readings:
        (chinese if re.search(r"[\u4e00-\u9fff]", key) else latin).append(key)
    latin.sort(key=len, reverse=True)
    chinese.sort(key=len, reverse=True)
    # Forms are matched with hyphens, underscores and runs of spaces treated alike, as ``normalize`` does.
    alternatives = "|".join(re.escape(k).replace(r"\ ", r"[\s\-_/]+") for k in latin)
    lexicon.pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE) if latin else None
    # Chinese forms may hold Latin letters written in capitals ("S8段"), and keys are lower case.
    lexicon.zh_pattern = re.compile("|".join(re.escape(k) for k in chinese), re.IGNORECASE) if chinese else None
    lexicon.has_zh = bool(chinese)
