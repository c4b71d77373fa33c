"""Rules backend for pathology reports, synoptic or narrative, scanned (OCR) or typed.

Reads histology, grade, tumour size, depth of invasion, invaded structures, nodes
positive/examined, margins, lymphovascular and perineural invasion, tumour deposits,
distant metastasis and the stated stage with its edition. The stated stage is kept
apart: TumorCoT stages by the KG's AJCC 8 rules (``engine.staging_facts``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from data_contracts.common import FieldEvidence
from data_contracts.pathology import PathologyFeatures
from engine.extraction import pathology_patterns as P
from engine.extraction.evidence import evidence
from engine.extraction.language import text_problem
from engine.extraction.lexicon import build_lexicon
from engine.extraction.pathology_nodes import distant_metastasis, node_counts
from engine.extraction.pathology_context import context_mentions, invasion_flags, margin_status, tumor_deposits
from engine.extraction.pathology_stage import stated_stage
from engine.text.sections import Section, split_sections
from engine.text.sizes import find_sizes

_FIELD_SOURCE = "pathology"


def extract_pathology(text: str, case_id: str, kgs: Mapping[str, Any], organ_hint: str | None = None, *, encoding: str = "utf-8") -> PathologyFeatures:
    """Extract the pathology facts of one report (rules backend); an unreadable text gives empty features with a flag."""
    problem = text_problem(text, case_id)
    if problem is not None:
        return PathologyFeatures(case_id=case_id, encoding=encoding, flags=(problem,))
    sections = split_sections(text)
    lexicon = build_lexicon(kgs)
    found: list[FieldEvidence] = []
    hits = lexicon.find(text)
    organ = organ_hint if organ_hint in kgs else _organ(text, hits, set(kgs))
    values: dict[str, Any] = {"organ": organ}
    if organ is not None:
        values.update(_histology(text, kgs[organ], hits, organ, sections, found))
        values.update(_depth(text, kgs[organ], hits, organ, sections, found))
    values["grade"] = _grade(text, sections, found)
    values["tumor_count"] = _tumor_count(text, sections, found)
    values["tumor_size_mm"] = _tumor_size(text, sections, found)
    values.update(node_counts(text, sections, found))
    mentions = context_mentions(text)
    values["margins"] = margin_status(text, mentions, sections, found)
    values.update(invasion_flags(text, mentions, sections, found))
    values["tumor_deposits"] = tumor_deposits(text, mentions, sections, found)
    stage = stated_stage(text)
    values["stated_stage"] = stage
    stated_m, sites = distant_metastasis(text, sections, found)
    values["metastasis_sites"] = sites
    values["distant_metastasis"] = stated_m if stated_m is not None else _distant_metastasis(stage)
    return PathologyFeatures(case_id=case_id, evidence=tuple(found), encoding=encoding, **values)


PROCEDURE_ORGANS: tuple[tuple[str, str], ...] = (
    (r"o?esophag\w*ectomy|o?esophagectomy|ivor[\s-]+lewis", "esophagus"),
    (r"gastrectomy", "stomach"),
    (r"pancreat\w*ectomy|pancreaticoduodenectomy|whipple", "pancreas"),
    (r"hepatectomy|segmentectomy|liver\s+resection|hepatic\s+resection", "liver"),
    (r"colectomy|hemicolectomy|sigmoidectomy|proctectomy|proctocolectomy|anterior\s+resection|abdominoperineal", "colon"),
)
"""Resection names and the organ they remove; the specimen is the strongest sign of the primary organ."""
_PROCEDURE = re.compile("|".join(f"(?P<p{i}>{pattern})" for i, (pattern, _) in enumerate(PROCEDURE_ORGANS)), re.IGNORECASE)
_METASTATIC_IDS = frozenset({"metastasis", "metastatic_carcinoma"})
_SITE_LINE = re.compile(r"^\s*[-*]?\s*(?:tumou?r\s+site|specimen|procedure|histologic(?:al)?\s+type)\s*[:：]", re.IGNORECASE | re.MULTILINE)


def _organ(text: str, hits, organs) -> str | None:
    """Return the primary organ of a pathology report by weighted votes.

    A resection name counts 3, a term on a site, specimen or histologic type line 2, any
    other organ, subregion, lesion, impression or histology term 1. Metastasis terms do
    not vote ("Distant metastasis: present (liver)" names no primary), and a tie goes to
    the organ named first.
    """
    votes: dict[str, float] = {}
    first: dict[str, int] = {}
    for match in _PROCEDURE.finditer(text):
        organ = PROCEDURE_ORGANS[int(match.lastgroup[1:])][1]
        if organ in organs:
            votes[organ] = votes.get(organ, 0) + 3
            first.setdefault(organ, match.start())
    site_lines = [(m.start(), text.find("\n", m.end()) if text.find("\n", m.end()) >= 0 else len(text)) for m in _SITE_LINE.finditer(text)]
    for start, _, readings in hits:
        weight = 2 if any(a <= start < b for a, b in site_lines) else 1
        kinds = ("organ", "subregion", "lesion", "impression", "endpoint")
        for organ in {r.organ for r in readings if r.kind in kinds and r.id not in _METASTATIC_IDS}:
            votes[organ] = votes.get(organ, 0) + weight
            first.setdefault(organ, start)
    if not votes:
        return None
    return max(votes, key=lambda organ: (votes[organ], -first[organ]))


def _histology(text, kg, hits, organ, sections, found) -> dict[str, Any]:
    best = None
    for start, end, readings in hits:
        for reading in readings:
            if reading.organ == organ and reading.kind in ("endpoint", "impression") and reading.id not in ("benign", "premalignant", "malignant"):
                candidate = (_histology_rank(text, start), -(end - start), start, end, reading)
                best = min(best, candidate, key=lambda c: c[:3]) if best else candidate
    if best is None:
        best = _ocr_histology(text, kg, organ)
    if best is None:
        return {}
    _, _, start, end, reading = best
    endpoint = reading.id if reading.kind == "endpoint" else kg.impressions[reading.id].histology
    behaviour = next((e.behaviour for e in kg.doc.endpoints if e.id == endpoint), None)
    found.append(evidence("histology", text, start, end, sections, _FIELD_SOURCE))
    return {"histology": endpoint, "histology_text": text[start:end], "malignant": None if behaviour is None else behaviour == "malignant"}


def _histology_rank(text: str, start: int) -> int:
    """Prefer a histology stated on a 'Histologic type' line or in the diagnosis over the gross text."""
    line_start = text.rfind("\n", 0, start) + 1
    if re.match(r"\s*histologic\w*\s+type", text[line_start:start], re.IGNORECASE):
        return 0
    return 1


def _ocr_histology(text, kg, organ):
    """Find a histology form in text whose spaces and hyphens were scrambled by OCR; the span covers the scrambled form."""
    letters = [(i, c.casefold()) for i, c in enumerate(text) if c.isalnum()]
    squeezed = "".join(c for _, c in letters)
    for spec in kg.doc.endpoints:
        for form in [spec.name] + [f for forms in spec.synonyms.values() for f in forms]:
            key = re.sub(r"[^0-9a-z]", "", form.casefold())
            position = squeezed.find(key) if len(key) >= 8 else -1
            if position >= 0:
                from engine.extraction.lexicon import Reading

                start, end = letters[position][0], letters[position + len(key) - 1][0] + 1
                return (2, 0, start, end, Reading(organ, "endpoint", spec.id))
    return None


def _depth(text, kg, hits, organ, sections, found) -> dict[str, Any]:
    layers = [t.id for t in kg.layers]
    deepest = None
    structures: list[str] = []
    for verb in _INVASION_VERB.finditer(text):
        clause_start = _clause_start(text, verb.start())
        clause_end = min(_clause_end(text, verb.end()), verb.end() + INVASION_REACH)
        if _DENIED_BEFORE.search(text[clause_start : verb.start()][-30:]):
            continue  # "does not invade", "no extension into"
        # "into the subserosa without penetration of the serosa": layers after a denial are not invaded.
        denial = _INVASION_DENIED.search(text, verb.end(), clause_end)
        scan_end = denial.start() if denial else clause_end
        for start, end, readings in (hit for hit in hits if verb.start() <= hit[0] and hit[1] <= scan_end):
            for reading in readings:
                if reading.organ != organ:
                    continue
                if reading.kind == "layer" and reading.id in layers and (deepest is None or layers.index(reading.id) > layers.index(deepest[0])):
                    deepest = (reading.id, start, end)
                if re.match(r"\s+margin", text[end : end + 8]):
                    continue  # "the diaphragm margin" names a resection margin, not an invaded structure
                if reading.kind == "structure" and reading.id not in structures and _group(kg, reading.id) != "lymph_nodes":
                    structures.append(reading.id)
                    found.append(evidence("invaded_structures", text, start, end, sections, _FIELD_SOURCE))
    result: dict[str, Any] = {"invaded_structures": tuple(structures)}
    if deepest:
        result["depth"] = deepest[0]
        found.append(evidence("depth", text, deepest[1], deepest[2], sections, _FIELD_SOURCE))
    return result


INVASION_REACH = 90
"""Characters after an invasion verb in which the invaded layer or structure is named."""
_INVASION_VERB = re.compile(r"\b(?:invad\w*|invasion|extend\w*|extension|through|into|penetrat\w*|infiltrat\w*)\b|浸润|侵犯|侵及|累及|穿透|突破", re.IGNORECASE)
_DENIED_BEFORE = re.compile(r"(?:\b(?:not|no|without|nor)\b(?:\s+\w+){0,2}\s*|未见|未|无)$", re.IGNORECASE)


def _clause_end(text: str, position: int) -> int:
    found = re.compile(r"[.;]\s|[.;]$|\n\s*\n|[。；]").search(text, position)
    return found.start() if found else len(text)


def _clause_start(text: str, position: int) -> int:
    return max(text.rfind(mark, 0, position) for mark in (". ", ";", "\n\n", "。", "；")) + 1


_INVASION_DENIED = re.compile(r"\b(?:uninvolved|not|no|without|confined|free of|but)\b|未见|未|无", re.IGNORECASE)


def _group(kg, structure_id: str) -> str | None:
    return next((s.group for s in kg.doc.structures if s.id == structure_id), None)


def _grade(text, sections, found) -> str | None:
    """Return the grade as G1-G4: a stated grade code wins over the differentiation words."""
    match = P.GRADE_CODE.search(text)
    if match:
        raw = (match.group("num") or match.group("g")).upper().translate(str.maketrans({"L": "1"}))
        value = {"I": "1", "II": "2", "III": "3", "IV": "4"}.get(raw, raw)
        found.append(evidence("grade", text, match.start(), match.end(), sections, _FIELD_SOURCE))
        return f"G{value}"
    lowered = text.casefold()
    for phrase, grade in P.GRADE_WORDS:
        position = lowered.find(phrase)
        if position >= 0:
            found.append(evidence("grade", text, position, position + len(phrase), sections, _FIELD_SOURCE))
            return grade
    return None


def _tumor_count(text, sections, found) -> int | None:
    """Return the tumour count: 1 for solitary or unifocal, N for 'multifocal, N tumors'.

    The synoptic focality line decides; without one, a sentence that names the tumour
    and calls it solitary ("Intrahepatic cholangiocarcinoma, 7.5 cm, solitary") does.
    """
    label = re.search(r"tumou?r\s+focality\s*:", text, re.IGNORECASE)
    if label:
        # OCR of a two-column table may put the value lines below the label ("Tumor focality:" ... "Solitary").
        line_end = text.find("\n", label.end())
        value = _FOCALITY.search(text, label.end(), line_end if line_end >= 0 else len(text)) or _FOCALITY.search(text, label.end(), label.end() + 300)
    else:
        value = next((m for m in _FOCALITY.finditer(text) if _names_tumor_nearby(text, m)), None)
    if not value:
        return None
    found.append(evidence("tumor_count", text, value.start(), value.end(), sections, _FIELD_SOURCE))
    if value.group("count"):
        number = value.group("count").casefold()
        return int(number) if number.isdigit() else P.NUMBER_WORDS.get(number)
    return 1


def _names_tumor_nearby(text: str, match: re.Match[str]) -> bool:
    start = _clause_start(text, match.start())
    end = _clause_end(text, match.end())
    return bool(P.TUMOR_WORD.search(text, start, end)) and not re.search(r"lymph\s+nodes?|foci\s+of", text[start:end], re.IGNORECASE)


_FOCALITY = re.compile(
    r"\b(?P<count>\d{1,2}|two|three|four|five|six)\s+(?:separate\s+)?(?:tumou?rs|foci|nodules|lesions)\b|\b(?:solitary|unifocal|single)\b",
    re.IGNORECASE,
)


def _tumor_size(text: str, sections: list[Section], found) -> float | None:
    sizes = [s for s in find_sizes(text) if s.unit not in ("mm",) or s.max_mm >= 5]
    chosen = None
    for label in P.TUMOR_SIZE_LABEL.finditer(text):
        chosen = next((s for s in sizes if 0 <= s.start - label.end() < 300), None)
        if chosen is not None:
            break
    if chosen is None:
        chosen = next((s for s in sizes if _names_tumor(text, s)), None)
    if chosen is None:
        return None
    found.append(evidence("tumor_size_mm", text, chosen.start, chosen.end, sections, _FIELD_SOURCE))
    return chosen.max_mm


def _names_tumor(text: str, size) -> bool:
    after = text[size.end : size.end + 60].removeprefix(".")
    if re.match(r"\s*[.;。；]\s", text[size.end : size.end + 3]):
        after = ""  # the sentence ends with the size, so what follows describes something else
    before = text[max(0, size.start - 60) : size.start]
    if re.search(r"\b(?:thickness|circumference|distance|wall|margin)\b[^.]{0,25}$", before, re.IGNORECASE):
        return False
    if P.NOT_TUMOR_AFTER.search(after):
        return False
    if re.search(r"\b(?:lymph\s+nodes?|margin|from|within|spleen|omentum|appendix|segment)\b[^.]{0,25}$", before, re.IGNORECASE):
        return False
    first_after = P.TUMOR_WORD.search(after)
    if first_after and not re.search(r"[.;]", after[: first_after.start()]):
        return True
    if re.search(r"\b(?:tumou?r|mass|\w*carcinoma|\w*sarcoma)\b[^.;]{0,40}\b(?:measur\w*|is|of|diameter)\b[^.;]{0,20}$", before, re.IGNORECASE):
        return True
    # An appositive after the diagnosis: "Hepatocellular carcinoma, moderately differentiated (grade II), 4.2 cm, ..."
    wide = text[max(0, size.start - 120) : size.start]
    return bool(re.search(r"\b(?:\w*carcinoma|\w*sarcoma|tumou?r|neoplasm)\b[^.;:]{0,100},\s*$", wide, re.IGNORECASE))


def _distant_metastasis(stage) -> bool | None:
    if stage is None or stage.M is None:
        return None
    if stage.M.startswith("M1"):
        return True
    return False if stage.M == "M0" else None
