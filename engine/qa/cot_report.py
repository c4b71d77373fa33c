"""The CoT report of the rules backend: a ``<think>`` walk over each organ and a conclusion.

The walk for each organ goes through the whole organ (mask and volume from
imaging) and each lesion with its subregion, findings and size. Then it lists
the structures around the organ (vessels, lymph nodes, invasion, distant
metastasis) and the impression and pathology steps, once per impression. Every sentence restates a chain step
or an extracted fact, so the report states nothing the chain does not carry.
Openers vary by a generator seeded per case.

The conclusion states each impression once per organ with its lesions, and for
a staged primary tumour the final stage (the summarizer stages with pathology
facts where they exist). An undecided category is never printed as a stage: the
conclusion gives the decided categories and says which facts are not stated.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from data_contracts import ImagingFeatures, ReportFeatures, StageResult

from engine.qa.candidate import step_sentence
from engine.qa.primary import location_of, primary_organs
from engine.qa.tnm import AXES, axis_missing
from engine.qa.view import ChainView
from engine.qa.wording import capitalize, format_mm, join_words, location_phrase, not_stated

ORGAN_OPENERS = (
    "Start with the {organ} as a whole.",
    "Review the {organ}.",
    "Next, examine the {organ} systematically.",
)
IMPRESSION_OPENERS = ("Putting these findings together:", "Taken together:", "From these findings:")


def organ_walk(views: list[ChainView], imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random,
               primary_here: bool = False) -> str:
    """Return the think text for one organ's chains: whole organ, lesions, surroundings, impressions.

    ``primary_here`` is True when the organ contains the case's primary tumour, so findings the
    report places in no organ (regional nodes, distant metastases) are listed around it.
    """
    first = views[0]
    lines = [ORGAN_OPENERS[rng.randrange(len(ORGAN_OPENERS))].format(organ=first.organ_name)]
    lines.append(_whole_organ(first, imaging))

    lesion_views = [v for v in views if not v.normal]
    if not lesion_views:
        lines.append(f"No focal lesion is described in the {first.organ_name}.")
        return "\n".join(lines)

    for number, view in enumerate(lesion_views, start=1):
        lines += _lesion_lines(view, f"Lesion {number}" if len(lesion_views) > 1 else "The lesion")
    lines.append(_surroundings(first.organ, first.organ_name, report, primary_here))

    lines.append(IMPRESSION_OPENERS[rng.randrange(len(IMPRESSION_OPENERS))])
    for group in _impression_groups(lesion_views).values():
        lines += _impression_lines(group)
    return "\n".join(lines)


def _lesion_lines(view: ChainView, label: str) -> list[str]:
    lines = []
    location = location_of(view)
    if location:
        lines.append(f"{label} lies in {location}.")
    elif label != "The lesion":
        lines.append(f"{label}:")
    seen: set[tuple[str, str, str]] = set()
    for step in view.chain.steps:
        key = (step.triplet.subject, step.triplet.predicate, step.triplet.object)
        if step.level == "finding" and step.triplet.predicate != "located_in" and key not in seen:
            seen.add(key)
            lines.append(f"{step.step_id}: {step_sentence(step, view)}")
    if view.size_mm is not None:
        size = f"It measures {format_mm(view.size_mm)} mm in maximum diameter"
        if view.imaging_lesion is not None and view.size_source != "imaging":
            size += f"; the lesion mask measures {format_mm(view.imaging_lesion.max_axial_diameter_mm)} mm in the axial plane"
        lines.append(size + ".")
    return lines


def _impression_groups(views: list[ChainView]) -> dict[str, list[ChainView]]:
    groups: dict[str, list[ChainView]] = {}
    for view in views:
        groups.setdefault(view.impression.id if view.impression else f"none:{view.chain.chain_id}", []).append(view)
    return groups


def _impression_lines(group: list[ChainView]) -> list[str]:
    """Return the impression and pathology steps of one impression once, with every lesion's discordance."""
    lines: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for view in group:
        for step in view.chain.steps:
            key = (step.triplet.subject, step.triplet.predicate, step.triplet.object)
            if step.level in ("impression", "pathology") and key not in seen:
                seen.add(key)
                lines.append(f"{step.step_id}: {step.sentence}")
    if len(group) > 1:
        lines.append(f"The same impression covers {'both' if len(group) == 2 else f'all {len(group)}'} lesions.")
    for entry in dict.fromkeys(d for view in group for d in view.chain.discordance):
        lines.append(f"Discordance with pathology: {entry}.")
    return lines


def _whole_organ(view: ChainView, imaging: ImagingFeatures | None) -> str:
    features = imaging.organ(view.organ) if imaging is not None else None
    if features is None:
        return f"No {view.organ_name} mask was measured."
    if not features.present:
        return f"The {view.organ_name} mask is empty, so the organ was not found on this scan."
    volume = f" with a volume of {features.volume_ml:.0f} mL" if features.volume_ml is not None else ""
    edge = " The mask reaches the scan edge, so part of the organ may be outside the field of view." if features.touches_edge else ""
    return f"The {view.organ_name} mask is present{volume}.{edge}"


