"""Lymph nodes: station, short axis, count and whether the report finds them suspicious."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from data_contracts.report import NodeFinding
from engine.extraction.evidence import evidence
from engine.extraction.mentions import Sentence
from engine.text.sections import Section

SUSPICIOUS_SHORT_AXIS_MM = 10.0
"""Short axis above which a node counts as suspicious on CT."""

_SUSPICIOUS = re.compile(r"\b(?:enlarged|enlargement|suspicious|metastatic|pathologic|bulky|necrotic|avid|adenopathy|lymphadenopathy)\b", re.IGNORECASE)
_STATION = re.compile(
    r"((?:[\w-]+(?:\s+hepatis|\s+hepatic)?,?\s+(?:and\s+|or\s+)?){1,6})(?=(?:lymph\s+)?(?:nodes?|adenopathy|lymphadenopathy)\b)", re.IGNORECASE
)
_STATION_WORD = re.compile(
    r"^(?:peri[\w-]+|para[\w-]+|aortocaval|portocaval|mesenteric|mediastinal|hilar|celiac|coeliac|retroperitoneal|pelvic|inguinal|"
    r"supraclavicular|paratracheal|subcarinal|mesorectal|pericolic|pericolonic|perigastric|regional|intra-abdominal|axillary|"
    r"retrocrural|left gastric|gastric|porta|hepatoduodenal|side-wall|iliac)$",
    re.IGNORECASE,
)
_COUNT_WORDS = {"one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def find_nodes(text: str, sentences: list[Sentence], kgs: Mapping[str, Any], sections: list[Section]) -> list[NodeFinding]:
    """Return one ``NodeFinding`` per node mention, ids rep-N1, rep-N2, ... in order."""
    nodes: list[NodeFinding] = []
    for sentence in sentences:
        node_mentions = [m for m in sentence.mentions if is_node_mention(m)]
        for mention in node_mentions:
            nodes.append(_node(text, sentence, mention, len(nodes) + 1, sections))
    return nodes


def is_node_mention(mention) -> bool:
    """Node words, and KG findings that name nodes ('enlarged regional lymph nodes')."""
    return mention.label == "NODE" or (mention.label == "FINDING" and bool(_NODE_WORD.search(mention.text)))


_NODE_WORD = re.compile(r"\b(?:nodes?|adenopathy|lymphadenopathy)\b", re.IGNORECASE)


def _node(text, sentence, mention, number, sections) -> NodeFinding:
    clause = text[sentence.start : sentence.end]
    size = _own_size(sentence, mention)
    short_axis = min(size.axes_mm) if size else None
    station = _station(text, sentence, mention)
    suspicious = bool(_SUSPICIOUS.search(clause)) or (short_axis is not None and short_axis > SUSPICIOUS_SHORT_AXIS_MM)
    found = [evidence("node", text, mention.start, mention.end, sections)]
    if size:
        found.append(evidence("short_axis_mm", text, size.start, size.end, sections))
    return NodeFinding(
        node_id=f"rep-N{number}",
        station=station,
        short_axis_mm=short_axis,
        count=_count(text, sentence, mention),
        suspicious=suspicious and not mention.negated,
        negated=mention.negated,
        evidence=tuple(found),
    )


def _own_size(sentence, mention):
    before = [z for z in sentence.sizes if z.end <= mention.start and mention.start - z.end < 40]
    after = [z for z in sentence.sizes if z.start >= mention.end and z.start - mention.end < 40]
    return (before[-1:] or after[:1] or [None])[0]


def _station(text, sentence, mention) -> str | None:
    window = text[max(sentence.start, mention.start - 90) : mention.end]
    match = _STATION.search(window)
    if not match:
        return None
    words = [w.strip(" ,") for w in re.split(r",|\band\b|\bor\b", match.group(1)) if w.strip(" ,")]
    stations = [_station_phrase(w) for w in words]
    stations = [w for w in stations if w]
    return ", ".join(stations) if stations else None


def _station_phrase(words: str) -> str | None:
    """Return the words from the first station word on ("left gastric", "porta hepatic"), without 'lymph'."""
    tokens = words.split()
    first = next((i for i, token in enumerate(tokens) if _STATION_WORD.match(token)), None)
    if first is None:
        return None
    if first > 0 and tokens[first - 1].casefold() in ("left", "right", "lower", "upper", "common", "external", "internal"):
        first -= 1
    return " ".join(t for t in tokens[first:] if t.casefold() != "lymph") or None


def _count(text, sentence, mention) -> int | None:
    before = text[max(sentence.start, mention.start - 40) : mention.start]
    match = re.search(r"\b(one|single|two|three|four|five|six|\d{1,2})\b(?![.,]|\s*(?:x|mm|cm))", before, re.IGNORECASE)
    if mention.negated:
        return 0
    if not match:
        return None
    word = match.group(1).casefold()
    return _COUNT_WORDS.get(word) or int(word)
