"""Localization questions: organ boxes and lesion boxes from imaging, in RAS+ normalized (x, y, z) order."""

from __future__ import annotations

import random

from data_contracts import AXIS_ORDER, ORIENTATION, ImagingFeatures, ReportFeatures

from engine.qa.candidate import Candidate, describe_steps
from engine.qa.iir import iir_rounds
from engine.qa.primary import lesion_names
from engine.qa.templates import pick_question
from engine.qa.view import ChainView
from engine.qa.wording import capitalize, format_mm, verb


def _box_text(box) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in box) + "]"


def _extent_text(box) -> str:
    return f"x {box[0]:.3f}-{box[3]:.3f}, y {box[1]:.3f}-{box[4]:.3f}, z {box[2]:.3f}-{box[5]:.3f}"


def _box_fields(box) -> dict:
    return {"bbox_norm_xyz": [round(float(v), 4) for v in box], "axis_order": AXIS_ORDER, "orientation": ORIENTATION}


def organ_box_candidates(
    organs: list[str], organ_names: dict[str, str], views_by_organ: dict[str, list[ChainView]],
    imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random,
) -> list[Candidate]:
    """Return one organ box question per present organ in ``organs`` (organs whose mask is not empty)."""
    candidates: list[Candidate] = []
    if imaging is None:
        return candidates
    for organ in organs:
        features = imaging.organ(organ)
        if features is None or not features.present or features.bbox_norm_xyz is None:
            continue
        name = organ_names.get(organ, organ)
        box = features.bbox_norm_xyz
        volume = f"{features.volume_ml:.0f} mL" if features.volume_ml is not None else "an unmeasured volume"
        think = (
            f"The {name} mask is present with {features.voxel_count} voxels ({volume}). "
            f"Its voxel extent divided by the volume shape gives {_extent_text(box)} in RAS+ order."
        )
        if features.touches_edge:
            think += f" The mask reaches the scan edge, so the {name} may extend beyond the field of view."
        answer = f"The {name} {verb(name, 'lies', 'lie')} within the box {_box_text(box)}."
        views = views_by_organ.get(organ, [])
        fields = {"organ": organ, **_box_fields(box), "truncated_fov": features.touches_edge}
        candidates.append(Candidate(
            task_type="localization", subtask="organ_bbox", organ=organ, question_key=f"organ_bbox:{organ}",
            question=pick_question("organ_bbox", rng, organ=name), think=think, answer=answer, answer_fields=fields,
            chain_ids=tuple(v.chain.chain_id for v in views),
            iir_rounds=iir_rounds(None, organ, name, answer, report, imaging),
        ))
    return candidates


def lesion_box_candidates(views: list[ChainView], imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random) -> list[Candidate]:
    """Return one lesion box question per described lesion that has a lesion mask and a name that distinguishes it."""
    names = lesion_names(views)
    candidates: list[Candidate] = []
    for view in views:
        lesion = view.imaging_lesion
        reference = names[view.chain.chain_id].reference if view.described else None
        if lesion is None or reference is None:
            continue
        box = lesion.bbox_norm_xyz
        located = tuple(s for s in view.chain.steps if s.triplet.predicate == "located_in")
        lines = [describe_steps(located, view)] if located else []
        organ = imaging.organ(view.organ) if imaging is not None else None
        if organ is not None and organ.present and organ.bbox_norm_xyz is not None:
            lines.append(f"The {view.organ_name} mask spans {_extent_text(organ.bbox_norm_xyz)}.")
        lines.append(
            f"Within it, lesion mask component {lesion.lesion_id} has {lesion.voxel_count} voxels ({format_mm(lesion.volume_ml)} mL), "
            f"a maximum axial diameter of {format_mm(lesion.max_axial_diameter_mm)} mm and {lesion.organ_overlap:.0%} overlap "
            f"with the {view.organ_name} mask. Its extent gives {_extent_text(box)}."
        )
        answer = f"{capitalize(reference)} lies within the box {_box_text(box)}."
        fields = {"organ": view.organ, "lesion_id": lesion.lesion_id, **_box_fields(box)}
        candidates.append(Candidate(
            task_type="localization", subtask="lesion_bbox", organ=view.organ, question_key=f"lesion_bbox:{view.chain.chain_id}:{lesion.lesion_id}",
            question=pick_question("lesion_bbox", rng, organ=view.organ_name, lesion=reference), think="\n".join(lines), answer=answer,
            answer_fields=fields, steps=located, chain_ids=(view.chain.chain_id,),
            iir_rounds=iir_rounds(view, view.organ, view.organ_name, answer, report, imaging),
        ))
    return candidates
