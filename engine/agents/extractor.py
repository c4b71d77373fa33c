"""Extractor agent: radiology and pathology report text -> validated ``ReportFeatures`` and ``PathologyFeatures``.

Reads ``state.case.report_path`` and ``state.case.pathology_path`` (or
``state.report_text`` / ``state.pathology_text`` when already set). Writes
``state.report``, ``state.pathology``, both texts, flags and one ``AgentProvenance``.
The backend comes from ``ctx.config.extractor.backend``: ``rules`` (offline, the
default) or ``llm`` (``engine.extraction.llm_backend``, imported only when chosen).
Both outputs pass through the same validation.
"""

from __future__ import annotations

from data_contracts import AgentProvenance
from engine.extraction import extract_pathology, extract_report
from engine.extraction.validate import validate_pathology, validate_report
from engine.staging_facts import stage_case, stage_flags
from engine.state import CaseRejected, CaseState, EngineContext
from engine.text.decode import DecodedText, ReportInputError, read_text_file

AGENT = "extractor"


def run(state: CaseState, ctx: EngineContext) -> CaseState:
    """Extract and validate the report (required) and the pathology report (optional) of one case."""
    case_id = state.case.case_id
    report_text, report_encoding, decode_flags = _text(state.report_text, state.case.report_path, case_id, required=True)
    pathology_text, pathology_encoding, pathology_flags = _text(state.pathology_text, state.case.pathology_path, case_id, required=False)
    backend = ctx.config.extractor.backend

    report = _extract_report(backend, report_text, case_id, ctx, state.case.report_path, report_encoding)
    report = validate_report(report, report_text, ctx.kgs)
    pathology = None
    if pathology_text is not None:
        pathology = _extract_pathology(backend, pathology_text, case_id, ctx, pathology_encoding)
        pathology = validate_pathology(pathology, pathology_text, ctx.kgs)

    stages = stage_case(report, pathology, ctx.kgs)
    flags = decode_flags + pathology_flags + report.flags + (pathology.flags if pathology else ()) + tuple(stage_flags(case_id, pathology, stages))
    provenance = AgentProvenance(agent=AGENT, backend=report.backend, model=report.model, prompt_hash=report.prompt_hash)
    ctx.logger.info("case %s: extracted %d lesions, %d nodes with the %s backend", case_id, len(report.lesions), len(report.nodes), backend)
    return state.replace(
        report=report, pathology=pathology, report_text=report_text, pathology_text=pathology_text,
        flags=state.flags + flags, provenance=state.provenance + (provenance,),
    )


def _text(given: str | None, path: str | None, case_id: str, *, required: bool) -> tuple[str | None, str, tuple]:
    if given is not None:
        return given, "utf-8", ()
    if path is None:
        if required:
            raise CaseRejected(AGENT, "report_missing", f"case {case_id} has no radiology report; set report_path in the manifest", field="report_path")
        return None, "utf-8", ()
    try:
        decoded: DecodedText = read_text_file(path)
    except ReportInputError as error:
        field = "report_path" if required else "pathology_path"
        raise CaseRejected(AGENT, error.reason_code, f"case {case_id}: {error.message}", file=path, field=field) from error
    return decoded.text, decoded.encoding, decoded.flags


def _extract_report(backend: str, text: str, case_id: str, ctx: EngineContext, source: str | None, encoding: str):
    if backend == "llm":
        from engine.extraction.llm_backend import extract_report_llm

        return extract_report_llm(text, case_id, ctx)
    return extract_report(text, case_id, ctx.kgs, source_file=source, encoding=encoding)


def _extract_pathology(backend: str, text: str, case_id: str, ctx: EngineContext, encoding: str):
    if backend == "llm":
        from engine.extraction.llm_backend import extract_pathology_llm

        return extract_pathology_llm(text, case_id, ctx)
    return extract_pathology(text, case_id, ctx.kgs, encoding=encoding)
