"""The CoT report of the rules backend: a ``<think>`` walk over each organ and a conclusion.

The walk for each organ goes: the whole organ (mask and volume from imaging),
its subregions, the lesion findings with sizes, the neighbours (vessels, lymph
nodes, invasion, distant metastasis), then the impression and pathology steps.
Every sentence restates a chain step or an extracted fact, so the report states
nothing the chain does not carry. Openers vary by a generator seeded per case.
"""

from __future__ import annotations

import random

from data_contracts import ImagingFeatures, ReportFeatures

from engine.qa.candidate import format_mm
from engine.qa.view import ChainView

ORGAN_OPENERS = (
    "Start with the {organ} as a whole.",
    "Review the {organ}.",
    "Next, examine the {organ} systematically.",
)
IMPRESSION_OPENERS = ("Putting these findings together:", "Taken together:", "From these findings:")


def organ_walk(views: list[ChainView], imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random) -> str:
    """Return the think text for one organ's chains: whole organ, subregions, findings, neighbours, impression."""
    first = views[0]
    lines = [ORGAN_OPENERS[rng.randrange(len(ORGAN_OPENERS))].format(organ=first.organ_name)]
    lines.append(_whole_organ(first, imaging))

    lesion_views = [v for v in views if not v.normal]
    if not lesion_views:
        lines.append(f"No focal lesion is described in the {first.organ_name}.")
        return "\n".join(lines)

    for number, view in enumerate(lesion_views, start=1):
        label = f"Lesion {number}" if len(lesion_views) > 1 else "The lesion"
        if view.subregions:
            lines.append(f"{label} lies in the {' and '.join(r.name for r in view.subregions)}.")
        for step in view.chain.steps:
            if step.level == "finding" and step.triplet.predicate != "located_in":
                lines.append(f"{step.step_id}: {step.sentence}")
        if view.size_mm is not None:
            lines.append(f"It measures {format_mm(view.size_mm)} mm in maximum diameter.")
    lines.append(_neighbours(first.organ, first.organ_name, report))

    lines.append(IMPRESSION_OPENERS[rng.randrange(len(IMPRESSION_OPENERS))])
    for view in lesion_views:
        for step in view.chain.steps:
            if step.level in ("impression", "pathology"):
                lines.append(f"{step.step_id}: {step.sentence}")
        for entry in view.chain.discordance:
            lines.append(f"Discordance with pathology: {entry}.")
    return "\n".join(lines)


def _whole_organ(view: ChainView, imaging: ImagingFeatures | None) -> str:
    features = imaging.organ(view.organ) if imaging is not None else None
    if features is None:
        return f"No {view.organ_name} mask was measured."
    if not features.present:
        return f"The {view.organ_name} mask is empty, so the organ was not found on this scan."
    volume = f" with a volume of {features.volume_ml:.0f} mL" if features.volume_ml is not None else ""
    edge = " The mask reaches the scan edge, so part of the organ may be outside the field of view." if features.touches_edge else ""
    return f"The {view.organ_name} mask is present{volume}.{edge}"


def _neighbours(organ: str, organ_name: str, report: ReportFeatures | None) -> str:
    if report is None:
        return "No neighbouring structures are described."
    parts: list[str] = []
    for vessel in report.vessels:
        if vessel.organ in (None, organ) and not vessel.negated:
            parts.append(f"{vessel.relation.replace('_', ' ')} of the {vessel.vessel.replace('_', ' ')}")
    for invasion in report.invasions:
        if invasion.organ in (None, organ) and not invasion.negated:
            parts.append(f"invasion of the {invasion.structure.replace('_', ' ')}")
    for node in report.nodes:
        if node.organ in (None, organ) and not node.negated and node.suspicious:
            size = f" ({format_mm(node.short_axis_mm)} mm short axis)" if node.short_axis_mm is not None else ""
            parts.append(f"suspicious lymph node{'s' if (node.count or 1) > 1 else ''}{size}")
    for metastasis in report.metastases:
        if not metastasis.negated and metastasis.site != organ:
            parts.append(f"metastasis to the {metastasis.site.replace('_', ' ')}")
    if not parts:
        return f"No involvement of structures around the {organ_name} is described."
    return f"Around the {organ_name}: {'; '.join(parts)}."


def conclusion(views: list[ChainView]) -> str:
    """Return the conclusion paragraph: one sentence per lesion chain, then the normal organs."""
    sentences: list[str] = []
    for view in views:
        if view.normal:
            continue
        where = f"the {' and '.join(r.name for r in view.subregions)}" if view.subregions else f"the {view.organ_name}"
        what = view.impression.name if view.impression else "lesion"
        size = f", {format_mm(view.size_mm)} mm" if view.size_mm is not None else ""
        sentence = f"{what[0].upper()}{what[1:]} in {where}{size}"
        stage = view.chain.stage
        if stage is not None and view.behaviour == "malignant":
            sentence += f", staged {stage.T} {stage.N} {stage.M} (AJCC 8th edition)"
        if view.chain.discordance:
            sentence += "; imaging and pathology disagree on " + ", ".join(sorted({d.split(':', 1)[0] for d in view.chain.discordance}))
        sentences.append(sentence + ".")
    normal = sorted({v.organ_name for v in views if v.normal} - {v.organ_name for v in views if not v.normal})
    if normal:
        sentences.append(f"No focal lesion in the {', '.join(normal)}.")
    return " ".join(sentences) or "No abnormality is described."


def compose_report(think: str, conclusion_text: str) -> str:
    """Return the report text: the think block, then the conclusion paragraph."""
    return f"<think>\n{think}\n</think>\n{conclusion_text}"
