"""`tumorcot kg`: lint, diff, show, render and stage the organ knowledge graphs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Organ knowledge graphs: lint, diff, show, render and AJCC 8 staging.", no_args_is_help=True)

ORGAN_HELP = "Organ: liver, pancreas, stomach, colon or esophagus."


def _load(organ: str, path: Path | None):
    from kg.loader import load_organ
    from kg.problems import KGError

    try:
        return load_organ(organ, path)
    except KeyError as error:
        typer.echo(f"error: {error.args[0]}", err=True)
        raise typer.Exit(2) from error
    except KGError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from error


@app.command()
def lint(
    files: list[Path] = typer.Argument(None, help="KG YAML files or folders to check. Default: the shipped organ files."),
) -> None:
    """Check KG files and print every problem as FILE:LINE: code: message. Exit 1 if any."""
    from kg.lint import lint_files, shipped_files

    paths = files or shipped_files()
    problems = lint_files(paths)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {len(paths)} file(s) checked, no problems")


@app.command()
def diff(
    old: Path = typer.Argument(..., help="KG YAML file before the edit."),
    new: Path = typer.Argument(..., help="KG YAML file after the edit."),
) -> None:
    """List the nodes, edges, synonyms and rules an edit adds (+), removes (-) or changes (~)."""
    from kg.diff import diff_kgs
    from kg.loader import load_file
    from kg.problems import KGError

    try:
        before, after = load_file(old), load_file(new)
    except KGError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from error
    changes = diff_kgs(before, after)
    for change in changes:
        typer.echo(str(change))
    if not changes:
        typer.echo("no changes")


@app.command()
def show(
    organ: str = typer.Argument(..., help=ORGAN_HELP),
    file: Path = typer.Option(None, "--file", help="Read this KG YAML file instead of the shipped one."),
) -> None:
    """Print a summary of one organ's KG: versions, counts, subregions, impressions and staging tables."""
    from kg.render import summary

    typer.echo(summary(_load(organ, file)))


@app.command()
def render(
    organ: str = typer.Argument(..., help=ORGAN_HELP),
    out: Path = typer.Option(..., "--out", help="Output file ending in .html (interactive page), .png or .dot."),
    file: Path = typer.Option(None, "--file", help="Read this KG YAML file instead of the shipped one."),
) -> None:
    """Draw one organ's KG to an HTML page, a PNG image or Graphviz DOT text."""
    from kg.render import RENDER_SUFFIXES
    from kg.render import render as render_kg

    if out.suffix.lower() not in RENDER_SUFFIXES:
        typer.echo(f"error: --out must end in {', '.join(RENDER_SUFFIXES)}, got '{out}'", err=True)
        raise typer.Exit(2)
    written = render_kg(_load(organ, file), out)
    typer.echo(f"wrote {written}")


@app.command()
def stage(
    organ: str = typer.Argument(..., help=ORGAN_HELP),
    facts: str = typer.Option(..., "--facts", help="Facts as a JSON object, or @FILE to read one. Keys are listed by 'kg facts'. Sizes are in mm."),
    table: str = typer.Option(None, "--table", help="Staging table id to force, for example pancreas_net. Default: the table the facts choose."),
    file: Path = typer.Option(None, "--file", help="Read this KG YAML file instead of the shipped one."),
) -> None:
    """Print the AJCC 8 T, N and M categories for the facts as JSON. Exit 2 on invalid facts."""
    from kg.staging import FactError

    text = facts
    if facts.startswith("@"):
        try:
            text = Path(facts[1:]).read_text(encoding="utf-8")
        except OSError as error:
            typer.echo(f"error: cannot read facts file '{facts[1:]}': {error}", err=True)
            raise typer.Exit(2) from error
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        typer.echo(f"error: --facts is not valid JSON ({error.msg} at line {error.lineno} column {error.colno}); "
                   'pass an object such as \'{"max_diameter_mm": 25, "nodes_positive": 0}\'', err=True)
        raise typer.Exit(2) from error

    kg = _load(organ, file)
    try:
        result = kg.stage(parsed, table)
    except FactError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from error
    typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))


@app.command("facts")
def facts_command() -> None:
    """List the fact keys that staging reads, with their type, unit and meaning."""
    from kg.schema import FACTS

    for name, spec in FACTS.items():
        unit = f" [{spec.unit}]" if spec.unit else ""
        typer.echo(f"{name} ({spec.type}){unit}: {spec.description}")
