"""Staging facts for ``OrganKG.stage`` from extracted report and pathology features.

Pure and deterministic, so the calibrator can reuse them. Pathology facts win over
report (CT) facts, because a measured specimen beats an imaging estimate. A stage that
the pathology report states is never copied. It is compared with the AJCC 8 stage that
the KG rules compute, and a disagreement under another edition is flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data_contracts.common import Flag
from data_contracts.pathology import PathologyFeatures
from data_contracts.report import LesionFinding, ReportFeatures
from data_contracts.staging import StageResult
from engine.extraction.plausibility import is_plausible_size

INVOLVING_RELATIONS = frozenset({"encasement", "invasion", "occlusion", "tumor_thrombus"})
"""Vessel relations that count as involvement for T4 rules; contact and abutment do not."""


def facts_for_organ(organ: str, report: ReportFeatures | None, pathology: PathologyFeatures | None, kg: Any) -> dict[str, Any]:
    """Return the plain facts of ``organ`` for ``kg.stage``; pathology values replace report values."""
    return collect_facts(organ, report, pathology, kg)[0]


def fact_sources(organ: str, report: ReportFeatures | None, pathology: PathologyFeatures | None, kg: Any) -> dict[str, str]:
    """Return where each fact of ``facts_for_organ`` came from: 'pathology' or 'report'."""
    return collect_facts(organ, report, pathology, kg)[1]


def collect_facts(organ: str, report: ReportFeatures | None, pathology: PathologyFeatures | None, kg: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Return ``(facts, sources)`` for one organ."""
    facts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if report is not None:
        for key, value in _report_facts(organ, report, kg).items():
            facts[key], sources[key] = value, "report"
    if pathology is not None and pathology.organ == organ:
        for key, value in _pathology_facts(pathology).items():
            facts[key], sources[key] = value, "pathology"
    return facts, sources


def stage_case(report: ReportFeatures | None, pathology: PathologyFeatures | None, kgs: Mapping[str, Any]) -> dict[str, StageResult]:
    """Stage every organ with a current primary lesion in the report or a pathology specimen."""
    organs = []
    if report is not None:
        organs += [lesion.organ for lesion in report.lesions if _is_primary(lesion, kgs.get(lesion.organ))]
    if pathology is not None and pathology.organ:
        organs.append(pathology.organ)
    results = {}
    for organ in dict.fromkeys(organs):
        if organ in kgs:
            results[organ] = kgs[organ].stage(facts_for_organ(organ, report, pathology, kgs[organ]))
    return results


def stage_flags(case_id: str, pathology: PathologyFeatures | None, stages: Mapping[str, StageResult]) -> list[Flag]:
    """Flag a stated stage of another edition that disagrees with the computed AJCC 8 stage."""
    if pathology is None or pathology.stated_stage is None or pathology.organ not in stages:
        return []
    stated, computed = pathology.stated_stage, stages[pathology.organ]
    differences = [
        f"{axis} stated {getattr(stated, axis)}, computed {getattr(computed, axis)}"
        for axis in ("T", "N", "M")
        if _disagree(getattr(stated, axis), getattr(computed, axis))
    ]
    if not differences or stated.edition == "AJCC8":
        return []
    edition = stated.edition or "an unstated edition"
    return [Flag(code="stage_edition_mismatch", field="stated_stage",
                 message=f"case {case_id}: the pathology report states '{stated.text}' ({edition}); the AJCC 8 rules give "
                         f"{computed.T} {computed.N} {computed.M}: {'; '.join(differences)}. The computed stage is used.")]


def _disagree(stated: str | None, computed: str) -> bool:
    """True when both categories are decided and the computed one is not a refinement of the stated one (T4 vs T4b)."""
    if not stated or stated.endswith("X") or computed.endswith("X"):
        return False
    return not computed.startswith(stated)


def _pathology_facts(pathology: PathologyFeatures) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "max_diameter_mm": pathology.tumor_size_mm if is_plausible_size(pathology.organ, pathology.tumor_size_mm) else None,
        "tumor_count": pathology.tumor_count,
        "nodes_positive": pathology.nodes_positive,
        "depth": pathology.depth,
        "vascular_invasion": pathology.lymphovascular_invasion,
        "distant_metastasis": pathology.distant_metastasis,
        "tumor_deposits": pathology.tumor_deposits,
        "histology": pathology.histology,
    }
    if pathology.metastasis_sites:
        facts["metastasis_sites"] = list(pathology.metastasis_sites)
    if pathology.invaded_structures:
        facts["invaded_structures"] = list(pathology.invaded_structures)
    elif pathology.depth is not None or pathology.tumor_size_mm is not None:
        facts["invaded_structures"] = []
    if pathology.nodes_positive is not None:
        facts["node_metastasis"] = pathology.nodes_positive > 0
    return {key: value for key, value in facts.items() if value is not None}


