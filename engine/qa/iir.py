"""Organ-guided iterative reasoning (IIR) rounds attached to each sample.

Round 1 answers from the global view and names the organ to attend to; round 2
attends to that organ (its region of interest is the organ's normalized box from
imaging) and gives the refined answer. When the chain involves a neighbouring
organ, for example liver metastases from a pancreatic primary or invasion of the
duodenum, one more round attends to each such organ, up to ``MAX_ROUNDS``.
"""

from __future__ import annotations

from data_contracts import IIRRound, ImagingFeatures, ReportFeatures

from engine.qa.view import ChainView

MAX_ROUNDS = 4


def organ_roi(imaging: ImagingFeatures | None, organ: str):
    """Return the organ's normalized box, or None when the organ was not measured or is absent."""
    if imaging is None:
        return None
    features = imaging.organ(organ)
    if features is None or not features.present:
        return None
    return features.bbox_norm_xyz


def neighbour_organs(view: ChainView, report: ReportFeatures | None, imaging: ImagingFeatures | None) -> list[tuple[str, str]]:
    """Return ``(organ, why)`` for each other imaged organ the chain involves, in a stable order."""
    found: dict[str, str] = {}
    for ref in view.neighbours:
        if ref.id != view.organ and organ_roi(imaging, ref.id) is not None:
            found.setdefault(ref.id, f"the {view.organ_name} lesion involves the {ref.name}")
    if report is not None and not view.normal:
        for metastasis in report.metastases:
            if not metastasis.negated and metastasis.site != view.organ and organ_roi(imaging, metastasis.site) is not None:
                found.setdefault(metastasis.site, f"the report describes metastasis to the {metastasis.site}")
    return sorted(found.items())


def iir_rounds(
    view: ChainView | None, organ: str, organ_name: str, final_answer: str,
    report: ReportFeatures | None, imaging: ImagingFeatures | None, global_answer: str | None = None,
) -> tuple[IIRRound, ...]:
    """Return the IIR rounds of one sample about ``organ``."""
    if global_answer is None:
        if view is None or view.normal:
            global_answer = f"The question concerns the {organ_name}; attend to the {organ_name}."
        else:
            global_answer = f"There is an abnormality in the {organ_name}; attend to the {organ_name}."
    rounds = [
        IIRRound(round=1, attend_organ=organ, roi_bbox_norm_xyz=None, intermediate_answer=global_answer),
        IIRRound(round=2, attend_organ=organ, roi_bbox_norm_xyz=organ_roi(imaging, organ), intermediate_answer=final_answer),
    ]
    if view is not None:
        for neighbour, why in neighbour_organs(view, report, imaging):
            if len(rounds) >= MAX_ROUNDS:
                break
            rounds.append(IIRRound(
                round=len(rounds) + 1, attend_organ=neighbour, roi_bbox_norm_xyz=organ_roi(imaging, neighbour),
                intermediate_answer=f"Checking the {neighbour} because {why}. {final_answer}",
            ))
    return tuple(rounds)


def report_rounds(views: list[ChainView], report: ReportFeatures | None, imaging: ImagingFeatures | None, conclusion: str) -> tuple[IIRRound, ...]:
    """Return IIR rounds of a whole-case report: the global view names every organ with findings, then one round per organ."""
    abnormal = [v for v in views if not v.normal]
    focus = abnormal or views
    names = ", ".join(dict.fromkeys(v.organ_name for v in focus)) or "the abdomen"
    verdict = "Abnormal findings in" if abnormal else "No lesion seen; organs reviewed:"
    rounds = [IIRRound(round=1, attend_organ=focus[0].organ if focus else "abdomen", roi_bbox_norm_xyz=None,
                       intermediate_answer=f"{verdict} {names}.")]
    for view in focus:
        if len(rounds) >= MAX_ROUNDS:
            break
        if any(r.attend_organ == view.organ and r.roi_bbox_norm_xyz is not None for r in rounds):
            continue
        summary = f"{view.organ_name}: {view.impression.name}." if view.impression else f"{view.organ_name}: no focal lesion."
        rounds.append(IIRRound(round=len(rounds) + 1, attend_organ=view.organ, roi_bbox_norm_xyz=organ_roi(imaging, view.organ),
                               intermediate_answer=summary))
    if len(rounds) < MAX_ROUNDS:
        rounds.append(IIRRound(round=len(rounds) + 1, attend_organ=rounds[-1].attend_organ,
                               roi_bbox_norm_xyz=rounds[-1].roi_bbox_norm_xyz, intermediate_answer=conclusion))
    return tuple(rounds)
