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
    ("perineural invasion", "PNI"), ("perineural growth", "PNI"),
    ("tumor deposits", "DEPOSIT"), ("tumour deposits", "DEPOSIT"), ("non-lymph node pericolonic tumor", "DEPOSIT"),
    ("non- lymph node pericolonic tumor", "DEPOSIT"), ("pericolonic tumor", "DEPOSIT"),
)
_SOURCE = "pathology"
_NO_DISCRETE_NODULES = re.compile(r"\bno\s+discrete\s+(?:additional\s+)?nodules\b", re.IGNORECASE)


def context_mentions(text: str) -> tuple[Mention, ...]:
    """Return the margin, invasion and tumour deposit mentions of ``text`` with their ConText decisions."""
    return analyse(text, _TARGETS).mentions


def margin_status(text, mentions, sections, found) -> str | None:
    """Return 'positive' when a margin is stated involved (or R1/R2), 'negative' when ConText negates a margin mention."""
    positive = P.MARGIN_POSITIVE.search(text)
    if positive:
        found.append(evidence("margins", text, positive.start(), positive.end(), sections, _SOURCE))
        return "positive"
    for mention in mentions:
        if mention.label == "MARGIN" and mention.negated:
            found.append(evidence("margins", text, mention.start, mention.end, sections, _SOURCE))
            return "negative"
    return None


def invasion_flags(text, mentions, sections, found) -> dict[str, bool | None]:
    """Return lymphovascular and perineural invasion: True when stated present, False when only negated mentions exist."""
    result: dict[str, bool | None] = {}
    for label, field in (("LVI", "lymphovascular_invasion"), ("PNI", "perineural_invasion")):
        result[field] = _presence(text, mentions, label, field, sections, found)
    codes = {m.group("axis"): m.group("value") for m in P.LVI_CODE.finditer(text)}
    if "1" in codes.values():
        result["lymphovascular_invasion"] = True
    pni = P.PNI_CODE.search(text)
    if pni and result["perineural_invasion"] is None:
        result["perineural_invasion"] = pni.group("value") in ("1", "l")
    return result


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


def _present_before(text, mention) -> bool:
    before = text[max(0, mention.start - 30) : mention.start].casefold()
    return not mention.negated and ("extensive" in before or "detection of" in before)
