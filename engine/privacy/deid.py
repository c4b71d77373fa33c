"""Replace patient identifiers in report text with stable placeholders.

Covered: person names after a title such as "Dr." or "Mrs." or after a label
such as "Patient:" or "Radiologist:", and every later occurrence of a found
name. Also dates (ISO, numeric day/month/year, month names, Chinese
2021年3月4日), record, accession and other ID numbers, phone numbers, e-mail
addresses and street addresses. A value gets one placeholder such as
``[NAME_1]`` or ``[DATE_2]`` and keeps it in every text of the same
``Deidentifier``, so the model still sees which mentions are the same.

Clinical content is left alone on purpose: sizes ("2.4 x 3.1 cm"), TNM
("pT3N1M0"), segment numbers, HU values, vertebral levels (L1, T12) and counts
such as "3/14 lymph nodes" match none of the patterns.

NOTE: names are found only through a title, a label or a repeat of a name found
that way. A bare name in running text ("seen with John Smith") stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MONTH = (
    r"(?i:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
)
_CAPITALIZED = r"[A-Z](?:'[A-Z])?[a-z][A-Za-z'\-]*"
_NAME_WORDS = rf"{_CAPITALIZED}(?:\s+(?:[A-Z]\.\s*)?{_CAPITALIZED}){{0,2}}"
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Doctor)"
# After a label, also accept upper-case names ("SMITH, JOHN"); words are joined by single spaces only.
_LABELLED_NAME = rf"(?:{_CAPITALIZED}(?:,? (?:[A-Z]\. ?)?{_CAPITALIZED}){{0,3}}|[A-Z]{{2,}}(?:,? [A-Z]{{2,}}){{1,2}}(?: [A-Z]\b\.?)?)"
_NAME_LABEL = (
    r"(?i:patient(?:'s)?\s+name|patient|name|pt|referring\s+(?:physician|doctor)|physician|radiologist|pathologist"
    r"|surgeon|attending|(?:electronically\s+)?signed(?:\s+out)?\s+by|reported\s+by|dictated\s+by|reviewed\s+by)"
)
_ID_LABEL = (
    r"(?i:MRN|MR\s*#|MR\s*No|medical\s+record(?:\s+(?:number|no))?|patient\s+id|hospital\s+(?:number|no|id)"
    r"|accession(?:\s+(?:number|no))?|acc\s*#|case\s+(?:number|no|id)|specimen\s+(?:number|no|id)"
    r"|surgical\s+pathology\s+(?:number|no)|SSN|NHS\s+(?:number|no)|ID)"
)
_STREET = r"(?:Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|Lane|Ln|Drive|Court|Ct|Way|Place|Pl|Terrace|Highway|Hwy)"

# (category, compiled pattern, group holding the value; 0 is the whole match)
_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), 0),
    ("NAME", re.compile(rf"\b{_TITLE}\.?\s+({_NAME_WORDS})"), 1),
    ("NAME", re.compile(rf"\b{_NAME_LABEL}[ \t]*[:：][ \t]*(?:{_TITLE}\.?[ \t]+)?({_LABELLED_NAME})"), 1),
    ("NAME", re.compile(r"(?:姓\s*名|患者|病人|报告医师|审核医师|医师|医生)\s*[:：]\s*([\u4e00-\u9fff]{2,4})"), 1),
    ("ADDRESS", re.compile(r"(?i:\baddress|住址|地址)[ \t]*[:：][ \t]*([^\n]+)"), 1),
    ("ADDRESS", re.compile(
        rf"\b\d{{1,5}}\s+(?:[A-Z][a-z]+\.?\s+){{1,4}}{_STREET}\b\.?(?:,\s*(?:Apt|Suite|Unit)\.?\s*\w+)?"
        r"(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)?(?:,\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?"), 0),
    ("ADDRESS", re.compile(r"[\u4e00-\u9fff]{2,}(?:省|市|区|县)[\u4e00-\u9fff\d]*?(?:路|街|道)\d+号"), 0),
    ("DATE", re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?"), 0),
    ("DATE", re.compile(r"\b(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?\b"), 0),
    ("DATE", re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d{2}\b"), 0),
    ("DATE", re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?{_MONTH}\.?,?[ \t]+\d{{4}}\b"), 0),
    ("DATE", re.compile(rf"\b{_MONTH}\.?[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+\d{{4}}\b"), 0),
    ("DATE", re.compile(rf"\b\d{{1,2}}-{_MONTH}-\d{{2,4}}\b"), 0),
    ("DATE", re.compile(rf"\b{_MONTH}\.?[ \t]+\d{{4}}\b"), 0),
    ("PHONE", re.compile(
        r"(?i:\b(?:tel|telephone|phone|ph|mobile|cell|fax)|电话|手机|联系电话)\.?[ \t]*(?:no\.?|number)?[ \t]*[:：]?[ \t]*(\+?\d[\d \t().\-]{5,}\d)"), 1),
    ("PHONE", re.compile(r"(?<![\w.])(?:\+\d{1,3}[ \t.-]?)?\(?\d{3}\)?[ \t.-]\d{3}[ \t.-]\d{4}\b"), 0),
    ("PHONE", re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), 0),
    ("ID", re.compile(rf"\b{_ID_LABEL}[ \t]*(?:#|No\.?|number)?[ \t]*[:：#]?[ \t]*([A-Za-z]{{0,4}}[-]?\d[\dA-Za-z\-/]{{2,}})"), 1),
    ("ID", re.compile(r"(?:住院号|门诊号|病理号|检查号|病案号|影像号|登记号|CT号|MR号|ID号)\s*[:：]?\s*([A-Za-z]{0,4}\d[\dA-Za-z\-]{2,})"), 1),
    ("ID", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), 0),
    ("ID", re.compile(r"\b[A-Z]{1,3}\d{2,4}-\d{3,}\b"), 0),
    ("ID", re.compile(r"(?<![\d.])\d{7,}(?![\d.])"), 0),
)

_NOT_NAMES = frozenset({"male", "female", "man", "woman", "unknown", "anonymous", "none", "n/a", "see", "the", "no"})


@dataclass(frozen=True)
class DeidResult:
    """De-identified text and the placeholder -> original mapping used for it."""

    text: str
    replacements: dict[str, str] = field(default_factory=dict)
    key: str = ""

    def reidentify(self, text: str) -> str:
        """Put the originals back in place of this result's placeholders."""
        return reidentify(text, self.replacements)


