"""Lesions: anchors (lesion words, KG lesion terms, impressions, histology) placed in an organ.

Each anchor mention becomes a draft with the organ and subregions named in its
sentence, the KG finding terms of the sentence, the nearest size and any count
word before it. Drafts that describe the same lesion (same organ, compatible
subregions, impression and size) are then merged in order of appearance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from data_contracts.common import FieldEvidence
from data_contracts.report import LesionFinding
from data_contracts.common import Flag
from engine.extraction.counts import count_before
from engine.extraction.plausibility import implausible_size_flag, is_plausible_size, unit_slip
from engine.extraction.evidence import evidence
from engine.extraction.lexicon import ATTRIBUTE_FIELDS, LESION_WORDS, Lexicon
from engine.extraction.mentions import OTHER_PLACE, Sentence, nearest
from engine.text.context import Mention
from engine.text.sections import Section
from engine.text.sizes import SizeMention

ANCHOR_LABELS = frozenset({"LESION", "IMPRESSION", "ENDPOINT", "METASTASIS"})
SIZE_REACH = 90
"""Characters between a size and its anchor beyond which the size is not the anchor's."""

_COREFERENCE = re.compile(r"\b(?:this|that|these|the same|the above)\s+(?:[\w.-]+\s+){0,3}$", re.IGNORECASE)
_LINK = re.compile(
    r"(?:\b(?:consistent|consistant|compatible|in\s+keeping|keeping)\s+with|\b(?:likely\s+)?represent(?:s|ing)?|\bdiagnosis\s+of|\bsuspicious\s+for"
    r"|\bconcerning\s+for|\bworrisome\s+for|\bsuggestive\s+of|\bsuggesting|\btypical\s+of|\bcharacteristic\s+of|\bdiagnostic\s+of"
    r"|\b(?:most\s+)?likely(?:\s+to\s+be)?|\bprobabl[ey]|\bfavou?r(?:ing|s)?|\bin\s+favou?r\s+of|\b(?:may|could|might)\s+(?:represent|be)"
    r"|\bpossibl[ey]|\bsuspected|\bquery|\bappearances\s+(?:are\s+)?(?:typical|in\s+keeping)\s+(?:of|with))"
    r"\s+(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){0,2}$"
    r"|(?:考虑|倾向|符合|提示|可能为)[^，,。；]{0,4}$",
    re.IGNORECASE,
)
_DISTANCE_AFTER = re.compile(r"^\s*(?:from|above|below|away|proximal|distal|in circumference|long\b)", re.IGNORECASE)
METASTASIS_FORMS = frozenset({
    "metastasis", "metastases", "mets", "metastatic deposit", "metastatic disease", "metastatic tumor", "metastatic tumour",
    "转移", "转移灶", "转移瘤", "转移癌",
})
ATTACH_REACH = 300
"""Characters back to the last lesion that an impression without an organ ("a metastatic deposit is in the differential") may describe."""
_CERTAINTY_RANK = {"definite": 0, "probable": 1, "possible": 2}


@dataclass
class Draft:
    """A lesion as read so far from one or more mentions."""

    organ: str
    start: int
    section: str
    subregions: list[str] = field(default_factory=list)
    impression: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    size: SizeMention | None = None
    count: int | None = None
    multiple: bool = False
    malignant: bool = False
    negated: bool = False
    certainty: str = "definite"
    historical: bool = False
    evidence: list[FieldEvidence] = field(default_factory=list)


def find_lesions(text: str, sentences: list[Sentence], lexicon: Lexicon, kgs: Mapping[str, Any], sections: list[Section]) -> list[Draft]:
    """Return merged lesion drafts in order of first mention."""
    return merge_drafts(find_lesion_drafts(text, sentences, lexicon, kgs, sections), kgs)


