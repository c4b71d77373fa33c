"""`tumorcot extract`: print the structured features of a radiology (and pathology) report as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``extract`` command to the root ``app``."""
    app.command("extract")(extract)


def extract(
    report: Path = typer.Option(..., "--report", help="Radiology report text file (UTF-8, UTF-16 with BOM, Windows-1252 or Latin-1)."),
    pathology: Path | None = typer.Option(None, "--pathology", help="Pathology report text file."),
    backend: str = typer.Option("rules", "--backend", help="Extractor backend: rules (offline) or llm (through litellm)."),
    config: Path | None = typer.Option(None, "--config", help="Engine config YAML; its extractor settings are used with --backend llm."),
    case_id: str = typer.Option("cli", "--case-id", help="Case id written into the output."),
) -> None:
    """Extract lesions, nodes, vessels, metastases, pathology facts and the AJCC 8 stage per organ."""
    if backend not in ("rules", "llm"):
        raise typer.BadParameter(f"unknown backend '{backend}'; choose rules or llm", param_hint="--backend")

    from data_contracts import CaseInput
    from engine.agents import extractor
    from engine.config import load_config
    from engine.staging_facts import stage_case
    from engine.state import CaseRejected, CaseState, EngineContext
    from kg import kg_version, load_all

    settings = load_config(config)
    settings = settings.model_copy(update={"extractor": settings.extractor.model_copy(update={"backend": backend})})
    kgs = load_all()
    ctx = EngineContext(config=settings, kgs=kgs, kg_version=kg_version(kgs), engine_version="cli")
    case = CaseInput(case_id=case_id, ct_path="-", report_path=str(report), pathology_path=str(pathology) if pathology else None)
    try:
        state = extractor.run(CaseState(case=case), ctx)
    except CaseRejected as error:
        typer.echo(json.dumps({"error": {"code": error.reason_code, "message": error.message, "file": error.file}}, indent=2))
        raise typer.Exit(code=2) from error
    typer.echo(json.dumps(_output(state, stage_case(state.report, state.pathology, kgs)), indent=2, ensure_ascii=False))


def _output(state, stages) -> dict:
    report = state.report
    return {
        "case_id": report.case_id,
        "language": report.language,
        "encoding": report.encoding,
        "standardized": report.standardized.model_dump(),
        "lesions": [_lesion(lesion) for lesion in report.lesions],
        "nodes": [n.model_dump() for n in report.nodes],
        "vessels": [v.model_dump() for v in report.vessels],
        "invasions": [i.model_dump() for i in report.invasions],
        "metastases": [m.model_dump() for m in report.metastases],
        "organs_normal": list(report.organs_normal),
        "pathology": state.pathology.model_dump() if state.pathology else None,
        "staging": {organ: {"T": s.T, "N": s.N, "M": s.M, "table": s.table, "rules": list(s.rules), "missing": list(s.missing)} for organ, s in stages.items()},
        "flags": [{"code": f.code, "message": f.message, "severity": f.severity} for f in state.flags],
    }


def _lesion(lesion) -> dict:
    data = lesion.model_dump()
    data["impression"] = {"id": lesion.impression_id, "name": lesion.impression_name}
    return data