class Deidentifier:
    """Placeholder assignment that stays stable across every text of one scope (one case)."""

    def __init__(self, key: str = ""):
        self.key = key
        self.replacements: dict[str, str] = {}
        self._placeholders: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._known_names: set[str] = set()

    def deidentify(self, text: str) -> DeidResult:
        """Return ``text`` with every identifier replaced; see the module docstring."""
        spans = _find_spans(text)
        self._known_names.update(value for category, _, _, value in spans if category == "NAME")
        spans += _repeat_spans(text, self._known_names)
        chosen = _non_overlapping(spans)

        pieces: list[str] = []
        cursor = 0
        for category, start, end, value in chosen:
            pieces.append(text[cursor:start])
            pieces.append(self._placeholder(category, value))
            cursor = end
        pieces.append(text[cursor:])
        return DeidResult("".join(pieces), dict(self.replacements), self.key)

    def _placeholder(self, category: str, value: str) -> str:
        lookup = (category, " ".join(value.split()).casefold())
        if lookup not in self._placeholders:
            self._counts[category] = self._counts.get(category, 0) + 1
            placeholder = f"[{category}_{self._counts[category]}]"
            self._placeholders[lookup] = placeholder
            self.replacements[placeholder] = value
        return self._placeholders[lookup]


def deidentify(text: str, key: str = "") -> DeidResult:
    """De-identify one text on its own; use a ``Deidentifier`` to share placeholders across texts."""
    return Deidentifier(key).deidentify(text)


def reidentify(text: str, replacements: dict[str, str]) -> str:
    """Replace each placeholder in ``text`` by its original value."""
    if not replacements:
        return text
    pattern = re.compile("|".join(re.escape(p) for p in sorted(replacements, key=len, reverse=True)))
    return pattern.sub(lambda match: replacements[match.group(0)], text)


def _find_spans(text: str) -> list[tuple[str, int, int, str]]:
    spans = []
    for category, pattern, group in _PATTERNS:
        for match in pattern.finditer(text):
            value = match.group(group).rstrip(" \t,.;")
            if not value or (category == "NAME" and value.casefold() in _NOT_NAMES):
                continue
            start = match.start(group)
            spans.append((category, start, start + len(value), value))
    return spans


def _repeat_spans(text: str, names: set[str]) -> list[tuple[str, int, int, str]]:
    """Find later mentions of known names: the whole name and each of its words of 3+ letters."""
    forms = set(names)
    for name in names:
        forms.update(word for word in re.split(r"[\s,]+", name) if len(word.strip(".")) >= 3)
    spans = []
    for form in sorted(forms, key=len, reverse=True):
        for match in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", text):
            spans.append(("NAME", match.start(), match.end(), form))
    return spans


def _non_overlapping(spans: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Keep the earliest span at each place, the longest among equals."""
    chosen: list[tuple[str, int, int, str]] = []
    last_end = -1
    for span in sorted(spans, key=lambda s: (s[1], -(s[2] - s[1]))):
        if span[1] >= last_end:
            chosen.append(span)
            last_end = span[2]
    return chosen