def find_lesion_drafts(text: str, sentences: list[Sentence], lexicon: Lexicon, kgs: Mapping[str, Any], sections: list[Section]) -> list[Draft]:
    """Return one draft per lesion mention, before merging, in order of appearance."""
    organs = set(kgs)
    drafts: list[Draft] = []
    for sentence in sentences:
        size_owner = _assign_sizes(text, sentence)
        in_sentence: list[Draft] = []
        for mention in sentence.mentions:
            if not _is_anchor(mention) or mention.hypothetical:
                continue
            if _refers_back(text, sentence, mention, drafts):
                _add_attributes(text, sentence, drafts[-1], drafts[-1].organ, sections)
                continue
            if in_sentence and _LINK.search(text[sentence.start : mention.start]) and _link(text, mention, in_sentence[-1], lexicon, kgs, sections):
                _add_places(text, sentence, in_sentence[-1], mention, organs, sections, lexicon)
                size = size_owner.get(id(mention))
                if size is not None and in_sentence[-1].size is None:
                    _set_size(text, in_sentence[-1], size, sections)
                continue
            draft = _draft(text, sentence, mention, lexicon, kgs, organs, sections, drafts)
            if draft is None:
                _attach_impression(text, mention, drafts, lexicon, kgs, sections)
                continue
            size = size_owner.get(id(mention))
            if size is not None:
                _set_size(text, draft, size, sections)
            drafts.append(draft)
            in_sentence.append(draft)
        _continue_previous(text, sentence, drafts, sections)
    return drafts


def _is_anchor(mention: Mention) -> bool:
    """Lesion words, KG lesion and impression terms, and finding terms that end in a lesion word ('soft tissue mass')."""
    if mention.label in ANCHOR_LABELS:
        return True
    return mention.label == "FINDING" and mention.text.casefold().split()[-1] in LESION_WORDS


def _set_size(text: str, draft: Draft, size: SizeMention, sections) -> None:
    draft.size = size
    draft.evidence.append(evidence("max_diameter_mm", text, size.start, size.end, sections))


def _link(text, mention, draft, lexicon, kgs, sections) -> bool:
    """Give the impression of 'X ... consistent with Y' to X; return False when Y names no impression of X's organ."""
    impression = _impression(_readings(lexicon, mention.text), draft.organ, kgs, mention)
    if impression is None and _MALIGNANT_WORD.search(mention.text) and draft.impression is None:
        # "gastric antral mass, concerning for malignancy": the mass is the possible malignancy.
        draft.malignant = True
        draft.certainty = mention.certainty
        draft.evidence.append(evidence("malignant", text, mention.start, mention.end, sections))
        return True
    if impression is None:
        return False
    draft.impression = impression
    draft.certainty = mention.certainty
    draft.evidence.append(evidence("impression", text, mention.start, mention.end, sections))
    return True


def _attach_impression(text, mention, drafts, lexicon, kgs, sections) -> None:
    """Give an impression named without an organ to the lesion described just before it."""
    if not drafts or mention.negated or mention.start - drafts[-1].start > ATTACH_REACH or drafts[-1].impression:
        return
    if mention.label not in ("IMPRESSION", "METASTASIS"):
        return
    _link(text, mention, drafts[-1], lexicon, kgs, sections)


def _readings(lexicon: Lexicon, surface: str):
    key = _key(surface)
    readings = lexicon.readings.get(key) or lexicon.readings.get(key.removesuffix("s")) or []
    return readings


def _refers_back(text: str, sentence: Sentence, mention: Mention, drafts: list[Draft]) -> bool:
    """Return True for 'this mass', 'these lesions': a mention of the lesion just described."""
    return bool(drafts) and mention.label == "LESION" and bool(_COREFERENCE.search(text[sentence.start : mention.start]))


