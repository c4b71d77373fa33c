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
    "wall thickening", "thickened wall", "thickened", "area of", "observation", "observations", "hypodensity", "hypodensities",
    "hypoattenuating lesion", "hyperdensity",
)
IGNORED_WORDS: tuple[str, ...] = ("mass effect", "lymph node stations", "nodes per cassette")
"""Phrases that contain a lesion or node word but name none; matched so the shorter word is not."""
NODE_WORDS: tuple[str, ...] = (
    "lymph node", "lymph nodes", "node", "nodes", "adenopathy", "lymphadenopathy", "lymph node enlargement", "nodal metastases",
    "nodal metastasis", "nodal disease", "nodal involvement", "lymph node metastases", "lymph node metastasis",
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
    hyphenated: dict[str, set[str]] = field(default_factory=dict)
    """Written forms with hyphens by key ("lr-5" for "lr 5"), for ConText targets."""
    derived: dict[str, Any] = field(default_factory=dict, repr=False)
    """Values computed once from this lexicon (the ConText target rules), by name."""

    def memo(self, name: str, build):
        """Return ``derived[name]``, computing it with ``build()`` the first time."""
        if name not in self.derived:
            self.derived[name] = build()
        return self.derived[name]

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
        spans = [(hit_start, hit_end) for hit_start, hit_end, _ in found]
        found += [hit for hit in self._listed_segments(text, start, end) if not any(a <= hit[0] and hit[1] <= b for a, b in spans)]
        return sorted(found)

    def _listed_segments(self, text: str, start: int, end: int) -> list[tuple[int, int, list[Reading]]]:
        """Return the later items of a segment list ("segment VII/VIII", "segments 5 and 8"), which the KG forms miss."""
        found = []
        for match in _SEGMENT_LIST.finditer(text, start, end):
            items = [(match.start(), _LIST_ITEM.match(text, match.start("first")))]
            items += [(match.start("rest") + item.start("number"), item) for item in _LIST_ITEM.finditer(match.group("rest"))]
            for item_start, item in items:
                key = f"segment {item.group('number')}{item.group('part')}".casefold()
                readings = self.readings.get(key)
                if readings and item_start < match.start("rest"):
                    found.append((match.start(), match.start("rest"), readings))
                elif readings:
                    found.append((item_start, item_start + len(item.group("number")) + len(item.group("part")), readings))
        return found

    def targets(self, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
        """Return English ``(form, label)`` target rules for the term kinds given, in order of precedence; the label is the kind upper-cased."""
        rules = []
        for key, readings in self.readings.items():
            if re.search(r"[\u4e00-\u9fff]", key) or len(key) < 3:
                continue
            # One label per form, so "liver metastases" (a liver impression and a colon finding) anchors a lesion.
            kind = next((k for k in kinds if any(r.kind == k for r in readings)), None)
            if kind is None:
                continue
            for form in [key, *sorted(self.hyphenated.get(key, ()))]:
                rules.append((form, kind.upper()))
                if kind in ("impression", "lesion") and form[-1].isalpha() and not form.endswith("s"):
                    rules.append((form + "s", kind.upper()))
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
    _add_sections(lexicon, box.kgs)
    _demote_generic_cancer(lexicon, box.kgs)
    lexicon.abbreviations = {key for key, upper in case_forms.items() if upper and len(key) <= ABBREVIATION_MAX_LENGTH}
    _compile(lexicon)
    # The cached lexicon is shared by every thread; a plain dict cannot grow on a missed lookup.
    lexicon.readings = {key: list(readings) for key, readings in lexicon.readings.items()}
    return lexicon


SECTION_FORMS: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    "liver": {
        ("segment_5", "segment_8"): ("anterior segment of the right lobe", "anterior segment of the right hepatic lobe", "right anterior section",
                                     "right anterior sector", "右前叶"),
        ("segment_6", "segment_7"): ("posterior segment of the right lobe", "posterior segment of the right hepatic lobe", "right posterior section",
                                     "right posterior sector", "右后叶"),
        ("segment_2", "segment_3"): ("lateral segment of the left lobe", "lateral segment of the left hepatic lobe", "left lateral section", "左外叶"),
    },
}
"""Forms that name an anatomical section of two subregions (Brisbane 2000 liver sections), by organ.

The KG lint keeps each synonym on one subregion, so a form that names two lives here
and resolves to both.
"""
_SEGMENT_LIST = re.compile(
    r"\b(?:segments?|seg\.?|S)\s*(?P<first>[1-8]|I{1,3}|IV|VI{0,3}|IX)[ab]?(?P<rest>(?:\s*(?:/|,|&|and|or|to|-)\s*(?:segments?\s*|S)?(?:[1-8]|I{1,3}|IV|VI{0,3})[ab]?\b)+)",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"(?P<prefix>segments?\s*|S)?(?P<number>[1-8]|I{1,3}|IV|VI{0,3})(?P<part>[ab]?)\b", re.IGNORECASE)


def _add_sections(lexicon: Lexicon, kgs: Mapping[str, Any]) -> None:
    for organ, sections in SECTION_FORMS.items():
        kg = kgs.get(organ)
        if kg is None:
            continue
        known = {spec.id for spec in kg.doc.subregions}
        for subregions, forms in sections.items():
            for subregion in subregions:
                if subregion in known:
                    for form in forms:
                        _add(lexicon, form, Reading(organ, "subregion", subregion))


_GENERIC_CANCER = re.compile(r"(?P<organ>.*?)\s*(?:cancer|carcinoma|ca|malignancy|malignant tumou?r|癌)")


def _demote_generic_cancer(lexicon: Lexicon, kgs: Mapping[str, Any]) -> None:
    """Read "<organ> carcinoma" as an unspecified lesion where the organ KG has several carcinoma impressions.

    "Esophageal carcinoma" may be squamous cell carcinoma or adenocarcinoma, so naming
    either would guess the histology. Where the KG has one carcinoma impression
    ("pancreatic carcinoma" is ductal adenocarcinoma), the generic form keeps it.
    """
    for organ, kg in kgs.items():
        carcinomas = [i.id for i in kg.doc.impressions if i.behaviour == "malignant" and i.name.casefold().endswith("carcinoma")]
        if len(carcinomas) < 2:
            continue
        lesion = Reading(organ, "lesion", kg.doc.lesion.id)
        for key, readings in lexicon.readings.items():
            if not any(r.organ == organ and r.kind == "impression" for r in readings) or not _names_only_organ(lexicon, key, organ):
                continue
            other_readings = [r for r in readings if not (r.organ == organ and r.kind == "impression")]
            lexicon.readings[key] = other_readings + ([lesion] if lesion not in other_readings else [])


def _names_only_organ(lexicon: Lexicon, key: str, organ: str) -> bool:
    match = _GENERIC_CANCER.fullmatch(key)
    if match is None:
        return False
    words = match.group("organ")
    return words == "" or any(r.organ == organ and r.kind == "organ" for r in lexicon.readings.get(words, []))


ABBREVIATION_MAX_LENGTH = 5
"""Keys up to this length written only in capitals in the KGs are matched case-sensitively."""


def _note_case(case_forms: dict[str, bool], form: str) -> None:
    key = normalize(form)
    case_forms[key] = case_forms.get(key, True) and form.isupper()


_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("oesophag", "esophag"), ("tumour", "tumor"), ("haemangioma", "hemangioma"), ("oedema", "edema"), ("caec", "cec"), ("coeliac", "celiac"),
)
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
    hyphenated = " ".join(form.casefold().split())
    if "-" in hyphenated and not re.search(r"[\u4e00-\u9fff]", hyphenated):
        # spaCy keeps "LR-5" one token but splits "ill-defined", so a target needs the written form too.
        lexicon.hyphenated.setdefault(key, set()).add(hyphenated)


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
