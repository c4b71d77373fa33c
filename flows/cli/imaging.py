"""`tumorcot segment`: imaging features of one CT as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``segment`` command to the root ``app``."""
    app.command("segment")(segment)


def segment(
    ct: Path = typer.Option(..., "--ct", help="CT as a NIfTI file or a DICOM series folder."),
    masks: Path | None = typer.Option(None, "--masks", help="Organ masks: multilabel NIfTI, folder of binary masks, or DICOM SEG. Omitted: run TotalSegmentator."),
    lesions: Path | None = typer.Option(None, "--lesions", help="Lesion masks, in any mask format."),
    segments: Path | None = typer.Option(None, "--segments", help="Liver Couinaud segment masks (TotalSegmentator task liver_segments)."),
    label_map: str = typer.Option("totalseg_total", "--label-map", help="Label numbering of a multilabel mask: totalseg_total, or a JSON file {value: name}."),
    case_id: str = typer.Option("cli", "--case-id", help="Case id named in messages and in the output."),
    required: list[str] = typer.Option([], "--require", help="Organ the report needs; an empty mask rejects the case. Repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print the features as JSON instead of a table."),
    out: Path | None = typer.Option(None, "--out", help="Write the features JSON to this file."),
    fast: bool = typer.Option(True, "--fast/--full", help="TotalSegmentator model: 3 mm (fast) or 1.5 mm (full)."),
    device: str = typer.Option("cpu", "--device", help="TotalSegmentator device: cpu, gpu or gpu:N."),
) -> None:
    """Measure organs and lesions of one CT and run the imaging QA gates."""
    from engine.imaging import ImagingError, compute_features, load_ct, load_label_volume, run_qa_gates

    try:
        volume = load_ct(ct, case_id)
        if masks is None:
            from engine.imaging.totalseg import TotalSegmentatorBackend

            masks_path, source = TotalSegmentatorBackend(fast=fast, device=device).segment(volume, case_id), "totalsegmentator"
        else:
            masks_path, source = masks, "given"
        organs = load_label_volume(masks_path, volume, "auto", label_map, case_id)
        lesion_volume = load_label_volume(lesions, volume, "auto", "lesions", case_id) if lesions else None
        segment_volume = load_label_volume(segments, volume, "auto", "totalseg_liver_segments", case_id) if segments else None
        features = compute_features(case_id, volume, organs, lesion_volume, segment_volume, mask_source=source)
        flags = run_qa_gates(case_id, volume, organs, features, required_organs=required)
    except ImagingError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(code=2) from error

    features = features.model_copy(update={"flags": features.flags + tuple(flags)})
    document = features_document(features)
    text = json.dumps(document, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    if as_json:
        typer.echo(text)
    elif out is None:
        _print_table(document)


def features_document(features) -> dict:
    """Return the features as a JSON-ready dict with organs keyed by name."""
    document = features.model_dump(mode="json")
    document["organs"] = {organ.pop("organ"): organ for organ in document["organs"]}
    return document


def _print_table(document: dict) -> None:
    typer.echo(f"case {document['case_id']}: shape {document['shape_xyz']}, spacing {document['spacing_mm_xyz']} mm")
    for name, organ in document["organs"].items():
        if organ["present"]:
            edge = " (touches scan edge)" if organ["touches_edge"] else ""
            typer.echo(f"  {name:<14} {organ['volume_ml']:9.1f} mL  HU {organ['hu_mean']:7.1f}{edge}")
        else:
            typer.echo(f"  {name:<14} not found")
    for lesion in document["lesions"]:
        typer.echo(f"  {lesion['lesion_id']}: {lesion['organ']} {lesion['max_axial_diameter_mm']:.1f} mm, {lesion['volume_ml']:.2f} mL")
    for flag in document["flags"]:
        typer.echo(f"  flag {flag['code']}: {flag['message']}")