def _draft(text, sentence, mention, lexicon, kgs, organs, sections, previous) -> Draft | None:
    readings = _readings(lexicon, mention.text)
    organ = _anchor_organ(text, sentence, mention, readings, organs) or _embedded_organ(mention, lexicon, organs)
    if organ is None:
        organ = _later_impression_organ(sentence, mention, lexicon)
    if organ is None and previous and re.search(r"\bthe\s+(?:[\w.-]+\s+){0,3}$", text[sentence.start : mention.start], re.IGNORECASE):
        organ = previous[-1].organ
    if organ is None:
        return None

    draft = Draft(organ, mention.start, sentence.section, negated=mention.negated, certainty=mention.certainty, historical=mention.historical)
    draft.evidence.append(evidence("lesion", text, mention.start, mention.end, sections))
    draft.impression = _impression(readings, organ, kgs, mention)
    draft.malignant = bool(_MALIGNANT_WORD.search(mention.text))
    if draft.impression:
        draft.evidence.append(evidence("impression", text, mention.start, mention.end, sections))
    _add_places(text, sentence, draft, mention, organs, sections, lexicon)
    _add_attributes(text, sentence, draft, organ, sections)
    _add_count(text, sentence, draft, mention, sections)
    return draft


def _embedded_organ(mention: Mention, lexicon: Lexicon, organs: set[str]) -> str | None:
    """Return the organ named inside a finding anchor ("liver lesions" is a colon KG finding that names the liver)."""
    words = mention.text.split()
    for size in range(len(words) - 1, 0, -1):
        readings = lexicon.readings.get(_key(" ".join(words[:size])), [])
        placed = {r.organ for r in readings if r.kind in ("organ", "subregion")} | {r.id for r in readings if r.kind == "structure" and r.id in organs}
        if len(placed) == 1:
            return placed.pop()
    return None


def _later_impression_organ(sentence: Sentence, mention: Mention, lexicon: Lexicon) -> str | None:
    """Return the organ of an impression later in the sentence: 'Two lesions in the left lobe are consistent with simple cysts'."""
    for later in sentence.mentions:
        if later.start <= mention.start or later.label not in ("IMPRESSION", "LESION"):
            continue
        own = {r.organ for r in _readings(lexicon, later.text) if r.kind in ("impression", "lesion")}
        if len(own) == 1:
            return own.pop()
    return None


def _key(text: str) -> str:
    from kg.terms import normalize

    return normalize(text)


def _anchor_organ(text: str, sentence: Sentence, mention: Mention, readings, organs: set[str]) -> str | None:
    """Return the organ of an anchor: its own KG organ if specific, else the nearest organ named in the sentence.

    Places in the anchor's own comma-delimited clause win over nearer places across a
    comma ("肝内未见占位，胰头见肿块"). A place outside the KG organs (lung, kidney,
    adnexa) that lies nearer than any KG organ means the lesion is not in a KG organ,
    and None is returned.
    """
    own = {r.organ for r in readings if r.kind in ("lesion", "impression")}
    if _key(mention.text) in METASTASIS_FORMS:
        own = set()
    places = sentence.organs(organs) + sentence.other_places(organs)
    start, end = _clause(text, sentence, mention)
    in_clause = [p for p in places if start <= p[0] and p[1] <= end]
    places = in_clause or places
    named = {organ for _, _, organ in places} - {OTHER_PLACE}
    if len(own) == 1:
        return own.pop()
    if own and named & own:
        places = [p for p in places if p[2] in own]
    organ = nearest(mention.start, places)
    return None if organ == OTHER_PLACE else organ


def _clause(text: str, sentence: Sentence, mention: Mention) -> tuple[int, int]:
    """Return the comma- or semicolon-delimited part of the sentence that contains the mention."""
    before = max(text.rfind(mark, sentence.start, mention.start) for mark in ",，;；")
    ends = [position for mark in ",，;；" if (position := text.find(mark, mention.end, sentence.end)) >= 0]
    return (before + 1 if before >= 0 else sentence.start), (min(ends) if ends else sentence.end)


def _impression(readings, organ: str, kgs: Mapping[str, Any], mention: Mention) -> str | None:
    if _key(mention.text) in METASTASIS_FORMS:
        term = kgs[organ].resolve("metastasis", "impression")
        return term.id if term else None
    for reading in readings:
        if reading.organ == organ and reading.kind == "impression":
            return reading.id
    for reading in readings:
        if reading.organ == organ and reading.kind == "endpoint":
            for info in kgs[organ].impressions.values():
                if info.histology == reading.id:
                    return info.id
    return generic_impression(kgs[organ], mention.text)


