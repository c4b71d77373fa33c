"""Counts written before a lesion or node word: "two", "3", "multiple (at least 4)", "两个", "多发"."""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER_WORDS: dict[str, int] = {
    "one": 1, "single": 1, "solitary": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "一": 1, "单": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}
_MANY_WORDS = "multiple|several|numerous|few|many|innumerable|countless|scattered|multifocal|bilobar"
_COUNT = re.compile(
    rf"\b(?P<word>one|single|solitary|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|{_MANY_WORDS})\b"
    r"(?:\s*\((?:at\s+least|more\s+than|over|>|≥|n\s*=)?\s*(?P<bound>\d{1,2})\+?\))?\s+(?:[\w-]+\s+){0,4}$"
    r"|(?<![#\d.,/])\b(?P<digits>\d{1,2})\s+(?:[a-z-]+\s+){0,2}$"
    r"|(?:(?P<zh>[一二两三四五六七八九十]|\d{1,2})\s*[个枚处]|(?P<zh_word>单发|多发|多个|数个|多枚|多处|散在))[^，,。；]{0,10}$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"\b(?P<article>an?)\s+(?:[\w-]+\s+){0,4}$", re.IGNORECASE)
_NOT_COUNT_BEFORE = re.compile(r"(?:segments?|seg\.?|\bS|LR-?|RADS|grade|type|stage|level|category|bosniak|#|no\.?|\bT|\bN|\bM|\bG)\s*$", re.IGNORECASE)
"""Words before a digit that make it a label (segment 6, LI-RADS 5, grade 2), not a count."""
_SIZE_AFTER = re.compile(r"\s*(?:[.,]\d|\s*(?:x|×|mm|cm|millimet|centimet))", re.IGNORECASE)


@dataclass(frozen=True)
class Count:
    """A count word before a mention: the number (None for 'multiple'), whether it means more than one, and its span."""

    number: int | None
    many: bool
    start: int
    end: int


def count_before(text: str, start: int, position: int, *, articles: bool = False) -> Count | None:
    """Return the count written in ``text[start:position]`` just before a mention at ``position``.

    With ``articles``, "a" and "an" count as one ("An enlarged paraesophageal lymph node").
    """
    before = text[start:position]
    match = _COUNT.search(before)
    if match is None:
        article = _ARTICLE.search(before) if articles else None
        if article is None:
            return None
        return Count(1, False, start + article.start("article"), start + article.end("article"))
    name = next(group for group in ("word", "digits", "zh", "zh_word") if match.group(group))
    word = match.group(name).casefold()
    if name in ("digits", "zh") and word.isdigit() and (_NOT_COUNT_BEFORE.search(before[: match.start(name)]) or _SIZE_AFTER.match(before, match.end(name))):
        return None
    number = NUMBER_WORDS.get(word) or (int(word) if word.isdigit() else None)
    if word == "单发":
        number = 1
    if number is None and match.group("bound"):
        number = int(match.group("bound"))
    return Count(number, number is None or number > 1, start + match.start(name), start + match.end(name))
