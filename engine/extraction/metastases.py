"""Distant metastases by site, and their explicit absence."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from data_contracts.report import MetastasisFinding
from engine.extraction.evidence import evidence
from engine.extraction.mentions import Sentence, nearest
from engine.text.sections import Section

SITE_WORDS: dict[str, str] = {
    "liver": "liver", "hepatic": "liver", "lung": "lung", "lungs": "lung", "pulmonary": "lung", "bone": "bone", "bones": "bone",
    "osseous": "bone", "skeletal": "bone", "peritoneal": "peritoneum", "peritoneum": "peritoneum", "omental": "omentum",
    "omentum": "omentum", "adrenal": "adrenal_gland", "brain": "brain", "abdominal wall": "abdominal_wall", "distant": "distant",
}
_METASTASIS_WORD = re.compile(r"\bmetasta|\bmets\b", re.IGNORECASE)
_SITE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, SITE_WORDS), key=len, reverse=True)) + r")\b", re.IGNORECASE)


def find_metastases(text: str, sentences: list[Sentence], kgs: Mapping[str, Any], sections: list[Section]) -> list[MetastasisFinding]:
    """Return metastasis mentions with a site (rep-M1, ...), one per site and polarity."""
    found: list[MetastasisFinding] = []
    for sentence in sentences:
        candidates = [m for m in sentence.mentions if m.label != "NODE" and _METASTASIS_WORD.search(m.text)]
        for mention in (m for m in candidates if not m.hypothetical and not m.historical):
            sites = [(s.start(), s.end(), SITE_WORDS[s.group(1).casefold()]) for s in _SITE.finditer(text, sentence.start, sentence.end)]
            site = nearest(mention.start, sites)
            if site is None and mention.negated:
                site = "distant"  # "No evidence of metastatic disease" denies distant spread as a whole
            if site is None or any(f.site == site and f.negated == mention.negated for f in found):
                continue
            found.append(
                MetastasisFinding(
                    metastasis_id=f"rep-M{len(found) + 1}", site=site, negated=mention.negated, certainty=mention.certainty,
                    evidence=(evidence("metastasis", text, mention.start, mention.end, sections),),
                )
            )
    return found
