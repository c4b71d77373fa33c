"""Evidence spans: every extracted value keeps the exact text it came from."""

from __future__ import annotations

from data_contracts.common import EvidenceSpan, FieldEvidence
from engine.text.sections import Section, section_at


def span(text: str, start: int, end: int, sections: list[Section], source: str = "report") -> EvidenceSpan:
    """Return the evidence span ``text[start:end]`` with the section it lies in."""
    return EvidenceSpan(source=source, start=start, end=end, text=text[start:end], section=section_at(sections, start))


def evidence(field: str, text: str, start: int, end: int, sections: list[Section], source: str = "report") -> FieldEvidence:
    """Return the evidence of one field value."""
    return FieldEvidence(field=field, span=span(text, start, end, sections, source))
