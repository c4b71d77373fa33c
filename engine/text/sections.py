"""Split a report into sections and build the standardized findings / impression / conclusion report.

A heading is a line that starts with a known section name followed by a colon
("FINDINGS:", "Impression:", "CONCLUSION:", "DIAGNOSIS:", "Report:"), or a known
name alone on its line ("Final Diagnosis", "Microscopic Description"). Text before
the first heading, and text under headings that are not clinical history or
technique, counts as findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from data_contracts.report import StandardizedReport

SECTION_NAMES: dict[str, str] = {
    "findings": "findings", "finding": "findings", "report": "findings", "imaging findings": "findings",
    "ct abdomen": "findings", "ct pelvis": "findings", "ct liver": "findings", "microscopy": "findings",
    "microscopic description": "findings", "microscopic examination": "findings", "gross description": "findings",
    "gross examination": "findings", "macroscopy": "findings", "description": "findings",
    "impression": "impression", "impressions": "impression", "opinion": "impression", "interpretation": "impression",
    "conclusion": "conclusion", "conclusions": "conclusion", "diagnosis": "conclusion", "final diagnosis": "conclusion",
    "diagnoses": "conclusion", "summary": "conclusion", "short report on diagnostic findings": "conclusion",
    "key pathological findings": "conclusion",
    "clinical history": "history", "history": "history", "clinical notes": "history", "reason for exam": "history",
    "indication": "history", "presentation": "history", "clinical information": "history", "comparison": "history",
    "technique": "technique", "exam": "technique", "patient data": "history",
    # Chinese radiology headings
    "检查所见": "findings", "影像所见": "findings", "所见": "findings", "表现": "findings",
    "诊断意见": "impression", "印象": "impression", "影像诊断": "impression", "诊断": "conclusion", "结论": "conclusion",
}

_NAMES = "|".join(sorted((re.escape(n) for n in SECTION_NAMES), key=len, reverse=True))
_HEADING = re.compile(rf"^[ \t]*(?P<name>{_NAMES})[ \t]*(?:[:：](?P<colon>)|(?=[ \t]*$))", re.IGNORECASE | re.MULTILINE)
_ONE_LINE = frozenset({"history", "technique"})
_NUMBERED_ITEM = re.compile(r"(?:^|(?<=\s))(\d{1,2})[.)]\s*(?=\S)")


@dataclass(frozen=True)
class Section:
    """One section of a report: its standard name and the character range of its body."""

    name: str
    heading: str
    start: int
    end: int


def split_sections(text: str) -> list[Section]:
    """Return the sections of ``text`` in order; text before the first heading is 'findings'."""
    sections: list[Section] = []
    matches = list(_HEADING.finditer(text))
    first_start = matches[0].start() if matches else len(text)
    if text[:first_start].strip():
        sections.append(Section("findings", "", 0, first_start))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        name = SECTION_NAMES[match.group("name").casefold()]
        line_end = text.find("\n", match.end())
        if name in _ONE_LINE and line_end != -1 and text[match.end() : line_end].strip() and line_end < end:
            # "Clinical history: ..." with text on its own line is a one-line field, not a section heading.
            sections.append(Section(name, match.group("name"), match.end(), line_end))
            sections.append(Section("findings", "", line_end, end))
            continue
        sections.append(Section(name, match.group("name"), match.end(), end))
    return sections


def section_at(sections: list[Section], position: int) -> str:
    """Return the standard section name that contains character ``position``."""
    for section in sections:
        if section.start <= position < section.end:
            return section.name
    return "other"


def numbered_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a numbered impression ("1. ... 2. ...") into item ranges; one range when unnumbered."""
    body = text[start:end]
    marks = [m for m in _NUMBERED_ITEM.finditer(body) if _is_item_number(body, m)]
    if len(marks) < 2:
        return [(start, end)]
    ranges = [(start + m.start(), start + (marks[i + 1].start() if i + 1 < len(marks) else len(body))) for i, m in enumerate(marks)]
    return ranges


def _is_item_number(body: str, match: re.Match[str]) -> bool:
    before = body[: match.start()].rstrip(" \t")
    return not before or before.endswith(("\n", ".", ":"))


def standardize(text: str, sections: list[Section]) -> StandardizedReport:
    """Build the standardized report; with no impression or conclusion heading those stay empty."""
    parts: dict[str, list[str]] = {"findings": [], "impression": [], "conclusion": []}
    for section in sections:
        if section.name in parts:
            body = _squeeze(text[section.start : section.end])
            if body:
                parts[section.name].append(body)
    return StandardizedReport(
        findings="\n".join(parts["findings"]), impression="\n".join(parts["impression"]), conclusion="\n".join(parts["conclusion"])
    )


def _squeeze(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)
