"""Validation every extractor backend passes: KG vocabulary, exact evidence spans, plausible sizes.

The rules backend and the llm backend run through the same checks, so a model's
output is never stored unchecked. Problems become flags on the features; a
vocabulary value that is not a KG term is removed (set to None or dropped) so it
never reaches a chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data_contracts.common import FieldEvidence, Flag
from data_contracts.pathology import PathologyFeatures
from data_contracts.report import LesionFinding, ReportFeatures
from engine.extraction.plausibility import implausible_size_flag, is_plausible_size



def validate_report(features: ReportFeatures, text: str, kgs: Mapping[str, Any]) -> ReportFeatures:
    """Return ``features`` with non-KG values removed and a flag for every problem found."""
    flags = list(features.flags)
    lesions = []
    for lesion in features.lesions:
        lesion, lesion_flags = _check_lesion(lesion, features.case_id, kgs)
        flags += [flag for flag in lesion_flags if not _already_flagged(flag, lesion, flags)]
        lesions.append(lesion)
    flags += _span_flags(features, text)
    return features.model_copy(update={"lesions": tuple(lesions), "flags": _unique(flags)})


def validate_pathology(features: PathologyFeatures, text: str, kgs: Mapping[str, Any]) -> PathologyFeatures:
    """Return pathology features with a flag for every evidence span that does not match ``text``."""
    flags = list(features.flags)
    for item in features.evidence:
        flag = _span_flag(item, text, features.case_id, "pathology")
        if flag:
            flags.append(flag)
    if not is_plausible_size(features.organ, features.tumor_size_mm):
        stated = next((item.span.text for item in features.evidence if item.field == "tumor_size_mm"), None)
        flags.append(implausible_size_flag(features.case_id, "the pathology tumour size", features.organ, features.tumor_size_mm, stated,
                                           "tumor_size_mm"))
    if features.organ is not None and features.organ not in kgs:
        flags.append(Flag(code="kg_edge_missing", field="organ", message=f"case {features.case_id}: pathology organ '{features.organ}' has no KG"))
    return features.model_copy(update={"flags": _unique(flags)})


def _check_lesion(lesion: LesionFinding, case_id: str, kgs) -> tuple[LesionFinding, list[Flag]]:
    flags: list[Flag] = []
    kg = kgs.get(lesion.organ)
    if kg is None:
        flags.append(Flag(code="kg_edge_missing", field="organ",
                          message=f"case {case_id}: lesion {lesion.finding_id} names organ '{lesion.organ}', which has no KG; known: {', '.join(sorted(kgs))}"))
        return lesion, flags
    update: dict[str, Any] = {}
    update["subregions"] = tuple(_known(kg, "subregion", v, lesion, "subregions", case_id, flags) for v in lesion.subregions)
    update["subregions"] = tuple(v for v in update["subregions"] if v)
    if lesion.impression_id is not None and kg.resolve(lesion.impression_id, "impression") is None:
        flags.append(_vocabulary_flag(case_id, lesion, "impression_id", lesion.impression_id))
        update["impression_id"] = None
        update["impression_name"] = None
    for name in ("density", "shape", "boundary"):
        value = getattr(lesion, name)
        if value is not None:
            update[name] = _known(kg, "finding", value, lesion, name, case_id, flags)
    update["enhancement"] = tuple(v for v in (_known(kg, "finding", e, lesion, "enhancement", case_id, flags) for e in lesion.enhancement) if v)
    update["signs"] = tuple(v for v in (_known(kg, "finding", s, lesion, "signs", case_id, flags) for s in lesion.signs) if v)
    flags += lesion_size_flags([lesion], case_id)
    return lesion.model_copy(update=update), flags


def _known(kg, kind: str, value: str, lesion: LesionFinding, field: str, case_id: str, flags: list[Flag]) -> str | None:
    term = kg.resolve(value, kind)
    if term is None:
        flags.append(_vocabulary_flag(case_id, lesion, field, value))
        return None
    return term.id


def _vocabulary_flag(case_id: str, lesion: LesionFinding, field: str, value: str) -> Flag:
    return Flag(code="kg_edge_missing", field=f"lesions.{field}",
                message=f"case {case_id}: lesion {lesion.finding_id} {field} '{value}' is not a term of the {lesion.organ} KG; the value was dropped")


def lesion_size_flags(lesions, case_id: str) -> list[Flag]:
    """Return an ``implausible_size`` flag for every lesion whose stated size is impossible for its organ."""
    flags = []
    for lesion in lesions:
        if is_plausible_size(lesion.organ, lesion.max_diameter_mm):
            continue
        stated = next((item.span.text for item in lesion.evidence if item.field == "max_diameter_mm"), None)
        start = next((item.span.start for item in lesion.evidence if item.field == "max_diameter_mm"), None)
        flags.append(implausible_size_flag(case_id, f"lesion {lesion.finding_id}", lesion.organ, lesion.max_diameter_mm, stated,
                                           "lesions.max_diameter_mm", start))
    return flags


def _already_flagged(flag: Flag, lesion: LesionFinding, flags: list[Flag]) -> bool:
    """Return True for a lesion size flag that the rules backend already raised on the same stated size."""
    if flag.code != "implausible_size":
        return False
    size = next((item.span for item in lesion.evidence if item.field == "max_diameter_mm"), None)
    marker = f"('{size.text}' at character {size.start})" if size else None
    return marker is not None and any(f.code == "implausible_size" and marker in f.message for f in flags)


def _span_flags(features: ReportFeatures, text: str) -> list[Flag]:
    items: list[FieldEvidence] = []
    for group in (features.lesions, features.nodes, features.vessels, features.invasions, features.metastases):
        for finding in group:
            items.extend(finding.evidence)
    return [f for f in (_span_flag(item, text, features.case_id, "report") for item in items) if f]


def _span_flag(item: FieldEvidence, text: str, case_id: str, source: str) -> Flag | None:
    span = item.span
    if span.end <= len(text) and text[span.start : span.end] == span.text:
        return None
    return Flag(code="hallucinated_finding", field=item.field,
                message=f"case {case_id}: evidence for {item.field} ('{span.text[:40]}') does not match the {source} text at {span.start}-{span.end}")


def _unique(flags: list[Flag]) -> tuple[Flag, ...]:
    seen, unique = set(), []
    for flag in flags:
        key = (flag.code, flag.message)
        if key not in seen:
            seen.add(key)
            unique.append(flag)
    return tuple(unique)
