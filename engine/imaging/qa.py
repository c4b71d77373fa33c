"""QA gates run on every case before any text or LLM step.

Hard rejects raise ImagingError, and softer findings come back as flags. Loading
already rejects corrupt files, non-HU values and masks that cannot be put on the
CT grid. The gates here repeat the cheap grid and HU checks, so volumes built in
memory (phantoms, implanted lesions) pass the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from data_contracts.common import Flag
from data_contracts.imaging import ImagingFeatures, OrganFeatures
from engine.imaging.ct import check_hu_range
from engine.imaging.errors import ImagingError
from engine.imaging.volume import CTVolume, LabelVolume, affines_match

# Plausible adult organ volumes in mL: (minimum, maximum). NOTE: these are
# estimates, widened from typical CT volumetry values to leave room for disease
# (hepatomegaly, a distended stomach); tune them on real cohort statistics.
ORGAN_VOLUME_RANGES_ML: dict[str, tuple[float, float]] = {
    "liver": (800.0, 3000.0),
    "spleen": (40.0, 1200.0),
    "pancreas": (10.0, 250.0),
    "stomach": (50.0, 2500.0),
    "colon": (100.0, 3000.0),
    "esophagus": (5.0, 100.0),
    "duodenum": (10.0, 300.0),
    "small_bowel": (100.0, 3500.0),
    "gallbladder": (1.0, 250.0),
    "kidney_right": (60.0, 400.0),
    "kidney_left": (60.0, 400.0),
}


def run_qa_gates(
    case_id: str, ct: CTVolume, organs: LabelVolume, features: ImagingFeatures, required_organs: Iterable[str] = ()
) -> list[Flag]:
    """Check a measured case; return its flags, or raise ImagingError for a reject.

    Rejects: a mask off the CT grid (``shape_mismatch``, ``affine_mismatch``),
    non-HU values (``not_hu``), an empty required organ (``empty_organ``), and an
    implausible volume of a required organ that is not truncated
    (``implausible_volume``). Flags: organs cut by the scan edge
    (``truncated_fov``) and implausible volumes of other organs.
    """
    required = tuple(required_organs)
    _check_grid(case_id, ct, organs)
    check_hu_range(ct.hu_min, ct.hu_max, ct.path, case_id)

    missing = [name for name in required if not _present(features.organ(name))]
    if missing:
        raise ImagingError(
            "empty_organ",
            f"required organ(s) {', '.join(missing)} have empty or absent masks (organ not found); "
            "segment the organ or check the label numbering of the mask",
            file=organs.path,
            field=",".join(missing),
            case_id=case_id,
        )

    flags: list[Flag] = []
    for organ in features.organs:
        if not organ.present:
            continue
        if organ.touches_edge:
            flags.append(_truncated_flag(case_id, organ, organs.path))
            continue
        problem = _volume_problem(organ)
        if problem is None:
            continue
        if organ.organ in required:
            raise ImagingError("implausible_volume", problem, file=organs.path, field=organ.organ, case_id=case_id)
        flags.append(Flag(code="implausible_volume", message=f"case {case_id!r}: {problem}", severity="warning", file=organs.path, field=organ.organ))
    return flags


def _present(organ: OrganFeatures | None) -> bool:
    return organ is not None and organ.present


def _check_grid(case_id: str, ct: CTVolume, organs: LabelVolume) -> None:
    if organs.labels.shape != ct.shape_xyz:
        raise ImagingError("shape_mismatch", f"mask shape {organs.labels.shape} differs from CT shape {ct.shape_xyz}", file=organs.path, field="dim", case_id=case_id)
    if not affines_match(organs.affine, ct.affine):
        raise ImagingError("affine_mismatch", "mask affine differs from the CT affine; load masks with load_label_volume", file=organs.path, field="affine", case_id=case_id)


def _truncated_flag(case_id: str, organ: OrganFeatures, path: str) -> Flag:
    return Flag(
        code="truncated_fov",
        message=(
            f"case {case_id!r}: {organ.organ} mask reaches the edge of the scan (box {organ.bbox_voxel_xyz}); "
            f"its volume {organ.volume_ml:.0f} mL covers only the scanned part"
        ),
        severity="warning",
        file=path,
        field=organ.organ,
    )


def _volume_problem(organ: OrganFeatures) -> str | None:
    limits = ORGAN_VOLUME_RANGES_ML.get(organ.organ)
    if limits is None or organ.volume_ml is None:
        return None
    low, high = limits
    if low <= organ.volume_ml <= high:
        return None
    return f"{organ.organ} volume {organ.volume_ml:.0f} mL is outside the plausible adult range {low:.0f}-{high:.0f} mL; check the mask and its label numbering"
