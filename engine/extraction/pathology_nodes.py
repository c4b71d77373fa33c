"""Regional lymph nodes and distant metastasis of a pathology report.

Reports write the counts in many shapes: "Lymph nodes: 4/23 positive", "7 of 20 lymph
nodes", "0 positive / 17 examined", "pN1(6/21)", "Three of fifteen perigastric lymph nodes", "FOURTEEN LYMPH NODES
NEGATIVE", "Number of Lymph Nodes Involved: 4 ... Examined: 23", "淋巴结转移性癌（2/15）",
and in scanned reports with OCR noise ("Lyrnph nodes: 0/1 2", "(O/14)"). Every shape is
read, and the statement with the most nodes examined wins, because a report restates a
partial count per specimen part before the total.
"""

from __future__ import annotations

import re
from typing import Any

from engine.extraction import pathology_patterns as P
from engine.extraction.evidence import evidence

_SOURCE = "pathology"
_DIGIT = r"[0-9OIl]"
# Digits stand alone: no letter or digit around them, and no decimal point into a number ("3/12." ends a sentence).
_COUNT = rf"(?<![0-9A-Za-z.]){_DIGIT}{{1,2}}(?![0-9A-Za-z]|[.,]\d)"
_TOTAL = rf"(?<![0-9A-Za-z.]){_DIGIT}{{1,3}}(?:\s{_DIGIT}(?=\s*[(\[]|\s*$))?(?![0-9A-Za-z]|[.,]\d)"
_NODE = r"(?:l[yv][mr]n?[pn]h|Iymph)?\s*nodes?|LNs?|淋巴结"
_WORD_NUMBER = "|".join(sorted(P.NUMBER_WORDS, key=len, reverse=True))

_LABEL_FIRST = re.compile(
    rf"(?:{_NODE})\b[^\n.;]{{0,60}}?(?P<pos>{_COUNT})\s*(?:/|of|out\s+of)\s*(?P<total>{_TOTAL})", re.IGNORECASE | re.MULTILINE
)
_WORDS_OF = re.compile(
    rf"\b(?P<pos>{_WORD_NUMBER}|\d{{1,2}})\s+(?:\(\d+\)\s+)?(?:of|out\s+of)\s+(?P<total>{_WORD_NUMBER}|\d{{1,3}})\s+(?:[\w-]+\s+){{0,3}}"
    r"(?:lymph\s+)?nodes?\b",
    re.IGNORECASE,
)
_ALL_NEGATIVE = re.compile(
    rf"\b(?:all\s+)?(?P<total>{_WORD_NUMBER}|\d{{1,3}})\s+(?:[\w-]+\s+){{0,2}}(?:lymph\s+)?nodes?\s+(?:\([^)]*\)\s+)?(?:are\s+|were\s+)?"
    r"(?:all\s+)?(?:negative|free\s+of\s+(?:tumou?r|carcinoma|metasta\w*)|without\s+(?:tumou?r|metasta\w*)|benign)",
    re.IGNORECASE,
)
_POSITIVE_OF_EXAMINED = re.compile(
    r"(?P<pos>\d{1,2})\s+(?:positive|involved|metastatic)\s*(?:/|,|;|of|out\s+of)?\s*(?P<total>\d{1,3})\s+(?:examined|retrieved|total|identified|nodes?)\b",
    re.IGNORECASE,
)
_INVOLVED_LABEL = re.compile(r"(?:number\s+of\s+)?(?:lymph\s+)?nodes?\s+(?:involved|positive|with\s+metasta\w*)\s*[:：]\s*(?P<pos>\d{1,2})\b", re.IGNORECASE)
_EXAMINED_LABEL = re.compile(r"(?:number\s+of\s+)?(?:lymph\s+)?nodes?\s+(?:examined|retrieved|identified|recovered)\s*[:：]\s*(?P<total>\d{1,3})\b", re.IGNORECASE)
_ZH_RATIO = re.compile(r"淋巴结[^\n。；/]{0,20}?[（(]?\s*(?P<pos>\d{1,2})\s*/\s*(?P<total>\d{1,3})\s*[)）]?")
_ZH_COUNTS = re.compile(r"淋巴结\s*(?P<total>\d{1,3})\s*枚[^\n。]{0,12}?(?P<pos>\d{1,2})\s*枚[^\n。]{0,4}?(?:癌)?转移")


def node_counts(text: str, sections, found) -> dict[str, Any]:
    """Return ``nodes_positive`` and ``nodes_examined`` (empty when the report states neither)."""
    candidates = []
    patterns = (P.NODE_SINGLE_OF, P.NODE_METASTASES, P.NODE_RATIO_PAREN, P.NODE_RATIO, _LABEL_FIRST, _WORDS_OF, _ALL_NEGATIVE, _POSITIVE_OF_EXAMINED,
                _ZH_RATIO, _ZH_COUNTS)
    for pattern in patterns:
        for match in pattern.finditer(text):
            pair = _pair(match)
            if pair is not None:
                candidates.append((pair, match.start(), match.end()))
    labelled = _labelled(text)
    if labelled is not None:
        candidates.append(labelled)
    candidates += _station_sums(text)
    if not candidates:
        return {}
    (positive, examined), start, end = max(candidates, key=lambda c: (c[0][1], -c[1]))
    found.append(evidence("nodes", text, start, end, sections, _SOURCE))
    return {"nodes_positive": positive, "nodes_examined": examined}


