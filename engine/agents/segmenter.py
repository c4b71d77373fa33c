"""Segmentation expert: CT and masks in, ImagingFeatures out (the first of the six agents).

Reads ``state.case`` (ct_path, masks_path, mask_format, label_map, lesions_path,
liver_segments_path, imaging_features_path) and ``state.extras["required_organs"]``
(organs the report needs; empty by default). Writes ``state.imaging``, appends the
imaging flags to ``state.flags`` and one provenance entry. An ImagingError becomes
``CaseRejected(agent="segmenter")``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from data_contracts import AgentProvenance, ImagingFeatures
from engine.imaging import ImagingError, compute_features, load_ct, load_label_volume, run_qa_gates
from engine.state import CaseRejected, CaseState, EngineContext

logger = logging.getLogger(__name__)

AGENT = "segmenter"


def run(state: CaseState, ctx: EngineContext) -> CaseState:
    """Fill ``state.imaging`` from precomputed features, given masks, or TotalSegmentator."""
    case = state.case
    try:
        if case.imaging_features_path:
            features, backend = _read_features(case.imaging_features_path, case.case_id), "precomputed"
        else:
            features, backend = _measure(state, ctx)
    except ImagingError as error:
        raise CaseRejected(AGENT, error.reason_code, str(error.with_case(case.case_id)), file=error.file, field=error.field) from error

    logger.info("case %r: segmenter measured %d organs, %d lesions, %d flags", case.case_id, len(features.organs), len(features.lesions), len(features.flags))
    provenance = AgentProvenance(agent=AGENT, backend=backend, model="totalsegmentator-total-fast" if backend == "totalsegmentator" and ctx.config.totalseg_fast else None)
    return state.replace(imaging=features, flags=state.flags + features.flags, provenance=state.provenance + (provenance,))


def _measure(state: CaseState, ctx: EngineContext) -> tuple[ImagingFeatures, str]:
    case = state.case
    ct = load_ct(case.ct_path, case.case_id)

    backend = ctx.config.segmenter.backend
    if case.masks_path:
        masks_path, mask_source, fmt = case.masks_path, "given", case.mask_format
    elif backend == "totalsegmentator":
        masks_path, mask_source, fmt = str(_totalseg_backend(ctx).segment(ct, case.case_id)), "totalsegmentator", "multilabel"
    else:
        raise ImagingError(
            "segmentation_unavailable",
            f"no organ masks given and the segmenter backend is {backend!r}; set masks_path or choose backend 'totalsegmentator'",
            field="masks_path",
            case_id=case.case_id,
        )

    organs = load_label_volume(masks_path, ct, fmt, case.label_map, case.case_id)
    lesions = load_label_volume(case.lesions_path, ct, "auto", "lesions", case.case_id) if case.lesions_path else None
    segments = load_label_volume(case.liver_segments_path, ct, "auto", "totalseg_liver_segments", case.case_id) if case.liver_segments_path else None
    features = compute_features(case.case_id, ct, organs, lesions, segments, mask_source=mask_source)

    required = tuple(state.extras.get("required_organs", ()))
    gate_flags = run_qa_gates(case.case_id, ct, organs, features, required_organs=required)
    return features.model_copy(update={"flags": features.flags + tuple(gate_flags)}), mask_source


def _totalseg_backend(ctx: EngineContext):
    from engine.imaging.totalseg import TotalSegmentatorBackend

    # One backend per worker: EngineContext lives as long as the worker, so the cache and imported model stay loaded.
    if ctx.segmenter_model is None:
        ctx.segmenter_model = TotalSegmentatorBackend(fast=ctx.config.totalseg_fast, device=ctx.config.totalseg_device)
    return ctx.segmenter_model


def _read_features(path: str, case_id: str) -> ImagingFeatures:
    file = Path(path)
    if not file.is_file():
        raise ImagingError("missing_file", f"imaging features file not found: {file}", file=str(file), field="imaging_features_path", case_id=case_id)
    try:
        features = ImagingFeatures.model_validate_json(file.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError) as exc:
        raise ImagingError("corrupt_file", f"invalid ImagingFeatures JSON in {file.name}: {exc}", file=str(file), field="imaging_features_path", case_id=case_id) from exc
    if features.case_id != case_id:
        raise ImagingError(
            "invalid_manifest_row", f"imaging features file {file.name} belongs to case {features.case_id!r}", file=str(file), field="case_id", case_id=case_id
        )
    return features