def _surroundings(organ: str, organ_name: str, report: ReportFeatures | None, primary_here: bool) -> str:
    """Return the vessels, invasions, nodes and metastases around the organ.

    A finding the report places in no organ is listed only around the organ of
    the primary tumour, so a benign cyst or a liver metastasis is not reported
    with the primary's regional nodes.
    """
    if report is None:
        return "No neighbouring structures are described."

    def here(finding_organ: str | None) -> bool:
        return finding_organ == organ or (finding_organ is None and primary_here)

    parts: list[str] = []
    for vessel in report.vessels:
        if here(vessel.organ) and not vessel.negated:
            parts.append(f"{vessel.relation.replace('_', ' ')} of the {vessel.vessel.replace('_', ' ')}")
    for invasion in report.invasions:
        if here(invasion.organ) and not invasion.negated:
            parts.append(f"invasion of the {invasion.structure.replace('_', ' ')}")
    nodes = _nodes_text([n for n in report.nodes if here(n.organ) and not n.negated and n.suspicious])
    if nodes:
        parts.append(nodes)
    if primary_here:
        sites = [m.site.replace("_", " ") for m in report.metastases if not m.negated and m.site != organ]
        parts += [f"metastasis to the {site}" for site in dict.fromkeys(sites)]
    if not parts:
        return f"No involvement of structures around the {organ_name} is described."
    return f"Around the {organ_name}: {'; '.join(parts)}."


def _nodes_text(nodes) -> str:
    """Return the suspicious nodes as one phrase: '3 suspicious regional lymph nodes, the largest 13 mm in short axis'."""
    if not nodes:
        return ""
    counts = [n.count for n in nodes if n.count]
    sizes = [n.short_axis_mm for n in nodes if n.short_axis_mm is not None]
    count = max(counts) if counts else None
    if count == 1:
        text = "a suspicious regional lymph node"
    else:
        text = f"{count} suspicious regional lymph nodes" if count else "suspicious regional lymph nodes"
    if sizes:
        text += f", {'measuring' if count == 1 else 'the largest'} {format_mm(max(sizes))} mm in short axis"
    return text


def conclusion(views: list[ChainView], kgs: Mapping[str, Any]) -> str:
    """Return the conclusion paragraph: one sentence per impression of each organ, primary tumours first, then the normal organs."""
    sentences: list[str] = []
    organs = list(dict.fromkeys([*primary_organs(views, kgs), *(v.organ for v in views if not v.normal)]))
    for organ in organs:
        lesion_views = [v for v in views if v.organ == organ and not v.normal]
        for group in _impression_groups(lesion_views).values():
            sentences.append(_group_sentence(group, kgs.get(organ)))
    normal = [v.organ_name for v in views if v.normal and v.organ not in organs]
    if normal:
        sentences.append(f"No focal lesion in {join_words(f'the {name}' for name in dict.fromkeys(normal))}.")
    return " ".join(sentences) or "No abnormality is described."


def _group_sentence(group: list[ChainView], kg) -> str:
    first = group[0]
    what = capitalize(first.impression.name) if first.impression else "Lesion without a specific impression"
    if len(group) == 1:
        where = location_of(first) or f"the {first.organ_name}"
        size = f", {format_mm(first.size_mm)} mm" if first.size_mm is not None else ""
        sentence = f"{what} in {where}{size}"
    else:
        items = [_short_item(v) for v in sorted(group, key=lambda v: -(v.size_mm or 0.0))]
        sentence = f"{what}, {len(group)} lesions in the {first.organ_name}: {'; '.join(items)}"
    staged = [v for v in group if v.chain.stage is not None and v.behaviour == "malignant"]
    if staged and kg is not None:
        sentence += "; " + stage_statement(staged[0].chain.stage, kg)
    discordant = sorted({d.split(":", 1)[0] for v in group for d in v.chain.discordance})
    if discordant:
        sentence += "; imaging and pathology disagree on " + join_words(discordant)
    return sentence + "."


def _short_item(view: ChainView) -> str:
    place = join_words(location_phrase(view.organ, view.organ_name, r.name, with_organ=False) for r in view.subregions)
    size = f"{format_mm(view.size_mm)} mm" if view.size_mm is not None else ""
    return ", ".join(part for part in (place, size) if part) or "unspecified site"


def stage_statement(stage: StageResult, kg) -> str:
    """Return the stage in words: 'stage T2 N1 M0 (AJCC 8th edition)', or the decided categories and what is not stated.

    An undecided category (TX, NX, MX) is never printed as if it were a stage.
    """
    decided = [getattr(stage, axis) for axis in AXES if not getattr(stage, axis).endswith("X")]
    undecided = [axis for axis in AXES if getattr(stage, axis).endswith("X")]
    if not undecided:
        return f"stage {' '.join(decided)} (AJCC 8th edition)"
    missing = [fact for axis in undecided for fact in axis_missing(kg, stage, axis)]
    reason = f" because {not_stated(missing)}" if missing else ""
    if not decided:
        return f"the TNM stage cannot be assessed{reason}"
    axes = join_words(undecided)
    return f"{' '.join(decided)} (AJCC 8th edition); {axes} cannot be assessed{reason}"


def compose_report(think: str, conclusion_text: str) -> str:
    """Return the report text: the think block, then the conclusion paragraph."""
    return f"<think>\n{think}\n</think>\n{conclusion_text}"
