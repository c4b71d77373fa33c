"""Organ, lesion and subregion masks in every supported layout, on the CT grid.

Layouts: one multilabel NIfTI with a label numbering, a folder of one binary
NIfTI per structure named ``<structure>.nii.gz`` (TotalSegmentator's default
output), or a DICOM SEG object.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from engine.imaging.align import align_to_reference
from engine.imaging.dicom_seg import read_dicom_seg
from engine.imaging.errors import ImagingError
from engine.imaging.labelmaps import resolve_label_map
from engine.imaging.nifti import is_nifti_path, read_nifti
from engine.imaging.volume import CTVolume, LabelVolume

logger = logging.getLogger(__name__)

MASK_FORMATS = ("auto", "multilabel", "folder", "dicom_seg")


def load_label_volume(
    path: str | Path, reference: CTVolume, fmt: str = "auto", label_map: str | dict[int, str] = "totalseg_total", case_id: str = ""
) -> LabelVolume:
    """Load masks from ``path`` onto the grid of ``reference``.

    ``fmt`` is one of ``MASK_FORMATS``; ``auto`` chooses by the path (folder,
    .nii/.nii.gz, otherwise DICOM SEG). ``label_map`` names the labels of a
    multilabel NIfTI and gives the label values of a folder's structures; a DICOM
    SEG names its own segments. Raises ImagingError with ``missing_file``,
    ``corrupt_file``, ``shape_mismatch``, ``affine_mismatch`` or ``orientation_mismatch``.
    """
    path = Path(path)
    try:
        fmt = _detect_format(path, fmt, case_id)
        if fmt == "folder":
            return _load_folder(path, reference, label_map, case_id)
        if fmt == "dicom_seg":
            labels, names = read_dicom_seg(path, reference, case_id)
            return LabelVolume(labels, reference.affine, names, str(path), (), "dicom_seg")
        return _load_multilabel(path, reference, label_map, case_id)
    except ImagingError as error:
        raise error.with_case(case_id) from error.__cause__


def _detect_format(path: Path, fmt: str, case_id: str) -> str:
    if fmt not in MASK_FORMATS:
        raise ImagingError("invalid_manifest_row", f"unknown mask format {fmt!r}; use one of {', '.join(MASK_FORMATS)}", file=str(path), field="mask_format", case_id=case_id)
    if not path.exists():
        raise ImagingError("missing_file", f"mask path not found: {path}", file=str(path), field="masks_path", case_id=case_id)
    if fmt != "auto":
        return fmt
    if path.is_dir():
        return "folder"
    return "multilabel" if is_nifti_path(path) else "dicom_seg"


def _integer_labels(array: np.ndarray, path: Path, case_id: str) -> np.ndarray:
    if not np.issubdtype(array.dtype, np.integer):
        rounded = np.rint(array)
        if not np.allclose(array, rounded, atol=1e-3):
            raise ImagingError("corrupt_file", f"mask {path.name} contains non-integer values; expected integer label numbers", file=str(path), field="voxel values", case_id=case_id)
        array = rounded
    if array.min() < 0:
        raise ImagingError("corrupt_file", f"mask {path.name} contains negative labels (minimum {array.min()})", file=str(path), field="voxel values", case_id=case_id)
    return array.astype(np.uint16 if array.max() > 255 else np.uint8, copy=False)


def _load_multilabel(path: Path, reference: CTVolume, label_map: str | dict[int, str], case_id: str) -> LabelVolume:
    image = read_nifti(path, case_id)
    labels, flags = align_to_reference(image, reference, str(path), case_id)
    labels = _integer_labels(labels, path, case_id)
    present = [int(v) for v in np.unique(labels) if v > 0]
    names = resolve_label_map(label_map, present if label_map == "lesions" else None)
    if isinstance(label_map, str) and label_map.startswith("totalseg_"):
        _check_mask_name(path, present, names, label_map, case_id)
    return LabelVolume(labels, reference.affine, names, str(path), flags, "multilabel")


def _load_folder(folder: Path, reference: CTVolume, label_map: str | dict[int, str], case_id: str) -> LabelVolume:
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_nifti_path(p))
    if not files:
        raise ImagingError("missing_file", f"no .nii or .nii.gz mask files in folder {folder}", file=str(folder), field="masks_path", case_id=case_id)

    known = {} if label_map == "lesions" else {name: value for value, name in resolve_label_map(label_map).items()}
    next_value = max(known.values(), default=0) + 1
    labels = np.zeros(reference.shape_xyz, dtype=np.uint16)
    names: dict[int, str] = {}
    flags = []
    for file in files:
        structure = file.name[: -len(".nii.gz")] if file.name.lower().endswith(".nii.gz") else file.stem
        value = known.get(structure)
        if value is None:
            value, next_value = next_value, next_value + 1
        mask, file_flags = align_to_reference(read_nifti(file, case_id), reference, str(file), case_id)
        labels[mask > 0.5] = value  # overlapping structures: the later file (by name) wins
        names[value] = structure
        flags.extend(file_flags)
    logger.debug("case %r: read %d structure masks from %s", case_id, len(files), folder)
    return LabelVolume(labels, reference.affine, names, str(folder), tuple(flags), "folder")


def _check_mask_name(path: Path, present: list[int], names: dict[int, str], label_map: str, case_id: str) -> None:
    """Reject a mask whose file name names structures that none of its label values denote.

    A binary ``liver_seg.nii.gz`` (values 0 and 1) read with the TotalSegmentator
    numbering would otherwise be measured as label 1, the spleen.
    """
    words = set(path.name.lower().replace("-", "_").replace(".", "_").split("_"))
    named = {value: name for value, name in names.items() if name in words}
    if not present or not named or set(named) & set(present):
        return
    found = ", ".join(f"{value} ('{names.get(value, 'unnamed')}')" for value in present[:5])
    example = ", ".join(f'"{value}": "NAME"' for value in present[:3])
    raise ImagingError(
        "invalid_manifest_row",
        f"mask {path.name} is named after {', '.join(sorted(named.values()))}, but its label values {found} are other "
        f"structures in {label_map}; pass --label-map with a JSON file such as {{{example}}}",
        file=str(path), field="label_map", case_id=case_id,
    )
