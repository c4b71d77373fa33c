"""Tumour relations to named vessels and direct invasion of neighbouring structures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data_contracts.report import InvasionFinding, VesselFinding
from engine.extraction.evidence import evidence
from engine.extraction.lexicon import RELATION_WORDS
from engine.extraction.mentions import Sentence, nearest
from engine.text.sections import Section


RELATION_REACH = 100
"""Characters between a relation word and the structure it governs."""


def find_relations(
    text: str, sentences: list[Sentence], kgs: Mapping[str, Any], sections: list[Section]
) -> tuple[list[VesselFinding], list[InvasionFinding]]:
    """Return vessel relations (rep-V1, ...) and invasions (rep-I1, ...) in order of appearance."""
    vessels: list[VesselFinding] = []
    invasions: list[InvasionFinding] = []
    for sentence in sentences:
        cues = [m for m in sentence.mentions if m.label == "RELATION"]
        if not cues:
            continue
        primary = _primary_organ(sentence, kgs)
        for hit in sentence.terms:
            structure = next((r for r in hit.readings if r.kind == "structure"), None)
            if structure is None or (primary and structure.id == primary):
                continue
            cue = _cue_for(cues, hit.start)
            if cue is None:
                continue
            relation = RELATION_WORDS.get(cue.text.casefold(), "invasion")
            found = (evidence("relation", text, cue.start, cue.end, sections), evidence("structure", text, hit.start, hit.end, sections))
            group = _group(kgs, structure)
            if group == "vessel":
                if any(v.vessel == structure.id for v in vessels if v.evidence[0].span.start == cue.start):
                    continue
                vessels.append(VesselFinding(vessel_id=f"rep-V{len(vessels) + 1}", vessel=structure.id, relation=relation, organ=primary,
                                             negated=cue.negated, certainty=cue.certainty, evidence=found))
            elif relation == "invasion" and not any(i.structure == structure.id for i in invasions):
                invasions.append(InvasionFinding(invasion_id=f"rep-I{len(invasions) + 1}", structure=structure.id, organ=primary,
                                                 negated=cue.negated, certainty=cue.certainty, evidence=found))
    return vessels, invasions


def _cue_for(cues, position: int):
    """Return the relation cue that governs a structure named at ``position``: the nearest one before it, else after."""
    before = [c for c in cues if c.end <= position and position - c.end <= RELATION_REACH]
    if before:
        return before[-1]
    after = [c for c in cues if c.start >= position and c.start - position <= RELATION_REACH]
    return after[0] if after else None


def _primary_organ(sentence: Sentence, kgs) -> str | None:
    places = [(h.start, h.end, r.organ) for h in sentence.terms for r in h.readings if r.kind in ("organ", "lesion", "subregion")]
    return nearest(sentence.start, places)


def _group(kgs, reading) -> str | None:
    for spec in kgs[reading.organ].doc.structures:
        if spec.id == reading.id:
            return spec.group
    return None
