"""Margins, lymphovascular and perineural invasion and tumour deposits, with ConText deciding negation."""

from __future__ import annotations

import re

from engine.extraction import pathology_patterns as P
from engine.extraction.evidence import evidence
from engine.text.context import Mention, analyse

_TARGETS = (
    ("margin", "MARGIN"), ("margins", "MARGIN"), ("resection margin", "MARGIN"), ("resection margins", "MARGIN"),
    ("lymphovascular invasion", "LVI"), ("vascular invasion", "LVI"), ("lymphatic invasion", "LVI"),
    ("lymphatic space invasion", "LVI"), ("microvascular invasion", "LVI"), ("vessel invasion", "LVI"),
    ("venous invasion", "LVI"), ("angiolymphatic invasion", "LVI"),
    ("lymph-vascular invasion", "LVI"), ("lymphovascular space invasion", "LVI"),
    ("perineural invasion", "PNI"), ("perineural growth", "PNI"), ("perineural infiltration", "PNI"),
    ("tumor deposits", "DEPOSIT"), ("tumour deposits", "DEPOSIT"), ("non-lymph node pericolonic tumor", "DEPOSIT"),
    ("non- lymph node pericolonic tumor", "DEPOSIT"), ("pericolonic tumor", "DEPOSIT"),
)
_SOURCE = "pathology"
_NO_DISCRETE_NODULES = re.compile(r"\bno\s+discrete\s+(?:additional\s+)?nodules\b", re.IGNORECASE)


def context_mentions(text: str) -> tuple[Mention, ...]:
    """Return the margin, invasion and tumour deposit mentions of ``text`` with their ConText decisions."""
    return analyse(text, _TARGETS).mentions


def margin_status(text, mentions, sections, found) -> str | None:
    """Return 'positive' when a margin is stated involved (R1/R2, 切缘阳性), else 'negative' when stated free or ConText negates one.

    A positive statement wins, because "uncinate margin involved; all other margins
    negative" is a positive resection.
    """
    for pattern, status in ((P.MARGIN_POSITIVE, "positive"), (P.MARGIN_NEGATIVE, "negative")):
        for match in pattern.finditer(text):
            if status == "positive" and _NOT_BEFORE.search(text[max(0, match.start() - 12) : match.start() + 1]):
                continue
            found.append(evidence("margins", text, match.start(), match.end(), sections, _SOURCE))
            return status
    for mention in mentions:
        if mention.label == "MARGIN" and mention.negated:
            found.append(evidence("margins", text, mention.start, mention.end, sections, _SOURCE))
            return "negative"
    return None


_NOT_BEFORE = re.compile(r"\b(?:not|no|free\s+of)\s*$", re.IGNORECASE)


def invasion_flags(text, mentions, sections, found) -> dict[str, bool | None]:
    """Return lymphovascular and perineural invasion: True when stated present, False when stated absent, None when unstated.

    A synoptic line ("LVI: present; PNI: not identified") decides first, then Chinese
    statements (脉管内见癌栓, 神经侵犯（-）), then ConText over the narrative, then the
    L/V/Pn codes of a TNM line.
    """
    result: dict[str, bool | None] = {}
    for label, field in (("LVI", "lymphovascular_invasion"), ("PNI", "perineural_invasion")):
        value = _synoptic(text, label, field, sections, found)
        if value is None:
            value = _chinese_presence(text, label, field, sections, found)
        if value is None:
            value = _presence(text, mentions, label, field, sections, found)
        result[field] = value
    codes = {m.group("axis"): m.group("value") for m in P.LVI_CODE.finditer(text)}
    if "1" in codes.values():
        result["lymphovascular_invasion"] = True
    pni = P.PNI_CODE.search(text)
    if pni and result["perineural_invasion"] is None:
        result["perineural_invasion"] = pni.group("value") in ("1", "l")
    return result


def _synoptic(text, label, field, sections, found) -> bool | None:
    values = [m for m in P.SYNOPTIC_INVASION.finditer(text) if _invasion_label(m.group("label")) == label]
    if label == "LVI":
        values += list(P.MICROSCOPIC_VASCULAR.finditer(text))
    if not values:
        return None
    present = [m for m in values if not P.ABSENT_VALUE.match(m.group("value"))]
    chosen = present[0] if present else values[0]
    found.append(evidence(field, text, chosen.start(), chosen.end(), sections, _SOURCE))
    return bool(present)


def _invasion_label(label: str) -> str:
    return "PNI" if re.match(r"p", label, re.IGNORECASE) else "LVI"


def _chinese_presence(text, label, field, sections, found) -> bool | None:
    pattern = P.LVI_ZH if label == "LVI" else P.PNI_ZH
    match = pattern.search(text)
    if match is None:
        return None
    found.append(evidence(field, text, match.start(), match.end(), sections, _SOURCE))
    before = text[max(0, match.start() - 3) : match.start()]
    return not (match.group("minus") or "未" in match.group(0) or "无" in before or "未" in before)


def tumor_deposits(text, mentions, sections, found) -> bool | None:
    """Return whether tumour deposits (discrete non-nodal pericolonic tumour nodules) are stated present.

    "Present in the soft tissue ... No discrete additional nodules" describes direct
    extension, not deposits, so a denial of discrete nodules after the mention wins.
    """
    present = _presence(text, mentions, "DEPOSIT", "tumor_deposits", sections, found)
    if present:
        mention = next(m for m in mentions if m.label == "DEPOSIT")
        if _NO_DISCRETE_NODULES.search(text, mention.end, mention.end + 250):
            return False
    return present


def _presence(text, mentions, label, field, sections, found) -> bool | None:
    mentions = [m for m in mentions if m.label == label]
    for mention in mentions:
        if not mention.negated and P.PRESENT_WORDS.search(text[mention.end : mention.end + 30]) or _present_before(text, mention):
            found.append(evidence(field, text, mention.start, mention.end, sections, _SOURCE))
            return True
    negated = next((m for m in mentions if m.negated), None)
    if negated is not None:
        found.append(evidence(field, text, negated.start, negated.end, sections, _SOURCE))
        return False
    return None


_PRESENT_BEFORE = re.compile(
    r"(?:\bwith|\bshows?|\bshowing|\bdemonstrat\w*|\bdisplay\w*|\bexhibit\w*|\bfocal(?:ly)?|\bextensive|\bdetection\s+of|\bevidence\s+of"
    r"|\bfeatures?\s+of|\bpresence\s+of)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)


def _present_before(text, mention) -> bool:
    """Return True for 'with perineural invasion' or 'extensive perineural invasion': the mention states the finding present."""
    return not mention.negated and bool(_PRESENT_BEFORE.search(text[max(0, mention.start - 40) : mention.start]))