_MALIGNANT_WORD = re.compile(r"(?:carcinoma|cancer|\bca\b|malignan\w*|sarcoma|癌|恶性)", re.IGNORECASE)
"""Words that call a lesion malignant without naming its histology."""
_CANCER_WORD = re.compile(r"(?:^|\s)(?P<word>carcinoma|cancer|ca|adenocarcinoma|癌)$", re.IGNORECASE)


def generic_impression(kg: Any, surface: str) -> str | None:
    """Return the impression a bare cancer word names in an organ ("pancreatic body carcinoma", "胃窦癌"), if only one fits.

    "Carcinoma" names the organ's impression when the KG has exactly one malignant
    impression whose name ends in "carcinoma", and "adenocarcinoma" when exactly one ends
    in "adenocarcinoma". Otherwise ("esophageal carcinoma": squamous or glandular) None.
    """
    match = _CANCER_WORD.search(surface.strip())
    if match is None:
        return None
    suffix = "adenocarcinoma" if match.group("word").casefold() == "adenocarcinoma" else "carcinoma"
    fitting = [i.id for i in kg.doc.impressions if i.behaviour == "malignant" and i.name.casefold().endswith(suffix)]
    return fitting[0] if len(fitting) == 1 else None


def _add_places(text, sentence, draft, mention, organs, sections, lexicon) -> None:
    """Add the subregions named nearer to this anchor than to any other anchor of the sentence.

    "HCC in segment 8 and HCC in segment 2" gives each lesion its own segment.
    """
    anchors = [m for m in sentence.mentions if _is_anchor(m) and not m.hypothetical]
    for hit in sentence.terms:
        if anchors and min(anchors, key=lambda m: (_span_gap(hit, m), m.start)) is not mention:
            continue
        for reading in list(hit.readings) + _embedded_places(hit, lexicon):
            if reading.organ == draft.organ and reading.kind == "subregion" and reading.id not in draft.subregions:
                draft.subregions.append(reading.id)
                draft.evidence.append(evidence("subregions", text, hit.start, hit.end, sections))
            elif reading.kind == "organ" and reading.organ == draft.organ:
                draft.evidence.append(evidence("organ", text, hit.start, hit.end, sections))


def _span_gap(hit, mention) -> int:
    if hit.end <= mention.start:
        return mention.start - hit.end
    if mention.end <= hit.start:
        return hit.start - mention.end
    return 0


def _embedded_places(hit, lexicon: Lexicon) -> list:
    """Return the subregion a lesion or impression term starts with: 'rectal mass' and 'rectal CA' name the rectum."""
    if not any(r.kind in ("lesion", "impression") for r in hit.readings):
        return []
    words = hit.text.split()
    if len(words) < 2:
        return []
    return [r for r in lexicon.readings.get(_key(" ".join(words[:-1])), []) if r.kind == "subregion"]


def _add_attributes(text, sentence, draft, organ, sections) -> None:
    negated = [(m.start, m.end) for m in sentence.mentions if m.label == "FINDING" and m.negated]
    for hit in sentence.terms:
        if any(s <= hit.start < e for s, e in negated):
            continue
        for reading in hit.readings:
            if reading.organ != organ or reading.kind != "finding" or reading.attribute in ("count", None):
                continue
            values = draft.attributes.setdefault(reading.attribute, [])
            if reading.id not in values:
                values.append(reading.id)
                name = ATTRIBUTE_FIELDS.get(reading.attribute, "signs")
                draft.evidence.append(evidence(name, text, hit.start, hit.end, sections))


def _add_count(text, sentence, draft, mention, sections) -> None:
    """Set the lesion count from a count word before the anchor ("two", "3", "multiple (at least 4)", "两个", "多发")."""
    plural = mention.text.casefold().endswith("s") and not mention.text.casefold().endswith(("ss", "sis", "us"))
    count = count_before(text, max(sentence.start, mention.start - 60), mention.start)
    if count is None:
        draft.multiple = draft.multiple or plural
        return
    if count.number is not None:
        draft.count = count.number
    draft.multiple = count.many
    draft.evidence.append(evidence("count", text, count.start, count.end, sections))


