"""The stage a pathology report states, with its edition; kept apart from the computed AJCC 8 stage."""

from __future__ import annotations

import re

from data_contracts.pathology import StatedStage
from engine.extraction import pathology_patterns as P


def stated_stage(text: str) -> StatedStage | None:
    """Return the stated pT with the pN and pM written near it, and the edition.

    A T written with its N ("TNM8: pT1b pN1") wins over a T alone earlier in the text
    ("invading the submucosa (pT1b)"). Without one, the first T is taken with the first
    prefixed N and M anywhere.
    """
    t_matches = list(P.T_STAGE.finditer(text))
    t_match = next((m for m in t_matches if _near(P.N_STAGE, text, m)), t_matches[0] if t_matches else None)
    n_match = _near(P.N_STAGE, text, t_match) or _prefixed(P.N_STAGE, text)
    m_match = _near(P.M_STAGE, text, t_match) or _prefixed(P.M_STAGE, text)
    if not (t_match or n_match or m_match):
        return None
    spans = [m for m in (t_match, n_match, m_match) if m]
    start, end = min(m.start() for m in spans), max(m.end() for m in spans)
    return StatedStage(
        T=_category("T", t_match), N=_category("N", n_match), M=_category("M", m_match),
        edition=edition(text), text=" ".join(text[start:end].split())[:120],
    )


def edition(text: str) -> str | None:
    """Return the staging edition the report names, for example 'AJCC7' or 'UICC6'; None when unstated."""
    match = P.EDITION.search(text)
    if not match:
        return None
    system = (match.group("system") or match.group("system2") or match.group("system3") or match.group("system4") or "AJCC").upper()
    # "TNM8" names the UICC TNM classification, 8th edition.
    system = "UICC" if system == "TNM" else system
    number = match.group("ordinal") or match.group("ordinal2") or match.group("ordinal3") or match.group("ordinal4")
    number = number or P.EDITION_YEARS.get(match.group("year") or "")
    return f"{system}{number}" if number else None


def _near(pattern: re.Pattern[str], text: str, anchor: re.Match[str] | None) -> re.Match[str] | None:
    if anchor is None:
        return None
    # The N and M of one statement stand on its line, before a sentence ends.
    window_end = anchor.end() + 40
    boundary = re.compile(r"\n|\.\s").search(text, anchor.end(), window_end)
    return pattern.search(text, anchor.end(), boundary.start() if boundary else window_end)


def _prefixed(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    return next((m for m in pattern.finditer(text) if m.group("prefix")), None)


def _category(axis: str, match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    raw = match.group("cat").replace(" ", "")
    if raw in ("X", "is"):
        return f"{axis}{raw}"
    return f"{axis}{raw[0].translate(P.DIGIT_FIX)}{raw[1:]}"
