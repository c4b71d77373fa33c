"""Organ-guided iterative reasoning (IIR) rounds attached to each sample.

Round 1 answers from the global view and names the organ with findings to
attend to; each later round attends to one organ (its region of interest is the
organ's normalized box from imaging) and refines the earlier answer. The last
round always gives the sample's answer. When a TNM or report answer needs
another organ, for example liver metastases from a pancreatic primary or
invasion of the duodenum, the rounds visit that organ before answering, up to
``MAX_ROUNDS`` rounds in all.
"""

from __future__ import annotations

from data_contracts import IIRRound, ImagingFeatures, ReportFeatures

from engine.qa.primary import location_of
from engine.qa.view import ChainView
from engine.qa.wording import capitalize, join_words

MAX_ROUNDS = 4


def organ_roi(imaging: ImagingFeatures | None, organ: str):
    """Return the organ's normalized box, or None when the organ was not measured or is absent."""
    if imaging is None:
        return None
    features = imaging.organ(organ)
    if features is None or not features.present:
        return None
    return features.bbox_norm_xyz


def neighbour_organs(view: ChainView, report: ReportFeatures | None, imaging: ImagingFeatures | None, kinds: tuple[str, ...] = ("invasion", "metastasis")) -> list[tuple[str, str]]:
    """Return ``(organ, why)`` for each other imaged organ the chain involves, in a stable order.

    ``kinds`` chooses the reasons: ``invasion`` for neighbouring structures the
    chain names, ``metastasis`` for metastasis sites the report describes.
    """
    found: dict[str, str] = {}
    if "invasion" in kinds:
        for ref in view.neighbours:
            if ref.id != view.organ and organ_roi(imaging, ref.id) is not None:
                found.setdefault(ref.id, f"the {view.organ_name} lesion involves the {ref.name}")
    if "metastasis" in kinds and report is not None and not view.normal:
        for metastasis in report.metastases:
            if not metastasis.negated and metastasis.site != view.organ and organ_roi(imaging, metastasis.site) is not None:
                found.setdefault(metastasis.site, f"the report describes metastasis to the {metastasis.site.replace('_', ' ')}")
    return sorted(found.items())


def lesion_summary(view: ChainView) -> str:
    """Return the organ round's description of a lesion: 'A lesion in segment 5 of the liver, in keeping with hepatocellular carcinoma'."""
    where = location_of(view) or f"the {view.organ_name}"
    what = f", in keeping with {view.impression.name}" if view.impression else ""
    return f"A lesion in {where}{what}"


def iir_rounds(
    view: ChainView | None, organ: str, organ_name: str, final_answer: str,
    report: ReportFeatures | None, imaging: ImagingFeatures | None, global_answer: str | None = None, *, neighbours: tuple[str, ...] = (),
) -> tuple[IIRRound, ...]:
    """Return the IIR rounds of one sample about ``organ``; ``neighbours`` names the kinds of other organs to visit first (see ``neighbour_organs``)."""
    abnormal = view is not None and not view.normal
    if global_answer is None:
        if abnormal:
            global_answer = f"There is a focal lesion in the {organ_name}; attend to the {organ_name}."
        else:
            global_answer = f"The question concerns the {organ_name}; attend to the {organ_name}."
    rounds = [IIRRound(round=1, attend_organ=organ, roi_bbox_norm_xyz=None, intermediate_answer=global_answer)]

    visits = neighbour_organs(view, report, imaging, neighbours)[: MAX_ROUNDS - 2] if (neighbours and abnormal) else []
    if visits:
        reasons = join_words(f"{why}, so attend to the {other.replace('_', ' ')}" for other, why in visits)
        rounds.append(IIRRound(round=2, attend_organ=organ, roi_bbox_norm_xyz=organ_roi(imaging, organ),
                               intermediate_answer=f"{lesion_summary(view)}; {reasons}."))
        for other, why in visits[:-1]:
            rounds.append(IIRRound(round=len(rounds) + 1, attend_organ=other, roi_bbox_norm_xyz=organ_roi(imaging, other),
                                   intermediate_answer=f"The {other.replace('_', ' ')} is checked because {why}."))
        last = visits[-1][0]
        rounds.append(IIRRound(round=len(rounds) + 1, attend_organ=last, roi_bbox_norm_xyz=organ_roi(imaging, last), intermediate_answer=final_answer))
        return tuple(rounds)

    rounds.append(IIRRound(round=2, attend_organ=organ, roi_bbox_norm_xyz=organ_roi(imaging, organ), intermediate_answer=final_answer))
    return tuple(rounds)


def report_rounds(views: list[ChainView], report: ReportFeatures | None, imaging: ImagingFeatures | None, conclusion: str,
                  primary_organs: tuple[str, ...] = ()) -> tuple[IIRRound, ...]:
    """Return IIR rounds of a whole-case report.

    The global round names every organ with findings, organs with a primary
    tumour (``primary_organs``) first; then one round per such organ (at most
    ``MAX_ROUNDS - 1``), the last of which gives the whole conclusion. A case
    without findings attends to the organs reviewed.
    """
    abnormal = [v for v in views if not v.normal]
    organs = list(dict.fromkeys([o for o in primary_organs if any(v.organ == o for v in abnormal)] + [v.organ for v in abnormal]))
    names = {v.organ: v.organ_name for v in views}
    if not organs:
        reviewed = join_words(dict.fromkeys(v.organ_name for v in views)) or "the abdomen"
        first = views[0].organ if views else "abdomen"
        return (
            IIRRound(round=1, attend_organ=first, roi_bbox_norm_xyz=None, intermediate_answer=f"No focal lesion is seen; organs reviewed: {reviewed}."),
            IIRRound(round=2, attend_organ=first, roi_bbox_norm_xyz=organ_roi(imaging, first), intermediate_answer=conclusion),
        )

    visited = organs[: MAX_ROUNDS - 1]
    listed = join_words(f"the {names[o]}" for o in organs)
    rounds = [IIRRound(round=1, attend_organ=organs[0], roi_bbox_norm_xyz=None,
                       intermediate_answer=f"Focal findings are seen in {listed}; attend to the {names[organs[0]]} first.")]
    for number, organ in enumerate(visited, start=2):
        if number == len(visited) + 1:
            answer = conclusion
        else:
            summary = organ_summary([v for v in abnormal if v.organ == organ])
            answer = f"{summary}; next, attend to the {names[visited[number - 1]]}."
        rounds.append(IIRRound(round=number, attend_organ=organ, roi_bbox_norm_xyz=organ_roi(imaging, organ), intermediate_answer=answer))
    return tuple(rounds)


def organ_summary(views: list[ChainView]) -> str:
    """Return one organ's lesions by impression: '3 lesions of the liver in keeping with liver metastasis'."""
    groups: dict[str, list[ChainView]] = {}
    for view in views:
        groups.setdefault(view.impression.name if view.impression else "", []).append(view)
    parts = []
    for impression, group in groups.items():
        what = f", in keeping with {impression}" if impression else ""
        if len(group) == 1:
            parts.append(f"{lesion_summary(group[0])[0].lower()}{lesion_summary(group[0])[1:]}")
        else:
            parts.append(f"{len(group)} lesions of the {group[0].organ_name}{what}")
    return capitalize(join_words(parts))
