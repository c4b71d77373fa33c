"""Find sizes in report text and convert them to millimetres.

Covers "43 mm", "3.0 x 4.0 cm", "2.4x3.4x2.7 cm", "11 cm in diameter", ranges
("2-3 cm", "2 to 3 cm": the upper bound is kept), "1.5 centimeters", Chinese
units ("3.2cm", "3.2厘米", "12毫米") and the OCR misreadings of "cm" seen in scanned
pathology reports ("em", "ern"). Only the writer's unit is applied: a size is never
rescaled to make it plausible; ``engine.extraction.validate`` flags impossible sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNIT_MM: dict[str, float] = {
    "mm": 1.0, "millimeter": 1.0, "millimeters": 1.0, "millimetre": 1.0, "millimetres": 1.0, "毫米": 1.0,
    "cm": 10.0, "centimeter": 10.0, "centimeters": 10.0, "centimetre": 10.0, "centimetres": 10.0, "厘米": 10.0, "公分": 10.0,
    "em": 10.0, "ern": 10.0, "crn": 10.0,
}
OCR_UNITS = frozenset({"em", "ern", "crn"})

_NUMBER = r"\d{1,3}(?:[.,]\d{1,2})?"
_UNIT = r"(?P<unit>millimet(?:er|re)s?|centimet(?:er|re)s?|mm|cm|ern|crn|em|毫米|厘米|公分)"
_AXIS_SEP = r"\s*[x×X\*]\.?\s*"
_RANGE_SEP = r"\s*(?:-|–|to|~)\s*"
_INNER_UNIT = r"(?:\s*(?:mm|cm))?"
_SIZE = re.compile(
    rf"(?<![A-Za-z0-9.])(?P<axes>{_NUMBER}{_INNER_UNIT}(?:{_AXIS_SEP}{_NUMBER}{_INNER_UNIT}){{0,2}})"
    rf"(?:{_RANGE_SEP}(?P<upper>{_NUMBER}))?\s*{_UNIT}(?![a-zA-Z])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SizeMention:
    """One stated size: its span, the axes in mm (largest first) and the unit the writer used."""

    start: int
    end: int
    text: str
    axes_mm: tuple[float, ...]
    unit: str
    is_range: bool = False

    @property
    def max_mm(self) -> float:
        return self.axes_mm[0]

    @property
    def ocr_unit(self) -> bool:
        return self.unit in OCR_UNITS


def find_sizes(text: str, start: int = 0, end: int | None = None) -> list[SizeMention]:
    """Return every size stated in ``text[start:end]``, with spans and texts in ``text`` coordinates.

    Scanned reports write "O.8" for 0.8 and "2l" for 21, so letters O, l and I that touch
    a digit or a decimal point are read as digits. The reading keeps every character in
    place, so the spans still index the original text.
    """
    end = len(text) if end is None else end
    digits = _OCR_DIGITS.sub(_fix_digits, text)
    found = []
    for match in _SIZE.finditer(digits, start, end):
        mention = _to_mention(match)
        if mention is not None:
            found.append(SizeMention(mention.start, mention.end, text[mention.start : mention.end], mention.axes_mm, mention.unit, mention.is_range))
    return found


_OCR_DIGITS = re.compile(r"(?<![A-Za-z])(?=[0-9OlI.,]*[0-9])(?=[0-9OlI.,]*[OlI])[0-9OlI][0-9OlI.,]*(?![A-Za-z])|(?<![A-Za-z0-9])[OlI](?=[.,]\d)")
_DIGIT_LETTERS = str.maketrans({"O": "0", "l": "1", "I": "1"})


def _fix_digits(match: re.Match[str]) -> str:
    return match.group(0).translate(_DIGIT_LETTERS)


def _to_mention(match: re.Match[str]) -> SizeMention | None:
    unit = match.group("unit").casefold()
    factor = UNIT_MM.get(unit)
    if factor is None:
        return None
    numbers = [_to_float(n) for n in re.findall(_NUMBER, match.group("axes"))]
    upper = match.group("upper")
    is_range = upper is not None
    if is_range:
        # "2-3 cm" is one axis stated as a range: keep the upper bound.
        numbers = numbers[:-1] + [max(numbers[-1], _to_float(upper))]
    axes = tuple(sorted((round(n * factor, 2) for n in numbers), reverse=True))
    if not axes or axes[0] <= 0:
        return None
    return SizeMention(match.start(), match.end(), match.group(0), axes, unit, is_range)


def _to_float(number: str) -> float:
    return float(number.replace(",", "."))
