"""Decide the language of a report (English, Chinese, or one the KGs have no synonyms for) and check its length."""

from __future__ import annotations

import re

from data_contracts.common import Flag

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
_ENGLISH_WORDS = re.compile(
    r"\b(?:the|of|and|is|in|with|no|are|there|to|a|at|for|or|by|on|from|this|was|not|mass|lesion|tumou?r|nodes?|margins?|"
    r"carcinoma|adenocarcinoma|invasion|present|negative|positive|identified|measur\w+|size|grade|stage|liver|pancrea\w+|gastric|stomach|"
    r"colon|rectum|rectal|o?esophag\w+|specimen|differentiated|lymph)\b",
    re.IGNORECASE,
)
_OTHER_WORDS = re.compile(
    r"\b(?:der|die|das|und|mit|ist|nicht|eine|einer|von|im|zu|le|la|les|des|et|est|une|dans|du|avec|el|los|las|y|es|una|con|del|por|"
    r"il|di|che|della|per|os|da|do|em|não|het|een|en|van|met|och|är|av|på)\b",
    re.IGNORECASE,
)
"""Function words of German, French, Spanish, Italian, Portuguese, Dutch and Swedish, which the KGs have no synonyms for."""
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_DIACRITICS = re.compile(r"[àâäçéèêëîïôöùûüÿñßãõåæø]", re.IGNORECASE)


def detect_language(text: str) -> str:
    """Return 'en', 'zh', or the script's name ('cyrillic', 'other') when no KG language fits.

    Latin-script text is English unless it shows another language: more function
    words of another language than English words, or many accented letters. Terse
    synoptic lines ("PATHOLOGIC STAGE: pT2 pNX") have few English function words, so
    their absence alone does not reject a text.
    """
    letters = _LETTER.findall(text)
    if not letters:
        return "other"
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk >= 0.2 * len(letters):
        return "zh"
    if latin < 0.6 * len(letters):
        return "cyrillic" if re.search(r"[\u0400-\u04ff]", text) else "other"
    english = len(_ENGLISH_WORDS.findall(text))
    other = len(_OTHER_WORDS.findall(text))
    accented = len(_DIACRITICS.findall(text))
    if other >= 2 and other > english:
        return "other"
    if accented > max(3, 0.02 * len(letters)) and other > 0 and english < 2 * other:
        return "other"
    return "en"


MAX_TEXT_CHARS = 200_000
"""Maximum report length the rules backend reads, in characters: about 50 times a long real report, under spaCy's 1,000,000 limit."""


def text_problem(text: str, case_id: str, file: str | None = None) -> Flag | None:
    """Return the flag that stops extraction of ``text`` (empty, too long, unsupported language), or None when it can be read."""
    if not text or not text.strip():
        return Flag(code="report_empty", file=file, message=f"case {case_id}: the report has no text")
    if len(text) > MAX_TEXT_CHARS:
        return Flag(code="report_too_large", file=file, message=(f"case {case_id}: the report has {len(text)} characters, more than the "
                                                                  f"{MAX_TEXT_CHARS} the rules backend reads; split it or check the input"))
    controls = len(_CONTROL.findall(text))
    if controls > max(8, len(text) // 100):
        return Flag(code="report_binary", file=file, message=f"case {case_id}: the report text contains {controls} control characters, so it is binary, not text; check the file")
    language = detect_language(text)
    if language not in ("en", "zh"):
        return Flag(code="unsupported_language", file=file,
                    message=f"case {case_id}: the report language ({language}) has no KG synonyms; nothing was extracted")
    return None
