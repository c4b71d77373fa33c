"""`tumorcot synth`: generate labelled cohorts (procedural phantoms, lesions implanted into a real CT)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Generate synthetic cohorts with known lesions, masks, reports and truth.json.", no_args_is_help=True)


@app.command("phantom")
def phantom(
    n: int = typer.Option(16, "--n", min=1, help="Number of cases to generate."),
    out: Path = typer.Option(..., "--out", help="Output folder; receives one folder per case and manifest.csv/jsonl."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files."),
    normal_fraction: float = typer.Option(0.2, "--normal-fraction", min=0.0, max=1.0, help="Share of cases drawn without any lesion."),
) -> None:
    """Generate procedural abdominal CT phantoms with lesions of known type, size and place."""
    from engine.cohort import make_phantom_cohort

    manifest = make_phantom_cohort(n, out, seed=seed, normal_fraction=normal_fraction)
    typer.echo(f"wrote {n} phantom cases; manifest: {manifest}")


@app.command("implant")
def implant(
    ct: Path = typer.Option(..., "--ct", help="Real CT: NIfTI file or DICOM series folder, in HU."),
    masks: Path = typer.Option(..., "--masks", help="Organ masks of that CT: multilabel NIfTI or folder of binary masks."),
    out: Path = typer.Option(..., "--out", help="Output folder; receives one folder per case and manifest.csv/jsonl."),
    n: int = typer.Option(8, "--n", min=1, help="Number of cases to generate."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files."),
    mask_format: str = typer.Option("auto", "--mask-format", help="Mask layout: auto, multilabel, folder or dicom_seg."),
    label_map: str = typer.Option("totalseg_total", "--label-map", help="Label numbering of a multilabel mask."),
    normal_fraction: float = typer.Option(0.2, "--normal-fraction", min=0.0, max=1.0, help="Share of cases drawn without any lesion."),
) -> None:
    """Implant synthetic lesions into a real CT inside its organ masks."""
    from engine.cohort import implant_cohort
    from engine.imaging import ImagingError

    try:
        manifest = implant_cohort(ct, masks, out, n, seed=seed, mask_format=mask_format, label_map=label_map, normal_fraction=normal_fraction)
    except ImagingError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    typer.echo(f"wrote {n} implanted cases; manifest: {manifest}")


def register(root: typer.Typer) -> None:
    """Add the `synth` command group to the root ``app``."""
    root.add_typer(app, name="synth")
