"""Decide the language of a report: English, Chinese, or one the KGs have no synonyms for."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
_ENGLISH_WORDS = re.compile(r"\b(?:the|of|and|is|in|with|no|are|there|to|a|at|for|or|by|on|from|this|was|not)\b", re.IGNORECASE)


def detect_language(text: str) -> str:
    """Return 'en', 'zh', or the script's name ('cyrillic', 'other') when no KG language fits."""
    letters = _LETTER.findall(text)
    if not letters:
        return "other"
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk >= 0.2 * len(letters):
        return "zh"
    if latin < 0.6 * len(letters):
        return "cyrillic" if re.search(r"[\u0400-\u04ff]", text) else "other"
    words = max(1, len(re.findall(r"[A-Za-z]+", text)))
    # Scanned English reports are noisy, so a low share of common words is enough.
    return "en" if len(_ENGLISH_WORDS.findall(text)) >= max(1, 0.05 * words) or words < 8 else "other"
