"""DICOM SEG objects mapped onto a CT grid frame by frame.

A SEG object's frames may come in any order and may skip empty slices, so each
frame is placed by its own ImagePositionPatient (PerFrameFunctionalGroups),
never by its index in the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from engine.imaging.dicom import LPS_TO_RAS, SEG_SOP_CLASS_UID
from engine.imaging.errors import ImagingError
from engine.imaging.volume import CTVolume

GRID_ATOL_VOXELS = 0.05
"""A SEG pixel must land within this many voxels of a CT voxel centre."""


def read_dicom_seg(path: str | Path, reference: CTVolume, case_id: str = "") -> tuple[np.ndarray, dict[int, str]]:
    """Return the SEG's label map on the grid of ``reference`` (label = segment number) and segment names."""
    import pydicom

    path = Path(path)
    if not path.is_file():
        raise ImagingError("missing_file", f"DICOM SEG file not found: {path}", file=str(path), case_id=case_id)
    try:
        dataset = pydicom.dcmread(str(path))
        frames = dataset.pixel_array
    except Exception as exc:  # pydicom raises several types for truncated or damaged files
        raise ImagingError("corrupt_file", f"cannot read DICOM SEG {path.name}: {type(exc).__name__}: {exc}", file=str(path), case_id=case_id) from exc
    if getattr(dataset, "SOPClassUID", None) != SEG_SOP_CLASS_UID:
        raise ImagingError("corrupt_file", f"{path.name} is not a DICOM SEG object (SOPClassUID {dataset.get('SOPClassUID')})", file=str(path), field="SOPClassUID", case_id=case_id)

    frames = frames.reshape((-1, int(dataset.Rows), int(dataset.Columns)))
    threshold = _foreground_threshold(dataset)
    labels = np.zeros(reference.shape_xyz, dtype=np.uint16)
    per_frame = dataset.PerFrameFunctionalGroupsSequence
    shared = dataset.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in dataset else None
    for index, frame in enumerate(frames):
        groups = per_frame[index]
        segment = int(groups.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        to_ct = np.linalg.inv(reference.affine) @ _frame_affine_ras(groups, shared)
        _paste_frame(labels, frame > threshold, to_ct, segment, path, index, case_id)
    return labels, _segment_names(dataset)


def _foreground_threshold(dataset) -> float:
    if str(getattr(dataset, "SegmentationType", "BINARY")).upper() == "FRACTIONAL":
        return float(getattr(dataset, "MaximumFractionalValue", 255)) / 2.0
    return 0.0


def _frame_affine_ras(groups, shared) -> np.ndarray:
    def find(sequence_name: str):
        if sequence_name in groups:
            return getattr(groups, sequence_name)[0]
        return getattr(shared, sequence_name)[0]

    position = np.asarray(groups.PlanePositionSequence[0].ImagePositionPatient, dtype=np.float64)
    orientation = np.asarray(find("PlaneOrientationSequence").ImageOrientationPatient, dtype=np.float64)
    row_spacing, col_spacing = (float(v) for v in find("PixelMeasuresSequence").PixelSpacing)
    row_dir, col_dir = orientation[:3], orientation[3:]

    affine_lps = np.eye(4)
    affine_lps[:3, 0] = row_dir * col_spacing
    affine_lps[:3, 1] = col_dir * row_spacing
    affine_lps[:3, 2] = np.cross(row_dir, col_dir)
    affine_lps[:3, 3] = position
    return LPS_TO_RAS @ affine_lps


def _paste_frame(labels: np.ndarray, mask: np.ndarray, to_ct: np.ndarray, segment: int, path: Path, index: int, case_id: str) -> None:
    # A frame fits the CT grid when its in-plane steps are whole CT voxel steps and its origin lies on a voxel centre.
    steps = to_ct[:3, :2]
    if not np.allclose(steps, np.round(steps), atol=1e-3) or not np.allclose(np.abs(np.round(steps)).sum(axis=0), 1):
        raise ImagingError(
            "orientation_mismatch",
            f"frame {index} of {path.name} is not on the CT grid (pixel spacing or orientation differ: steps {np.round(steps, 4).tolist()} in CT voxels)",
            file=str(path),
            field="PlaneOrientationSequence/PixelMeasuresSequence",
            case_id=case_id,
        )
    origin = to_ct[:3, 3]
    if not np.allclose(origin, np.round(origin), atol=GRID_ATOL_VOXELS):
        raise ImagingError(
            "affine_mismatch",
            f"frame {index} of {path.name} starts between CT voxel centres (CT index {np.round(origin, 3).tolist()})",
            file=str(path),
            field="ImagePositionPatient",
            case_id=case_id,
        )

    rows, cols = np.nonzero(mask)  # mask is (row, column); column index steps along the frame's first axis
    if rows.size == 0:
        return
    ijk = np.rint(steps @ np.stack([cols, rows]) + origin[:, None]).astype(np.int64)
    inside = np.all((ijk >= 0) & (ijk < np.asarray(labels.shape)[:, None]), axis=0)
    if not inside.all():
        raise ImagingError(
            "affine_mismatch",
            f"frame {index} of {path.name} (segment {segment}) has {int((~inside).sum())} foreground pixels outside the CT volume",
            file=str(path),
            field="ImagePositionPatient",
            case_id=case_id,
        )
    labels[ijk[0], ijk[1], ijk[2]] = segment


def _segment_names(dataset) -> dict[int, str]:
    names: dict[int, str] = {}
    for segment in getattr(dataset, "SegmentSequence", []):
        label = str(getattr(segment, "SegmentLabel", "") or f"segment_{segment.SegmentNumber}")
        names[int(segment.SegmentNumber)] = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
    return names