_STATION_RATIO = re.compile(
    rf"(?P<station>[^\n,;，；。:：]{{2,40}}?)(?:lymph\s+nodes?|nodes?|淋巴结)\s*[:：]?\s*(?P<pos>{_COUNT})\s*/\s*(?P<total>{_TOTAL})", re.IGNORECASE
)


def _station_sums(text: str) -> list[tuple[tuple[int, int], int, int]]:
    """Return the sum of per-station counts listed in one sentence ("小弯侧淋巴结4/12枚，大弯侧淋巴结0/6枚": 4/18)."""
    sums = []
    for sentence in re.finditer(r"[^\n。.]+(?:\n(?=[^\n]*(?:nodes?|淋巴结)\s*[:：]?\s*\d))*", text):
        pairs = [(m, _pair(m)) for m in _STATION_RATIO.finditer(sentence.group(0))]
        pairs = [(m, pair) for m, pair in pairs if pair is not None]
        stations = {m.group("station").strip(" -").casefold() for m, _ in pairs}
        if len(pairs) >= 2 and len(stations) == len(pairs):
            positive = sum(pair[0] for _, pair in pairs)
            examined = sum(pair[1] for _, pair in pairs)
            sums.append(((positive, examined), sentence.start() + pairs[0][0].start(), sentence.start() + pairs[-1][0].end()))
    return sums


def _pair(match: re.Match[str]) -> tuple[int, int] | None:
    groups = match.groupdict()
    total = _number(groups.get("total"))
    if total is None or total == 0:
        return None
    if groups.get("pos") is None:
        positive = 1 if match.re is P.NODE_SINGLE_OF else 0
    else:
        positive = _number(groups["pos"])
    if positive is None or positive > total:
        return None
    return positive, total


def _labelled(text: str) -> tuple[tuple[int, int], int, int] | None:
    """Return the synoptic pair 'Nodes involved: 4' and 'Nodes examined: 23' with the span covering both."""
    involved, examined = _INVOLVED_LABEL.search(text), _EXAMINED_LABEL.search(text)
    if involved is None or examined is None:
        return None
    positive, total = int(involved.group("pos")), int(examined.group("total"))
    if total == 0 or positive > total:
        return None
    return (positive, total), min(involved.start(), examined.start()), max(involved.end(), examined.end())


def _number(value: str | None) -> int | None:
    """Read '23', 'O/14' style OCR digits ('O' for 0, 'l' for 1) and words ('fifteen')."""
    if value is None:
        return None
    word = P.NUMBER_WORDS.get(value.casefold())
    if word is not None:
        return word
    digits = value.replace(" ", "").translate(P.DIGIT_FIX)
    return int(digits) if digits.isdigit() else None


_DISTANT_LINE = re.compile(r"(?:distant\s+metasta\w*|sites?\s+of\s+(?:distant\s+)?metasta\w*|metastatic\s+sites?)\s*(?:\([^)]*\))?\s*[:：]\s*(?P<value>[^\n]{0,100})", re.IGNORECASE)
_ABSENT = re.compile(r"^\s*(?:not\s+identified|not\s+present|absent|none|negative|no\b|pM0|cM0|M0)", re.IGNORECASE)
_NOT_ASSESSED = re.compile(r"^\s*(?:not\s+applicable|cannot\s+(?:be\s+)?(?:assess|evaluat)\w*|not\s+(?:assess|evaluat)\w*|n/?a\b|unknown|p?MX)", re.IGNORECASE)
_PRESENT = re.compile(r"^\s*(?:present|identified|positive|yes|p?M1[a-c]?\b|metasta)", re.IGNORECASE)


def distant_metastasis(text: str, sections, found) -> tuple[bool | None, tuple[str, ...]]:
    """Return whether a synoptic 'Distant metastasis:' line states metastasis, and the sites it names."""
    from engine.extraction.metastases import SITE_WORDS

    match = _DISTANT_LINE.search(text)
    if match is None:
        return None, ()
    value = match.group("value")
    found.append(evidence("distant_metastasis", text, match.start(), match.end(), sections, _SOURCE))
    if _NOT_ASSESSED.match(value):
        return None, ()
    if _ABSENT.match(value):
        return False, ()
    words = re.findall(r"[a-z]+(?:\s+wall)?", value.casefold())
    sites = tuple(dict.fromkeys(SITE_WORDS[word] for word in words if word in SITE_WORDS and SITE_WORDS[word] != "distant"))
    if not sites and not _PRESENT.match(value):
        return None, ()
    return True, sites
