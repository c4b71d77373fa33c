"""Sentences of a report with the KG terms, sizes and ConText mentions found in each."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.extraction.lexicon import Lexicon, Reading
from engine.text.context import AnalysedText, Mention
from engine.text.sections import Section, section_at
from engine.text.sizes import SizeMention

OTHER_PLACE = "<other>"
"""Placeholder organ of a place that no KG covers (lung, kidney, adnexa)."""
SKIPPED_SECTIONS = frozenset({"history", "technique"})
_GENERIC_FORMS = re.compile(
    r"^(?:head|neck|body|tail|left lobe|right lobe|lobe|base|fundus|wall|segment|lumen|cervical|thoracic|abdominal|upper|middle|lower|"
    r"distal|proximal|fissures?|capsule|hilum|hilar region|uncinate|junction)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TermHit:
    """A KG surface form found in the text with every reading it has."""

    start: int
    end: int
    text: str
    readings: tuple[Reading, ...]


@dataclass
class Sentence:
    """One sentence: its range, section, KG terms, sizes and mentions."""

    start: int
    end: int
    section: str
    terms: list[TermHit] = field(default_factory=list)
    sizes: list[SizeMention] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)

    def organs(self, organs: set[str]) -> list[tuple[int, int, str]]:
        """Return ``(start, end, organ)`` of every place that names one of ``organs`` unambiguously."""
        found = []
        for hit in self.terms:
            placed = {organ_of(r, organs) for r in hit.readings} - {None}
            if len(placed) == 1 and not _GENERIC_FORMS.match(hit.text):
                found.append((hit.start, hit.end, placed.pop()))
        return found


    def other_places(self, organs: set[str]) -> list[tuple[int, int, str]]:
        """Return places the KGs know only as neighbouring structures outside every KG organ."""
        found = []
        for hit in self.terms:
            kinds = {(r.kind, r.id in organs) for r in hit.readings}
            if kinds and all(kind == "structure" and not is_organ for kind, is_organ in kinds):
                if any(r.attribute in ("organ", "airway", "bone") for r in hit.readings):
                    found.append((hit.start, hit.end, OTHER_PLACE))
        return found


def is_generic_form(text: str) -> bool:
    """Return True for a subregion word that names no organ by itself ('head', 'body', 'lower', 'segment')."""
    return bool(_GENERIC_FORMS.match(text))


def organ_of(reading: Reading, organs: set[str]) -> str | None:
    """Return the organ a reading places a finding in, or None when it names no organ or subregion."""
    if reading.kind in ("organ", "subregion", "lesion"):
        return reading.organ
    if reading.kind == "structure" and reading.id in organs:
        return reading.id
    return None


def organise(text: str, analysed: AnalysedText, lexicon: Lexicon, sizes: list[SizeMention], sections: list[Section]) -> list[Sentence]:
    """Group terms, sizes and mentions by sentence; sentences in history or technique sections are dropped."""
    sentences = [Sentence(s, e, section_at(sections, s)) for s, e in _split_lines(text, analysed.sentences, sections)]
    hits = [TermHit(s, e, text[s:e], tuple(r)) for s, e, r in lexicon.find(text)]
    _distribute(sentences, hits, lambda h: h.start, "terms")
    _distribute(sentences, sizes, lambda z: z.start, "sizes")
    _distribute(sentences, list(analysed.mentions), lambda m: m.start, "mentions")
    return [s for s in sentences if s.section not in SKIPPED_SECTIONS]


def _split_lines(text: str, sentences, sections: list[Section]) -> list[tuple[int, int]]:
    """Split sentences further at line breaks and section starts: a report line rarely continues a sentence."""
    cuts = sorted({s.start for s in sections} | {m.end() for m in re.finditer(r"\n", text)})
    pieces = []
    for start, end in sentences:
        inner = [c for c in cuts if start < c < end]
        bounds = [start] + inner + [end]
        pieces += [(a, b) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]
    return pieces


def _distribute(sentences: list[Sentence], items: list, position, attribute: str) -> None:
    index = 0
    for item in sorted(items, key=position):
        while index < len(sentences) and position(item) >= sentences[index].end:
            index += 1
        if index < len(sentences) and position(item) >= sentences[index].start:
            getattr(sentences[index], attribute).append(item)


def nearest(position: int, places: list[tuple[int, int, str]]) -> str | None:
    """Return the value of the place nearest to ``position``, preferring one after it on a tie."""
    if not places:
        return None
    return min(places, key=lambda p: (min(abs(p[0] - position), abs(p[1] - position)), p[0] < position))[2]