def _assign_sizes(text: str, sentence: Sentence) -> dict[int, SizeMention]:
    anchors = [m for m in sentence.mentions if _is_anchor(m) or m.label == "NODE"]
    owner: dict[int, SizeMention] = {}
    for size in sentence.sizes:
        if _DISTANCE_AFTER.match(text[size.end : size.end + 20]):
            continue
        best = min(anchors, key=lambda m: _gap(size, m), default=None)
        if best is not None and _gap(size, best) <= SIZE_REACH and id(best) not in owner:
            owner[id(best)] = size
    return owner


def _gap(size: SizeMention, mention: Mention) -> int:
    if size.end <= mention.start:
        return mention.start - size.end
    if mention.end <= size.start:
        # A size after its anchor ("a mass measuring 3 cm") counts a little farther.
        return size.start - mention.end + 10
    return 0


def _continue_previous(text: str, sentence: Sentence, drafts: list[Draft], sections) -> None:
    """Give findings of an anchor-less sentence starting 'This ...' / 'It ...' to the last lesion."""
    if not drafts or any(_is_anchor(m) for m in sentence.mentions):
        return
    if not re.match(r"\s*(?:this|it|these|the lesion|the mass|the tumou?r)\b", text[sentence.start : sentence.end], re.IGNORECASE):
        return
    _add_attributes(text, sentence, drafts[-1], drafts[-1].organ, sections)
    sizes = [z for z in sentence.sizes if not _DISTANCE_AFTER.match(text[z.end : z.end + 20])]
    if sizes and drafts[-1].size is None:
        _set_size(text, drafts[-1], sizes[0], sections)


def merge_drafts(drafts: list[Draft], kgs: Mapping[str, Any] | None = None) -> list[Draft]:
    """Merge drafts that describe one lesion; keep the order of first mention.

    With ``kgs``, subregions are compared through the KG's part-of hierarchy, so an
    uncinate process mention and a pancreatic head mention can merge.
    """
    merged: list[Draft] = []
    for draft in drafts:
        target = next((m for m in merged if _same_lesion(m, draft, kgs)), None)
        if target is None:
            merged.append(draft)
        else:
            _absorb(target, draft)
    return merged


def _same_lesion(a: Draft, b: Draft, kgs: Mapping[str, Any] | None = None) -> bool:
    if a.organ != b.organ or a.negated != b.negated or a.historical != b.historical:
        return False
    if a.impression and b.impression and a.impression != b.impression:
        return False
    if a.subregions and b.subregions and not subregions_overlap(a.subregions, b.subregions, (kgs or {}).get(a.organ)):
        return False
    if a.size and b.size and abs(a.size.max_mm - b.size.max_mm) > 0.2 * max(a.size.max_mm, b.size.max_mm):
        return unit_slip(a.organ, a.size.max_mm, b.size.max_mm)
    return True


def _better_size(organ: str, candidate: SizeMention, current: SizeMention) -> bool:
    """Return True when ``candidate`` should replace ``current``: plausible over implausible (a cm/mm slip), then larger."""
    plausible = is_plausible_size(organ, candidate.max_mm), is_plausible_size(organ, current.max_mm)
    if plausible[0] != plausible[1]:
        return plausible[0]
    return candidate.max_mm > current.max_mm


def implausible_size_flags(drafts: list[Draft], case_id: str) -> list[Flag]:
    """Return an ``implausible_size`` flag for every lesion mention whose size is impossible for its organ, before merging.

    Flagging mentions, not merged lesions, also catches a slip in one mention of a
    lesion whose other mention states a plausible size (findings 3.2 cm, impression 32 cm).
    """
    flags = []
    for draft in drafts:
        if draft.size is not None and not is_plausible_size(draft.organ, draft.size.max_mm):
            flags.append(implausible_size_flag(case_id, "a lesion", draft.organ, draft.size.max_mm, draft.size.text,
                                               "lesions.max_diameter_mm", draft.size.start))
    return list({flag.message: flag for flag in flags}.values())