def _report_facts(organ: str, report: ReportFeatures, kg: Any) -> dict[str, Any]:
    """Return the facts of the organ's primary tumour: the largest current lesion with a malignant primary impression."""
    current = [lesion for lesion in report.lesions if lesion.organ == organ and not lesion.negated and not lesion.historical]
    malignant = [lesion for lesion in current if _is_primary(lesion, kg)]
    if not malignant:
        return {}
    facts: dict[str, Any] = {}
    size = _primary_size(organ, current, malignant)
    if size is not None:
        facts["max_diameter_mm"] = size
    count = _tumor_count(malignant, [lesion for lesion in current if lesion.impression_id is None and lesion not in malignant])
    if count is not None:
        facts["tumor_count"] = count
    primary = max(malignant, key=lambda lesion: _plausible(organ, lesion.max_diameter_mm) or 0.0)
    histology = next((kg.impressions[lesion.impression_id].histology for lesion in [primary, *malignant] if lesion.impression_id in kg.impressions), None)
    if histology:
        facts["histology"] = histology
    facts.update(_report_spread(organ, report))
    return facts


def _primary_size(organ: str, current: list[LesionFinding], malignant: list[LesionFinding]) -> float | None:
    """Return the largest plausible size of the malignant lesions.

    When none states a size but exactly one lesion of the organ without an impression does
    ("Pancreatic adenocarcinoma. A 3.0 x 4.0 cm mass at the pancreatic neck."), the report
    described the tumour twice without linking the mentions, so that size is used. A size
    impossible for the organ (``implausible_size``) is never used.
    """
    sizes = [size for lesion in malignant if (size := _plausible(organ, lesion.max_diameter_mm)) is not None]
    if sizes:
        return max(sizes)
    unspecified = [lesion for lesion in current if lesion.impression_id is None and _plausible(organ, lesion.max_diameter_mm) is not None]
    return unspecified[0].max_diameter_mm if len(unspecified) == 1 else None


def _plausible(organ: str, size_mm: float | None) -> float | None:
    return size_mm if size_mm is not None and is_plausible_size(organ, size_mm) else None


def _tumor_count(malignant: list[LesionFinding], unspecified: list[LesionFinding]) -> int | None:
    """Return the number of tumours, or None when the report leaves it open.

    The count is the number of malignant lesions or the largest count stated for one of
    them ("two lesions consistent with HCC"), and a lesion written in the singular counts
    one. Lesions of the organ without an impression may be further tumours, so with
    them the count is kept only when a stated count covers them too.
    """
    if any(lesion.multiple and not lesion.count for lesion in malignant):
        return None
    stated = max((lesion.count or 1 for lesion in malignant), default=0)
    count = max(len(malignant), stated)
    if unspecified and count < len(malignant) + len(unspecified):
        return None
    return count


def _report_spread(organ: str, report: ReportFeatures) -> dict[str, Any]:
    """Return the spread facts of the report: invaded structures and vessels, suspicious nodes, distant metastases."""
    facts = _invasion_facts(organ, report)
    nodes = [n for n in report.nodes if not n.negated]
    if any(n.suspicious for n in nodes):
        facts["node_metastasis"] = True
    elif report.nodes and not nodes:
        facts["node_metastasis"] = False
    facts.update(_metastasis_facts(organ, report))
    return facts


def _invasion_facts(organ: str, report: ReportFeatures) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    vessels = [v for v in report.vessels if v.organ in (organ, None)]
    involved = [v.vessel for v in vessels if v.relation in INVOLVING_RELATIONS and not v.negated and v.certainty == "definite"]
    structures = involved + [i.structure for i in report.invasions if i.organ in (organ, None) and not i.negated and i.certainty == "definite"]
    if structures:
        facts["invaded_structures"] = list(dict.fromkeys(structures))

    if involved:
        facts["vascular_invasion"] = True
    elif any(v.negated and v.relation in INVOLVING_RELATIONS for v in vessels):
        # "The portal and hepatic veins are patent without tumour thrombus": vascular invasion is stated absent.
        facts["vascular_invasion"] = False
    return facts


def _metastasis_facts(organ: str, report: ReportFeatures) -> dict[str, Any]:
    """Return distant metastasis and its sites from metastasis statements and metastatic lesions in other organs."""
    stated = [m for m in report.metastases if m.site != organ and m.certainty == "definite"]
    lesions = [m for m in report.lesions if m.organ != organ and m.impression_id == "metastasis" and not m.negated and m.certainty == "definite"]
    if not stated and not lesions:
        return {}
    if lesions or any(not m.negated for m in stated):
        sites = [m.site for m in stated if m.site != "distant" and not m.negated] + [m.organ for m in lesions]
        facts: dict[str, Any] = {"distant_metastasis": True}
        if sites:
            facts["metastasis_sites"] = list(dict.fromkeys(sites))
        return facts
    return {"distant_metastasis": False}


def _is_primary(lesion: LesionFinding, kg: Any) -> bool:
    """Return True for a current lesion whose impression is a malignant primary tumour, or that is called malignant without one."""
    if lesion.negated or lesion.historical or kg is None:
        return False
    if lesion.impression_id is None:
        return lesion.malignant is True
    info = kg.impressions.get(lesion.impression_id)
    return info is not None and info.behaviour == "malignant" and lesion.impression_id != "metastasis"
