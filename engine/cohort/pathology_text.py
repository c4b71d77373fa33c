"""The synoptic pathology report of a resected malignant case, consistent with its truth.

Only cases whose primary is resected (``LesionKind.resected``) and staged by a KG
table get one. Benign and premalignant lesions, and primaries without a staging
table (for example GIST), have no pathology file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.cohort.catalogue import CasePlan
from engine.cohort.phrasing import choose
from engine.cohort.truth import DrawnLesion, primary_lesions
from engine.cohort.vocabulary import Vocabulary

GRADE_TEXT = {1: "G1, well differentiated", 2: "G2, moderately differentiated", 3: "G3, poorly differentiated"}
PROCEDURES = {
    "liver": "Partial hepatectomy",
    "stomach": "Gastrectomy",
    "colon": "Segmental colectomy",
    "esophagus": "Esophagectomy",
}


def write_pathology_report(plan: CasePlan, lesions: list[DrawnLesion], truth: dict[str, Any], vocabulary: Vocabulary, rng: np.random.Generator) -> str | None:
    """Return the pathology report text, or None when the case has none."""
    primary = plan.primary
    stage = truth.get("stage")
    if primary is None or stage is None:
        return None
    drawn = primary_lesions(lesions)
    largest = max(drawn, key=lambda lesion: lesion.measurement.max_axial_diameter_mm)
    site = vocabulary.subregion(primary.organ, largest.subregion_key) if largest.subregion_key else None
    histology = vocabulary.histology(primary)
    facts = truth["staging_facts"]

    lines = [
        "SURGICAL PATHOLOGY REPORT",
        "",
        f"Specimen: {_procedure(primary.organ, largest.subregion_key)}",
        f"Tumor site: {site.forms['en'][0] if site else primary.organ}",
        f"Histologic type: {histology.forms['en'][0]}",
        f"Histologic grade: {GRADE_TEXT[plan.grade]}",
        f"Tumor size: {largest.measurement.max_axial_diameter_mm / 10:.1f} cm in greatest dimension",
        f"Tumor focality: {'unifocal' if len(drawn) == 1 else f'multifocal, {len(drawn)} tumors'}",
        f"Extent of invasion: {_extent(plan, facts, vocabulary)}",
        f"Margins: {choose(rng, ('negative for carcinoma', 'uninvolved by tumor (R0)'))}",
        f"Lymphovascular invasion: {'present' if plan.lymphovascular_invasion else 'not identified'}",
        f"Perineural invasion: {'present' if plan.perineural_invasion else 'not identified'}",
        f"Regional lymph nodes: {plan.nodes_positive} positive / {plan.nodes_examined} examined",
        f"Distant metastasis: {_metastasis_text(plan)}",
        f"Pathologic stage (AJCC 8th edition): {_ptnm(stage)}",
    ]
    return "\n".join(lines) + "\n"


def _procedure(organ: str, subregion_key: str | None) -> str:
    if organ == "pancreas":
        return "Pancreaticoduodenectomy (Whipple procedure)" if subregion_key in ("head", "neck") else "Distal pancreatectomy with splenectomy"
    return PROCEDURES[organ]


def _extent(plan: CasePlan, facts: dict[str, Any], vocabulary: Vocabulary) -> str:
    primary = plan.primary
    if primary is None:
        raise ValueError("a pathology extent needs a primary tumour in the case plan")
    parts = []
    depth = facts.get("depth")
    if depth:
        layer = vocabulary.layer(primary.organ, depth)
        parts.append(f"tumor invades the {layer.forms['en'][0] if layer else depth.replace('_', ' ')}")
    for structure in plan.invaded_structures:
        phrase = vocabulary.structure(primary.organ, structure)
        parts.append(f"tumor involves the {phrase.forms['en'][0] if phrase else structure.replace('_', ' ')}")
    if primary.organ == "liver":
        parts.append("vascular invasion present" if plan.vascular_invasion else "no vascular invasion")
    return "; ".join(parts) if parts else f"confined to the {primary.organ}"


def _metastasis_text(plan: CasePlan) -> str:
    if not plan.metastasis_sites:
        return "not identified in the submitted material"
    return f"present ({', '.join(plan.metastasis_sites)}, biopsy proven)"


def _ptnm(stage: dict[str, str]) -> str:
    m = stage["M"]
    m_text = f"p{m}" if m.startswith("M1") else f"c{m}"
    return f"p{stage['T']} p{stage['N']} {m_text}"
