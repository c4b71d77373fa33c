"""Lymph nodes: station, short axis, count and whether the report finds them suspicious.

A node is suspicious when the report calls it so ("enlarged", "necrotic", "nodal
metastases") or its short axis is over 10 mm, unless the words are negated ("not
enlarged", "none enlarged") or the report calls the node benign ("likely reactive",
"subcentimetre", "of indeterminate significance", "not suspicious").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from data_contracts.report import NodeFinding
from engine.extraction.counts import count_before
from engine.extraction.evidence import evidence
from engine.extraction.mentions import Sentence
from engine.text.sections import Section
from engine.text.sizes import SizeMention

SUSPICIOUS_SHORT_AXIS_MM = 10.0
"""Short axis above which a node counts as suspicious on CT."""
SIZE_REACH_BEFORE = 40
SIZE_REACH_AFTER = 70
"""Characters before and after a node word in which its size is written."""
STATION_REACH = 80
"""Characters around a node word in which its station is named."""

_SUSPICIOUS = re.compile(
    r"\b(?:enlarged|enlargement|suspicious|metasta\w*|pathologic(?:al(?:ly)?)?|bulky|necrotic|avid|adenopathy|lymphadenopathy|malignant|"
    r"round(?:ed)?\s+with\s+loss|irregular\s+(?:border|margin)s?|heterogeneous\s+signal|conglomerate|matted|involved)\b|肿大|转移|可疑",
    re.IGNORECASE,
)
_NEGATED_BEFORE = re.compile(r"(?:\b(?:not|non|no|none|without|nor)\b(?:[\s-]+[\w-]+){0,2}[\s-]+|\bnon-|未见|无|未)$", re.IGNORECASE)
_BENIGN = re.compile(
    r"\b(?:reactive|indeterminate|sub-?cent[ir]met(?:re|er)|normal[\s-]+(?:sized?|in\s+size)|non[\s-]?enlarged|not\s+(?:pathologically\s+)?"
    r"enlarged|not\s+suspicious|none\s+(?:are\s+)?enlarged|within\s+normal\s+limits|borderline|smooth\s+borders?|benign|"
    r"small\s+(?:[\w-]+\s+){0,3}(?:lymph\s+)?nodes?)\b|反应性|小淋巴结",
    re.IGNORECASE,
)
_SHORT_AXIS = re.compile(r"short[\s-]*axis|短径", re.IGNORECASE)
_STATIONS = (
    r"peri[\s-]?pancreatic|porto[\s-]?caval|aorto[\s-]?caval|para[\s-]?aortic|peri[\s-]?aortic|retro[\s-]?peritoneal|superior\s+mesenteric|"
    r"mesenteric|co?eliac(?:\s+(?:axis|trunk))?|porta\s+hepati[sc]|periportal|portal|hepatoduodenal|hepatic\s+hilar|splenic\s+hilar|hilar|"
    r"peri[\s-]?gastric|lesser\s+curvature|greater\s+curvature|left\s+gastric|gastrohepatic|gastric\s+ligament|para[\s-]?o?esophageal|"
    r"peri[\s-]?o?esophageal|mediastinal|subcarinal|paratracheal|supraclavicular|peri[\s-]?colic|peri[\s-]?colonic|mesorectal|perirectal|"
    r"presacral|ileocolic|(?:common\s+|external\s+|internal\s+)?iliac|obturator|pelvic\s+side[\s-]?wall|side[\s-]?wall|inguinal|retrocrural|"
    r"axillary|pelvic|regional|intra-?abdominal|"
    r"胰周|胃周|腹膜后|肝门|纵隔|食管旁|肠系膜|腹腔干|主动脉旁|锁骨上|贲门旁|小弯侧|大弯侧|直肠系膜|髂血管旁|盆腔"
)
_STATION = re.compile(rf"(?<![A-Za-z])(?:{_STATIONS})(?![A-Za-z])", re.IGNORECASE)
_NODE_WORD = re.compile(r"\b(?:nodes?|nodal|adenopathy|lymphadenopathy)\b|淋巴结", re.IGNORECASE)
_LESION_LABELS = frozenset({"LESION", "IMPRESSION", "ENDPOINT", "METASTASIS"})


def find_nodes(text: str, sentences: list[Sentence], kgs: Mapping[str, Any], sections: list[Section]) -> list[NodeFinding]:
    """Return one ``NodeFinding`` per node mention, ids rep-N1, rep-N2, ... in order."""
    nodes: list[NodeFinding] = []
    for sentence in sentences:
        for mention in (m for m in sentence.mentions if is_node_mention(m)):
            nodes.append(_node(text, sentence, mention, len(nodes) + 1, sections))
    return nodes


def is_node_mention(mention) -> bool:
    """Node words, and KG findings that name nodes ('enlarged regional lymph nodes')."""
    return mention.label == "NODE" or (mention.label == "FINDING" and bool(_NODE_WORD.search(mention.text)))


def _node(text: str, sentence: Sentence, mention, number: int, sections: list[Section]) -> NodeFinding:
    sizes = _own_sizes(text, sentence, mention)
    short_axis = max((min(size.axes_mm) for size in sizes), default=None)
    count = None if mention.negated else count_before(text, max(sentence.start, mention.start - 60), mention.start, articles=True)
    number = 0 if mention.negated else None
    if count is not None:
        number = count.number
    found = [evidence("node", text, mention.start, mention.end, sections)]
    found += [evidence("short_axis_mm", text, size.start, size.end, sections) for size in sizes]
    if count is not None:
        found.append(evidence("count", text, count.start, count.end, sections))
    return NodeFinding(
        node_id=f"rep-N{number}",
        station=_station(text, sentence, mention),
        short_axis_mm=short_axis,
        count=number,
        suspicious=not mention.negated and _suspicious(text, sentence, mention, short_axis),
        negated=mention.negated,
        evidence=tuple(found),
    )


def _suspicious(text: str, sentence: Sentence, mention, short_axis: float | None) -> bool:
    """Return True when the sentence calls the node suspicious or its short axis exceeds the limit, and nothing calls it benign."""
    if _BENIGN.search(text, sentence.start, sentence.end):
        return False
    others = [m for m in sentence.mentions if m is not mention and not is_node_mention(m)]
    for word in _SUSPICIOUS.finditer(text, sentence.start, sentence.end):
        if any(m.start <= word.start() < m.end for m in others):
            continue  # "liver metastases and a 6 mm node": the word describes another finding
        if not _NEGATED_BEFORE.search(text[max(sentence.start, word.start() - 30) : word.start()]):
            return True
    return short_axis is not None and short_axis > SUSPICIOUS_SHORT_AXIS_MM


def _own_sizes(text: str, sentence: Sentence, mention) -> list[SizeMention]:
    """Return the sizes written for the node: right before it ("a 7 mm peripancreatic node") or near it and nearer than any lesion word.

    Sizes stated as short axis win over other sizes of the node.
    """
    anchors = [m for m in sentence.mentions if m.label in _LESION_LABELS]
    near = []
    for size in sentence.sizes:
        gap = mention.start - size.end if size.end <= mention.start else size.start - mention.end
        reach = SIZE_REACH_BEFORE if size.end <= mention.start else SIZE_REACH_AFTER
        if gap < 0 or gap > reach:
            continue
        modifies = size.end <= mention.start and re.fullmatch(r"[\s-]*(?:[\w-]+\s+){0,3}(?:lymph\s+)?", text[size.end : mention.start])
        if not modifies and any(_distance(size, anchor) < gap for anchor in anchors):
            continue
        near.append(size)
    short = [size for size in near if _SHORT_AXIS.search(text, max(sentence.start, size.start - 30), min(sentence.end, size.end + 20))]
    return short or near[:1]


def _distance(size: SizeMention, mention) -> int:
    if size.end <= mention.start:
        return mention.start - size.end
    if mention.end <= size.start:
        return size.start - mention.end
    return 0


def _station(text: str, sentence: Sentence, mention) -> str | None:
    """Return the station words written before the node word ("peripancreatic, portocaval"), else the nearest one after it."""
    start = max(sentence.start, mention.start - STATION_REACH)
    before = [m for m in _STATION.finditer(text, start, mention.end) if not re.search(r"[.;:]", text[m.end() : mention.start])]
    inside = [m for m in before if m.start() >= mention.start]
    if before and not inside:
        return ", ".join(dict.fromkeys(_canonical(m.group(0)) for m in _adjacent(text, before, mention.start)))
    if inside:
        return _canonical(inside[0].group(0))
    after = next(_STATION.finditer(text, mention.end, min(sentence.end, mention.end + STATION_REACH)), None)
    return _canonical(after.group(0)) if after else None


def _adjacent(text: str, stations: list[re.Match[str]], node_start: int) -> list[re.Match[str]]:
    """Keep the run of station words that reaches the node word: 'peripancreatic, periaortic and portocaval lymph nodes'."""
    run: list[re.Match[str]] = []
    end = node_start
    for station in reversed(stations):
        if not _LIST_GLUE.fullmatch(text[station.end() : end]):
            break
        run.insert(0, station)
        end = station.start()
    return run or stations[-1:]


_LIST_GLUE = re.compile(
    r"(?:[\s,/&、及和]|\b(?:and|or|enlarged|prominent|multiple|several|numerous|few|small|suspicious|necrotic|bulky|rounded|lymph|"
    r"one|two|three|four|five|six|\d+|left|right|upper|lower|and/or)\b|多发|肿大|多个)*",
    re.IGNORECASE,
)
"""Text allowed between the station words of one list and the node word."""


def _canonical(station: str) -> str:
    return " ".join(station.casefold().split())
