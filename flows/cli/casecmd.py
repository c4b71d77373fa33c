"""`tumorcot case`: run all six agents on one case and write its samples, chains and rejects."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``case`` command to the root ``app``."""
    app.command("case")(case)


def case(
    ct: Path = typer.Option(..., "--ct", help="CT as a NIfTI file or a DICOM series folder."),
    report: Path = typer.Option(..., "--report", help="Radiology report text file."),
    out: Path = typer.Option(..., "--out", help="Output folder for samples.parquet, samples.jsonl, chains.jsonl and rejects.parquet."),
    masks: Path | None = typer.Option(None, "--masks", help="Organ masks: multilabel NIfTI, folder of binary masks, or DICOM SEG. Omitted: the segmenter backend runs."),
    lesions: Path | None = typer.Option(None, "--lesions", help="Lesion masks, in any mask format."),
    segments: Path | None = typer.Option(None, "--segments", help="Liver Couinaud segment masks (TotalSegmentator task liver_segments)."),
    pathology: Path | None = typer.Option(None, "--pathology", help="Pathology report text file; its facts are ground truth."),
    case_id: str | None = typer.Option(None, "--case-id", help="Case id; default: the report file name without its suffix."),
    patient_id: str | None = typer.Option(None, "--patient-id", help="Patient id; cases of one patient share a split."),
    config: Path | None = typer.Option(None, "--config", help="Engine config YAML (backends per agent, task mix, seed); default settings when omitted."),
    split: str | None = typer.Option(None, "--split", help="Force the split (train, val or test); default: assigned by a hash of the patient or case id."),
) -> None:
    """Turn one CT with its report into VQA samples; exit 1 when the case is rejected."""
    from data_contracts import CaseInput, RejectRecord, VQASample
    from engine.config import load_config
    from engine.pipeline import build_context, run_case

    if split is not None and split not in ("train", "val", "test"):
        raise typer.BadParameter(f"invalid split {split!r}; choose train, val or test", param_hint="--split")
    case_input = CaseInput(
        case_id=case_id or _case_id_from(report), ct_path=str(ct.resolve()), masks_path=_resolved(masks), lesions_path=_resolved(lesions),
        liver_segments_path=_resolved(segments), report_path=str(report.resolve()), pathology_path=_resolved(pathology), patient_id=patient_id,
    )
    ctx = build_context(load_config(config))
    result = run_case(case_input, ctx, split=split)

    out.mkdir(parents=True, exist_ok=True)
    if result.samples:
        _write_parquet(VQASample.to_table(result.samples), out / "samples.parquet")
        _write_jsonl((s.model_dump_json() for s in result.samples), out / "samples.jsonl")
    _write_jsonl((c.model_dump_json() for c in result.chains), out / "chains.jsonl")
    if result.rejects:
        _write_parquet(RejectRecord.to_table(result.rejects), out / "rejects.parquet")
    _print_summary(result, out)
    if not result.samples:
        reasons = ", ".join(f"{r.reason_code} ({r.agent}): {r.message}" for r in result.rejects) or "no samples"
        typer.echo(f"case {result.case_id} rejected: {reasons}", err=True)
        raise typer.Exit(code=1)


def _case_id_from(report: Path) -> str:
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]", "_", report.stem).lstrip("._-")
    return stem[:128] or "case"


def _resolved(path: Path | None) -> str | None:
    return str(path.resolve()) if path is not None else None


def _write_parquet(table, path: Path) -> None:
    import pyarrow.parquet as pq

    temporary = path.with_suffix(path.suffix + ".tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)


def _write_jsonl(lines, path: Path) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
    temporary.replace(path)


def _print_summary(result, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    tasks = Counter(sample.task_type for sample in result.samples)
    subtasks = Counter(f"{sample.task_type}/{sample.subtask}" for sample in result.samples)
    table = Table(title=f"case {result.case_id}: {len(result.samples)} samples ({result.seconds:.1f} s)")
    table.add_column("task")
    table.add_column("samples", justify="right")
    table.add_column("subtasks")
    for task in ("localization", "attribute", "tnm", "cot_report"):
        names = ", ".join(f"{k.split('/', 1)[1]} {v}" for k, v in sorted(subtasks.items()) if k.startswith(task + "/"))
        table.add_row(task, str(tasks.get(task, 0)), names)
    console.print(table)

    accepted = sum(1 for c in result.chains if c.status == "accepted")
    console.print(f"chains: {accepted} accepted, {len(result.chains) - accepted} rejected; repairs: {result.repairs}")
    for reason, count in sorted(Counter(r.reason_code for r in result.rejects).items()):
        console.print(f"rejects {reason}: {count}")
    for code, count in sorted(Counter(f.code for f in result.flags).items()):
        console.print(f"flag {code}: {count}")
    if result.usage.total_tokens:
        console.print(f"LLM: {result.usage.total_tokens} tokens, ${result.usage.total_cost_usd:.4f}")
    console.print(f"written to {out}")
