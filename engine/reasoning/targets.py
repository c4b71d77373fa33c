"""Chain targets of a case: one per current report lesion, and short normal chains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from data_contracts import ImagingFeatures, LesionFinding, LesionImagingFeatures, ReportFeatures


@dataclass(frozen=True)
class ChainTarget:
    """One chain to build: an organ and its report lesion, or a normal organ."""

    case_id: str
    organ: str
    lesion: LesionFinding | None = None
    imaging_lesions: tuple[LesionImagingFeatures, ...] = ()
    normal_source: Literal["report", "mask"] | None = None
    primary: bool = True
    """True for the organ's largest lesion, which also carries the organ's vessels, nodes and metastases."""

    @property
    def chain_id(self) -> str:
        suffix = self.lesion.finding_id if self.lesion is not None else "normal"
        return f"{self.case_id}/{self.organ}/{suffix}"

    @property
    def lesion_ids(self) -> tuple[str, ...]:
        ids = (self.lesion.finding_id,) if self.lesion is not None else ()
        return ids + tuple(lesion.lesion_id for lesion in self.imaging_lesions)


def current_lesions(report: ReportFeatures | None, organ: str) -> list[LesionFinding]:
    """Return the organ's lesions that are neither negated nor history, largest first."""
    if report is None:
        return []
    found = [les for les in report.lesions if les.organ == organ and not les.negated and not les.historical]
    return sorted(found, key=lambda les: -(les.max_diameter_mm or 0.0))


def plan_targets(case_id: str, report: ReportFeatures | None, imaging: ImagingFeatures | None, organs: tuple[str, ...]) -> list[ChainTarget]:
    """Return the chain targets of a case over the organs that have a KG, in organ order."""
    targets: list[ChainTarget] = []
    for organ in organs:
        lesions = current_lesions(report, organ)
        if lesions:
            targets += _lesion_targets(case_id, organ, lesions, imaging)
            continue
        if report is not None and organ in report.organs_normal:
            targets.append(ChainTarget(case_id, organ, normal_source="report"))
        elif imaging is not None and (features := imaging.organ(organ)) is not None and features.present:
            targets.append(ChainTarget(case_id, organ, normal_source="mask"))
    return targets


def target_for(case_id: str, organ: str, report: ReportFeatures | None, imaging: ImagingFeatures | None, lesion_id: str | None = None) -> ChainTarget:
    """Return the target of ``organ`` (its lesion ``lesion_id``, or its largest lesion, or its normal chain)."""
    for target in plan_targets(case_id, report, imaging, (organ,)):
        if lesion_id is None or (target.lesion is not None and target.lesion.finding_id == lesion_id):
            return target
    if lesion_id is not None:
        raise KeyError(f"case {case_id}: no current report lesion {lesion_id!r} in organ {organ!r}")
    return ChainTarget(case_id, organ, normal_source="mask")


def _lesion_targets(case_id: str, organ: str, lesions: list[LesionFinding], imaging: ImagingFeatures | None) -> list[ChainTarget]:
    masked = [les for les in imaging.lesions if les.organ == organ] if imaging is not None else []
    matches: dict[str, list[LesionImagingFeatures]] = {les.finding_id: [] for les in lesions}
    for mask_lesion in masked:
        owner = _owner(mask_lesion, lesions)
        if owner is not None:
            matches[owner.finding_id].append(mask_lesion)
    return [
        ChainTarget(case_id, organ, lesion, tuple(matches[lesion.finding_id]), primary=(index == 0))
        for index, lesion in enumerate(lesions)
    ]


def _owner(mask_lesion: LesionImagingFeatures, lesions: list[LesionFinding]) -> LesionFinding | None:
    if len(lesions) == 1:
        return lesions[0]
    same_region = [les for les in lesions if mask_lesion.subregion and mask_lesion.subregion in les.subregions]
    return same_region[0] if len(same_region) == 1 else None
