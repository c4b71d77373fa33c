"""Tumour relations to named vessels and direct invasion of neighbouring structures.

A relation cue ("encases", "encasement of", "abuts", "<180 degrees contact", "tumour
thrombus", "invading", 包绕, 侵犯, 癌栓) governs the KG structure nearest to it in
its sentence. A vessel becomes a ``VesselFinding``, any other neighbouring
structure an ``InvasionFinding`` when the cue is an invasion cue. Structure names
are matched longest first ("common hepatic artery" before "hepatic artery") and
resolved in the lesion's organ KG first, because the same form can name different
terms in two organ KGs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from data_contracts.common import FieldEvidence
from data_contracts.report import InvasionFinding, VesselFinding
from engine.extraction.evidence import evidence
from engine.extraction.lexicon import Reading
from engine.extraction.mentions import Sentence, TermHit, is_generic_form, nearest
from engine.text.sections import Section

RELATION_REACH = 100
"""Characters between a relation cue and the structure it governs."""
DEGREE_REACH = 40
"""Characters after a vessel in which a stated contact angle ("<180 degrees") still describes it."""

# Each cue is (pattern, relation). A vessel narrowed by tumour counts as encased, because
# contour deformity is the CT sign of encasement.
RELATION_CUES: tuple[tuple[str, str], ...] = (
    (r"tumou?r(?:al)?\s+thromb\w*|tumou?r\s+in\s+(?:the\s+)?veins?|(?:enhancing|malignant|neoplastic)\s+thromb\w*|PVTT|LR-TIV|癌栓", "tumor_thrombus"),
    (r"thromb(?:us|osis|osed)", "thrombus"),
    (r"encas\w*|circumferential(?:ly)?\s+(?:involv\w*|contact)|包绕|包埋", "encasement"),
    (r"narrow(?:ing|ed|s)\b", "encasement"),
    (r"abut\w*|紧贴|贴邻", "abutment"),
    (r"(?:obliterat\w*|effac\w*|loss)\s+of\s+(?:the\s+)?(?:intervening\s+)?fat\s+planes?", "invasion"),
    (r"occlu\w*|obliterat\w*|闭塞", "occlusion"),
    (r"invad\w*|invasion|infiltrat\w*|involv\w*|(?:extend|extension|spread|grow)\w*\s+(?:in)?to|loss\s+of\s+(?:the\s+)?(?:intervening\s+)?fat\s+planes?|侵犯|侵及|受侵|累及|浸润|分界不清|脂肪间隙消失",
     "invasion"),
    (r"(?:in\s+)?contact\w*|compress\w*", "contact"),
)
_CUE = re.compile("(?<![A-Za-z])(?:" + "|".join(f"(?P<c{i}>{pattern})" for i, (pattern, _) in enumerate(RELATION_CUES)) + ")", re.IGNORECASE)
_DEGREES = re.compile(
    r"(?P<op><|>|≤|≥|less\s+than|more\s+than|greater\s+than|over|under|above|below|up\s+to)?\s*(?P<deg>\d{2,3})[\s-]*(?:°|º|degrees?\b|deg\b|度)",
    re.IGNORECASE,
)
_LESS = ("<", "≤", "less than", "under", "below", "up to")
_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|without|nor|neither|free\s+of|absence\s+of|negative\s+for|rather\s+than)(?:\s+[\w-]+){0,3}\s*$|(?:未见|未|无|没有)[^，,。；;]{0,8}$",
    re.IGNORECASE,
)
_NEGATION_BETWEEN = re.compile(r"\b(?:not|no|without|sparing|spares|spared|but\s+not)\b|未|无", re.IGNORECASE)
_UNCERTAIN = re.compile(
    r"\b(?:possibl[ey]|may|might|questionable|cannot\s+be\s+excluded|not\s+excluded|equivocal|indeterminate)\b|可能|不除外|待排", re.IGNORECASE
)
_PROBABLE = re.compile(r"\b(?:probabl[ey]|likely|suspicious\s+for|suspected|suggest\w*|concerning\s+for|worrisome)\b|考虑|倾向|提示", re.IGNORECASE)


@dataclass(frozen=True)
class Cue:
    """A relation cue in the text with its relation, negation and certainty."""

    start: int
    end: int
    relation: str
    negated: bool
    certainty: str


def find_relations(
    text: str, sentences: list[Sentence], kgs: Mapping[str, Any], sections: list[Section], lesion_organs: list[tuple[int, str]] = ()
) -> tuple[list[VesselFinding], list[InvasionFinding]]:
    """Return vessel relations (rep-V1, ...) and invasions (rep-I1, ...) in order of appearance.

    ``lesion_organs`` contains ``(position, organ)`` of the current lesions. A sentence
    that names no organ ("It encases the SMA.") takes the organ of the last lesion before it.
    """
    vessels: list[VesselFinding] = []
    invasions: list[InvasionFinding] = []
    for sentence in sentences:
        cues = _cues(text, sentence)
        if not cues:
            continue
        organ = _primary_organ(sentence) or _previous_organ(sentence.start, lesion_organs)
        objects = [hit for hit in sentence.terms if _structure(hit, organ, kgs) is not None]
        for hit in objects:
            reading = _structure(hit, organ, kgs)
            cue = _cue_for(cues, hit, objects)
            if cue is None:
                continue
            negated = cue.negated or _negated_between(text, cue, hit)
            found = (evidence("relation", text, cue.start, cue.end, sections), evidence("structure", text, hit.start, hit.end, sections))
            if _group(kgs, reading) == "vessel":
                relation, certainty, found = _vessel_relation(text, sentence, hit, cue, sections, found)
                _add_vessel(vessels, reading.id, relation, organ, negated, certainty, found)
            elif cue.relation == "invasion" and _group(kgs, reading) != "lymph_nodes":
                _add_invasion(invasions, reading.id, organ, negated, cue.certainty, found)
    return vessels, invasions


def _cues(text: str, sentence: Sentence) -> list[Cue]:
    cues = []
    for match in _CUE.finditer(text, sentence.start, sentence.end):
        relation = RELATION_CUES[int(match.lastgroup[1:])][1]
        mentions = [m for m in sentence.mentions if m.start < match.end() and match.start() < m.end]
        negated = any(m.negated for m in mentions) or bool(_NEGATION_BEFORE.search(text[sentence.start : match.start()][-60:]))
        certainty = _certainty(text, sentence, match, mentions)
        if relation == "thrombus":
            # A thrombus the report does not call tumour may be bland, so it is only a possible tumour thrombus.
            relation, certainty = "tumor_thrombus", "possible"
        cues.append(Cue(match.start(), match.end(), relation, negated, certainty))
    return cues


def _certainty(text: str, sentence: Sentence, match: re.Match[str], mentions) -> str:
    stated = [m.certainty for m in mentions if m.certainty != "definite"]
    if stated:
        return stated[0]
    window = text[max(sentence.start, match.start() - 50) : min(sentence.end, match.end() + 30)]
    # An uncertainty word governs its own clause: "考虑肝细胞癌，伴门静脉右支癌栓" states the thrombus.
    cue_at = match.start() - max(sentence.start, match.start() - 50)
    window = re.split(r"[,，;；:]", window[:cue_at])[-1] + re.split(r"[,，;；:]", window[cue_at:])[0]
    if _UNCERTAIN.search(window):
        return "possible"
    if _PROBABLE.search(window):
        return "probable"
    return "definite"


def _cue_for(cues: list[Cue], hit: TermHit, objects: list[TermHit]) -> Cue | None:
    """Return the cue that governs a structure: the nearest one within ``RELATION_REACH``, a cue before it winning a near tie.

    A cue after the structure counts only when no structure follows it ("the SMA is
    encased"), because "in the right portal vein, extending to the main portal vein"
    governs the main portal vein. Among the cues before it, a tumour thrombus cue beats
    a generic invasion cue ("tumour in vein involving the right portal vein").
    """
    best, best_gap = None, RELATION_REACH + 1
    for cue in cues:
        if cue.end <= hit.start:
            gap = hit.start - cue.end
        elif cue.start >= hit.end and not any(cue.end <= other.start <= cue.end + RELATION_REACH // 2 for other in objects):
            gap = cue.start - hit.end + 3
        else:
            continue
        if gap < best_gap:
            best, best_gap = cue, gap
    if best is not None and best.relation == "invasion":
        thrombus = [c for c in cues if c.relation == "tumor_thrombus" and c.end <= hit.start and hit.start - c.end <= RELATION_REACH]
        if thrombus and thrombus[-1].negated == best.negated:
            return thrombus[-1]
    return best


def _negated_between(text: str, cue: Cue, hit: TermHit) -> bool:
    """Return True for 'thrombus in the right portal vein but not into the main portal vein' at the second vein."""
    if cue.end <= hit.start:
        return bool(_NEGATION_BETWEEN.search(text, cue.end, hit.start))
    return False


def _vessel_relation(text, sentence, hit, cue, sections, found) -> tuple[str, str, tuple[FieldEvidence, ...]]:
    """Apply a stated contact angle: up to 180 degrees is abutment, more than 180 degrees is encasement."""
    relation = cue.relation
    if relation not in ("contact", "abutment", "encasement"):
        return relation, cue.certainty, found
    degrees = _DEGREES.search(text, hit.end, min(sentence.end, hit.end + DEGREE_REACH))
    if degrees is None and cue.end <= hit.start:
        # "<180 degrees contact with the SMV": the angle is written just before the cue.
        degrees = _DEGREES.search(text, max(sentence.start, cue.start - DEGREE_REACH // 2), cue.start + 1)
        if degrees is not None and text[degrees.end() : cue.start].strip(" -") not in ("", "of"):
            degrees = None
    if degrees is None or int(degrees.group("deg")) > 360:
        return relation, cue.certainty, found
    angle = int(degrees.group("deg"))
    operator = " ".join((degrees.group("op") or "").casefold().split())
    if angle > 180 or (angle == 180 and operator and operator not in _LESS):
        relation = "encasement"
    else:
        relation = "abutment"
    return relation, cue.certainty, found + (evidence("contact_angle", text, degrees.start(), degrees.end(), sections),)


def _structure(hit: TermHit, organ: str | None, kgs: Mapping[str, Any]) -> Reading | None:
    """Resolve a term to a structure id: in the lesion's organ KG first, then by exact name, then in any KG.

    A term that names another KG organ or its subregion ("the pancreatic head" next to a
    gastric tumour) resolves to that organ's structure in the lesion's organ KG.
    """
    structures = [r for r in hit.readings if r.kind == "structure" and r.id != organ]
    if organ is not None and any(r.organ == organ and r.kind in ("organ", "subregion") for r in hit.readings):
        return None
    if is_generic_form(hit.text):
        return None
    own = [r for r in structures if r.organ == organ]
    if own:
        return own[0]
    if organ in kgs:
        named = {r.organ for r in hit.readings if r.kind in ("organ", "subregion")} | {r.id for r in structures}
        for other in sorted(named - {organ}):
            if _group(kgs, Reading(organ, "structure", other)) is not None:
                return Reading(organ, "structure", other)
    exact = [r for r in structures if _normal(r.id) == _normal(hit.text)]
    return (exact or structures or [None])[0]


def _normal(text: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", text.casefold()))


def _add_vessel(vessels: list[VesselFinding], vessel: str, relation: str, organ, negated: bool, certainty: str, found) -> None:
    for index, known in enumerate(vessels):
        if (known.vessel, known.relation, known.negated) == (vessel, relation, negated):
            if _rank(certainty) < _rank(known.certainty):
                vessels[index] = known.model_copy(update={"certainty": certainty, "evidence": known.evidence + found})
            return
    vessels.append(VesselFinding(vessel_id=f"rep-V{len(vessels) + 1}", vessel=vessel, relation=relation, organ=organ,
                                 negated=negated, certainty=certainty, evidence=found))


def _add_invasion(invasions: list[InvasionFinding], structure: str, organ, negated: bool, certainty: str, found) -> None:
    for index, known in enumerate(invasions):
        if (known.structure, known.negated) == (structure, negated):
            if _rank(certainty) < _rank(known.certainty):
                invasions[index] = known.model_copy(update={"certainty": certainty, "evidence": known.evidence + found})
            return
    invasions.append(InvasionFinding(invasion_id=f"rep-I{len(invasions) + 1}", structure=structure, organ=organ,
                                     negated=negated, certainty=certainty, evidence=found))


def _rank(certainty: str) -> int:
    return {"definite": 0, "probable": 1, "possible": 2}[certainty]


def _primary_organ(sentence: Sentence) -> str | None:
    places = [(h.start, h.end, r.organ) for h in sentence.terms for r in h.readings if r.kind in ("organ", "lesion", "subregion", "impression")]
    return nearest(sentence.start, places)


def _previous_organ(position: int, lesion_organs) -> str | None:
    before = [organ for start, organ in lesion_organs if start < position]
    return before[-1] if before else None


def _group(kgs, reading: Reading) -> str | None:
    kg = kgs.get(reading.organ)
    if kg is None:
        return None
    for spec in kg.doc.structures:
        if spec.id == reading.id:
            return spec.group
    return None
