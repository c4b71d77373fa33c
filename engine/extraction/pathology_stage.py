"""The stage a pathology report states, with its edition; kept apart from the computed AJCC 8 stage."""

from __future__ import annotations

import re

from data_contracts.pathology import StatedStage
from engine.extraction import pathology_patterns as P


def stated_stage(text: str) -> StatedStage | None:
    """Return the first stated pT (with the pN and pM written near it, or the first anywhere) and the edition."""
    t_match = P.T_STAGE.search(text)
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
    system = (match.group("system") or match.group("system2") or "AJCC").upper()
    number = match.group("ordinal") or match.group("ordinal2") or P.EDITION_YEARS.get(match.group("year") or "")
    return f"{system}{number}" if number else None


def _near(pattern: re.Pattern[str], text: str, anchor: re.Match[str] | None) -> re.Match[str] | None:
    if anchor is None:
        return None
    match = pattern.search(text, anchor.end(), anchor.end() + 40)
    return match


def _prefixed(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    return next((m for m in pattern.finditer(text) if m.group("prefix")), None)


def _category(axis: str, match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    raw = match.group("cat").replace(" ", "")
    if raw in ("X", "is"):
        return f"{axis}{raw}"
    return f"{axis}{raw[0].translate(P.DIGIT_FIX)}{raw[1:]}"