def subregions_overlap(first: list[str], second: list[str], kg: Any) -> bool:
    """Return True when the two subregion lists share one, or one lies in the other by the KG's part-of links."""
    if set(first) & set(second):
        return True
    if kg is None:
        return False
    parents = {spec.id: spec.part_of for spec in kg.doc.subregions}
    return any(_within(a, b, parents) or _within(b, a, parents) for a in first for b in second)


def _within(inner: str, outer: str, parents: dict[str, str | None]) -> bool:
    seen: set[str] = set()
    current = parents.get(inner)
    while current and current not in seen:
        if current == outer:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def _absorb(target: Draft, other: Draft) -> None:
    for region in other.subregions:
        if region not in target.subregions:
            target.subregions.append(region)
    if other.impression and not target.impression:
        target.impression = other.impression
        target.certainty = other.certainty
    elif other.impression and other.impression == target.impression and _CERTAINTY_RANK[other.certainty] < _CERTAINTY_RANK[target.certainty]:
        target.certainty = other.certainty  # "考虑转移" in the findings, "肝多发转移" stated in the diagnosis
    elif _CERTAINTY_RANK[other.certainty] < _CERTAINTY_RANK[target.certainty] and not other.impression:
        target.certainty = other.certainty if target.impression is None else target.certainty
    for attribute, values in other.attributes.items():
        own = target.attributes.setdefault(attribute, [])
        own.extend(v for v in values if v not in own)
    if other.size and (target.size is None or _better_size(target.organ, other.size, target.size)):
        target.size = other.size
    if other.count and (target.count is None or other.count > target.count):
        target.count = other.count  # "two lesions ... the largest in segment 8" counts the group the lesion belongs to
    target.multiple = target.multiple or other.multiple
    target.malignant = target.malignant or other.malignant
    target.evidence.extend(other.evidence)


def _malignancy(draft: Draft, kgs: Mapping[str, Any] | None) -> bool | None:
    """Return True for a malignant impression or a cancer word, False for a benign impression, None otherwise."""
    info = kgs[draft.organ].impressions.get(draft.impression) if kgs and draft.impression and draft.organ in kgs else None
    if info is not None and info.behaviour in ("malignant", "benign"):
        return info.behaviour == "malignant"
    return True if draft.malignant else None


def to_findings(drafts: list[Draft], lexicon: Lexicon, kgs: Mapping[str, Any] | None = None) -> list[LesionFinding]:
    """Turn drafts into ``LesionFinding`` records with ids rep-L1, rep-L2, ... in order."""
    findings = []
    for number, draft in enumerate(drafts, start=1):
        attributes = draft.attributes
        signs = tuple(v for attr, values in attributes.items() if attr not in ATTRIBUTE_FIELDS for v in values)
        findings.append(
            LesionFinding(
                finding_id=f"rep-L{number}",
                organ=draft.organ,
                subregions=tuple(draft.subregions),
                impression_id=draft.impression,
                impression_name=lexicon.names.get((draft.organ, "impression", draft.impression)) if draft.impression else None,
                density=_first(attributes, "density"),
                enhancement=tuple(attributes.get("enhancement", ())),
                shape=_first(attributes, "shape"),
                boundary=_first(attributes, "margin") or _first(attributes, "boundary"),
                count=draft.count,
                multiple=draft.multiple,
                sizes_mm=draft.size.axes_mm if draft.size else (),
                max_diameter_mm=draft.size.max_mm if draft.size else None,
                signs=signs,
                malignant=_malignancy(draft, kgs),
                negated=draft.negated,
                certainty=draft.certainty,
                historical=draft.historical,
                evidence=tuple(draft.evidence),
            )
        )
    return findings


def _first(attributes: dict[str, list[str]], name: str) -> str | None:
    values = attributes.get(name)
    return values[0] if values else None
