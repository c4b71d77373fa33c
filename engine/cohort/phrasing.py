"""Small text helpers shared by the radiology and pathology report writers."""

from __future__ import annotations

import numpy as np

from engine.cohort.vocabulary import Phrase

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
_NOUN_ENDINGS = ("ment", "tion", "sion", "ity", "sis", "ence", "ance", "ening")


def choose(rng: np.random.Generator, options: list[str] | tuple[str, ...]) -> str:
    """Return one of ``options``, drawn with ``rng``."""
    return str(options[int(rng.integers(len(options)))])


def is_noun_phrase(form: str) -> bool:
    """Return True when a finding's surface form reads as a noun ('rim enhancement'), not an adjective ('hypodense')."""
    last = form.split()[-1].lower() if form.split() else ""
    return form.isupper() or last.endswith(_NOUN_ENDINGS)


def adjective_form(phrase: Phrase, rng: np.random.Generator) -> str | None:
    """Return an adjectival English form of a finding term, or None when the KG gives only nouns."""
    forms = [f for f in phrase.forms["en"] if not is_noun_phrase(f)]
    return choose(rng, forms) if forms else None


def noun_form(phrase: Phrase, rng: np.random.Generator) -> str | None:
    """Return a noun English form of a finding term, or None when the KG gives only adjectives."""
    forms = [f for f in phrase.forms["en"] if is_noun_phrase(f) and not f.isupper()]
    return choose(rng, forms) if forms else None


def region_form(phrase: Phrase, rng: np.random.Generator) -> str:
    """Return a subregion form that names its organ too ('pancreatic head', not a bare 'head')."""
    forms = [f for f in phrase.forms["en"] if len(f.split()) > 1 or any(ch.isdigit() for ch in f)]
    return choose(rng, forms or list(phrase.forms["en"]))


def size_text(long_mm: float, short_mm: float, rng: np.random.Generator) -> str:
    """Write a size in mm or cm, sometimes as long x short axis."""
    long_mm, short_mm = _round_half_up(long_mm), _round_half_up(short_mm)
    style = int(rng.integers(4))
    if style == 0:
        return f"{long_mm} mm"
    if style == 1:
        return f"{long_mm / 10:.1f} cm"
    if style == 2:
        return f"{long_mm / 10:.1f} x {short_mm / 10:.1f} cm"
    return f"{long_mm} x {short_mm} mm"


def _round_half_up(value_mm: float) -> int:
    # Whole millimetres, so the mm and cm forms of one size always agree.
    return int(np.floor(value_mm + 0.5))


def count_word(count: int) -> str:
    """Return 'two' for 2, and digits above nine."""
    return NUMBER_WORDS.get(count, str(count))
