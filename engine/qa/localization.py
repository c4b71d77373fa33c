"""Localization questions: organ boxes and lesion boxes from imaging, in RAS+ normalized (x, y, z) order."""

from __future__ import annotations

import random

from data_contracts import AXIS_ORDER, ORIENTATION, ImagingFeatures, ReportFeatures

from engine.qa.candidate import Candidate, describe_steps
from engine.qa.iir import iir_rounds
from engine.qa.templates import pick_question
from engine.qa.view import ChainView


def _box_text(box) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in box) + "]"


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
            f"Its voxel extent divided by the volume shape gives x {box[0]:.3f}-{box[3]:.3f}, "
            f"y {box[1]:.3f}-{box[4]:.3f}, z {box[2]:.3f}-{box[5]:.3f} in RAS+ order."
        )
        if features.touches_edge:
            think += f" The mask reaches the scan edge, so the {name} may extend beyond the field of view."
        answer = f"The {name} lies within the box {_box_text(box)}."
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
    """Return one lesion box question per chain whose lesion has a lesion mask."""
    candidates: list[Candidate] = []
    for view in views:
        lesion = view.imaging_lesion
        if view.normal or lesion is None:
            continue
        box = lesion.bbox_norm_xyz
        located = [s for s in view.chain.steps if s.triplet.predicate == "located_in"]
        think = (
            f"{describe_steps(tuple(located))}\n" if located else ""
        ) + (
            f"The lesion mask component {lesion.lesion_id} has {lesion.voxel_count} voxels ({lesion.volume_ml:.1f} mL) "
            f"and a maximum axial diameter of {lesion.max_axial_diameter_mm:.0f} mm; it overlaps the {view.organ_name} "
            f"mask by {lesion.organ_overlap:.0%}. Its extent gives x {box[0]:.3f}-{box[3]:.3f}, "
            f"y {box[1]:.3f}-{box[4]:.3f}, z {box[2]:.3f}-{box[5]:.3f}."
        )
        answer = f"The {view.organ_name} lesion lies within the box {_box_text(box)}."
        fields = {"organ": view.organ, "lesion_id": lesion.lesion_id, **_box_fields(box)}
        candidates.append(Candidate(
            task_type="localization", subtask="lesion_bbox", organ=view.organ, question_key=f"lesion_bbox:{view.chain.chain_id}:{lesion.lesion_id}",
            question=pick_question("lesion_bbox", rng, organ=view.organ_name), think=think, answer=answer, answer_fields=fields,
            steps=tuple(located), chain_ids=(view.chain.chain_id,),
            iir_rounds=iir_rounds(view, view.organ, view.organ_name, answer, report, imaging),
        ))
    return candidates
