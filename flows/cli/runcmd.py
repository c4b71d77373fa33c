"""CLI commands for running the engine and working with its output:
``run``, ``shards validate|stats|sql``, ``report`` and ``explain``."""

from __future__ import annotations

from pathlib import Path

import typer

shards_app = typer.Typer(help="Check and query the Parquet shards of a dataset folder.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root ``app``."""
    app.command("run")(run)
    app.command("report")(report)
    app.command("explain")(explain)
    app.add_typer(shards_app, name="shards")


def run(
    manifest: Path = typer.Option(..., "--manifest", "-m", help="Case manifest: CSV, JSONL or Parquet."),
    out: str = typer.Option(..., "--out", "-o", help="Dataset folder: local path or fsspec URL."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Engine config YAML; defaults to the offline rules backends."),
    max_cases: int | None = typer.Option(None, help="Process only the first N valid cases."),
    batch_size: int = typer.Option(64, help="Cases per batch (one Prefect task and one shard each)."),
    concurrency: int = typer.Option(2, help="Batches in flight at once."),
    case_threads: int = typer.Option(1, help="Cases of one batch processed at once (raise for llm backends)."),
    task_runner: str = typer.Option("thread", help="thread (one process) or dask (a local Dask cluster, or the one at --dask-address)."),
    dask_address: str | None = typer.Option(None, help="Scheduler address of a running Dask cluster, for example tcp://10.0.0.5:8786."),
    dask_workers: int = typer.Option(2, help="Worker processes of the local Dask cluster started when --dask-address is not given."),
    allowed_root: list[Path] = typer.Option([], "--allowed-root", help="Extra folder manifest paths may point into; repeatable."),
    dataset_name: str = typer.Option("tumorcot", help="Name written into manifest.json."),
    dry_run: bool = typer.Option(False, help="Check the manifest and plan batches; run and write nothing."),
    no_prefect: bool = typer.Option(False, "--no-prefect", help="Run the same steps in this process without Prefect (no API server)."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip writing report.html."),
) -> None:
    """Run the engine over a case manifest with a progress bar, then print a summary."""
    from engine.config import load_config
    from flows.params import EngineRunParams

    params = EngineRunParams(
        manifest=str(manifest), out=out, config=load_config(config), max_cases=max_cases, batch_size=batch_size,
        concurrency=concurrency, case_threads=case_threads, task_runner=task_runner, dask_address=dask_address, dask_workers=dask_workers,
        allowed_roots=tuple(str(p) for p in allowed_root), dataset_name=dataset_name, dry_run=dry_run, write_report=not no_report,
    )
    summary = _run_with_progress(params, no_prefect)
    _print_summary(summary)
    if summary.cases_done == 0 and not params.dry_run and summary.cases_skipped == 0:
        raise typer.Exit(code=1)


def _run_with_progress(params, no_prefect: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from flows import progress as events
    from flows.engine_flow import run_engine_inline, tumorcot_engine

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("cases"), TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
    task_id = bar.add_task("starting", total=None)

    def on_event(event: str, payload: dict) -> None:
        if event == "planned":
            bar.update(task_id, total=payload["cases"], description=f"{payload['batches']} batches")
        elif event == "batch":
            result = payload["summary"]
            bar.advance(task_id, result.cases_skipped + result.cases_done + result.cases_rejected)

    unsubscribe = events.subscribe(on_event)
    try:
        with bar:
            return run_engine_inline(params) if no_prefect else tumorcot_engine(params)
    finally:
        unsubscribe()


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"run {summary.run_id}" + (" (dry run)" if summary.dry_run else ""), show_header=False)
    rows = [
        ("output", summary.out),
        ("cases planned", summary.cases_planned),
        ("cases skipped (already done)", summary.cases_skipped),
        ("cases with samples", summary.cases_done),
        ("cases rejected", summary.cases_rejected),
        ("samples", summary.samples_total),
        ("samples by task", _fmt(summary.samples_by_task)),
        ("rejected by reason", _fmt(summary.rejects_by_reason)),
        ("repairs", _fmt(summary.repairs_by_strategy)),
        ("tokens (prompt + completion)", f"{summary.prompt_tokens} + {summary.completion_tokens}"),
        ("cost (USD)", f"{summary.cost_usd:.4f}"),
        ("time (s)", f"{summary.seconds:.1f}"),
        ("report", summary.report_path or "-"),
    ]
    for key, value in rows:
        table.add_row(key, str(value))
    console.print(table)


def _fmt(counts: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "-"


@shards_app.command("validate")
def shards_validate(
    folder: str = typer.Argument(..., help="Dataset folder (local path or fsspec URL)."),
    skip_rows: bool = typer.Option(False, "--skip-rows", help="Skip validating every row as a VQASample (faster on big datasets)."),
) -> None:
    """Check schema, checksums, unique sample ids and split-by-case; exit 1 on any problem."""
    from flows.validate import validate_dataset

    result = validate_dataset(folder, check_rows=not skip_rows)
    typer.echo(f"{result.shards} shards, {result.rows} samples, {result.cases} cases")
    for problem in result.problems:
        typer.echo(f"problem: {problem}", err=True)
    if not result.ok:
        raise typer.Exit(code=1)
    typer.echo("valid")


@shards_app.command("stats")
def shards_stats(folder: Path = typer.Argument(..., help="Local dataset folder.")) -> None:
    """Print sample counts by task type, split and organ, computed with DuckDB."""
    from flows.queries import dataset_stats

    for title, table in dataset_stats(folder).items():
        typer.echo(f"\n{title}")
        for row in table.to_pylist():
            typer.echo("  " + "  ".join(str(value) for value in row.values()))


@shards_app.command("sql")
def shards_sql(
    folder: Path = typer.Argument(..., help="Local dataset folder."),
    query: str = typer.Argument(..., help="SQL over the view 'samples' (all listed shards) and 'rejects'."),
) -> None:
    """Run a DuckDB query over the shards and print the result."""
    from flows.queries import run_sql

    typer.echo(str(run_sql(folder, query).to_pandas().to_string(index=False)))


def report(
    folder: str = typer.Argument(..., help="Dataset folder."),
    out: Path | None = typer.Option(None, "--out", help="HTML file to write; defaults to report.html in the dataset folder."),
) -> None:
    """Write the self-contained HTML dataset report."""
    from flows.report_html import build_report_html, write_report
    from flows.storage import Storage

    storage = Storage.open(folder)
    if out is None:
        typer.echo(write_report(storage))
        return
    out.write_text(build_report_html(storage), encoding="utf-8")
    typer.echo(str(out))


def explain(
    sample_id: str = typer.Argument(..., help="Sample id to explain."),
    shards: str = typer.Option(..., "--shards", help="Dataset folder holding manifest.json and shards/."),
) -> None:
    """Print a sample with its chain, each step's KG edge, and the report with evidence spans marked."""
    from flows.explain import explain_sample, format_explanation

    try:
        explanation = explain_sample(shards, sample_id)
    except KeyError as exc:
        typer.echo(str(exc.args[0]), err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(format_explanation(explanation))
