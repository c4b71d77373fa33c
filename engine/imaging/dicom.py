"""DICOM CT series and DICOM SEG reading with pydicom.

Slices are ordered by the projection of ImagePositionPatient onto the slice
normal, and the z spacing comes from those positions. SliceThickness and
SpacingBetweenSlices are never read, because scanners often write a thickness
that differs from the spacing (3 mm thick slices every 2 mm, for example).
DICOM patient coordinates are LPS; they are converted to RAS here, once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.imaging.errors import ImagingError
from engine.imaging.nifti import CanonicalImage, reorient_to_ras

logger = logging.getLogger(__name__)

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
SLICE_SPACING_RTOL = 0.1
"""Slice gaps may differ from their median by at most this fraction; a missing slice doubles one gap."""
SEG_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.66.4"
CT_IMAGE_SOP_CLASS_UIDS = frozenset({"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1"})
"""CT Image Storage and Enhanced CT Image Storage: files of these classes must carry pixel data."""


@dataclass(frozen=True)
class _Slice:
    path: Path
    dataset: object
    position: float


def read_dicom_series(folder: str | Path, case_id: str = "") -> CanonicalImage:
    """Read the CT series in ``folder`` into HU (float32), reoriented to RAS+.

    Raises ImagingError ``missing_file`` (no image slices), ``corrupt_file``
    (unreadable file or pixel data, naming the file) or ``uneven_slice_spacing``.
    """
    folder = Path(folder)
    slices = _read_series_headers(folder, case_id)
    first = slices[0].dataset
    row_dir, col_dir, normal = _orientation_vectors(first)
    _check_even_spacing(slices, folder, case_id)

    volume = np.empty((int(first.Columns), int(first.Rows), len(slices)), dtype=np.float32)
    for k, item in enumerate(slices):
        volume[:, :, k] = _slice_hu(item, case_id).T  # pixel_array is (row, column); the volume axis 0 runs along a row

    row_spacing, col_spacing = (float(v) for v in first.PixelSpacing)
    z_spacing = (slices[-1].position - slices[0].position) / (len(slices) - 1) if len(slices) > 1 else 1.0
    affine_lps = np.eye(4)
    affine_lps[:3, 0] = row_dir * col_spacing
    affine_lps[:3, 1] = col_dir * row_spacing
    affine_lps[:3, 2] = normal * z_spacing
    affine_lps[:3, 3] = np.asarray(first.ImagePositionPatient, dtype=np.float64)
    return reorient_to_ras(volume, LPS_TO_RAS @ affine_lps)


def _read_series_headers(folder: Path, case_id: str) -> list[_Slice]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not folder.is_dir():
        raise ImagingError("missing_file", f"DICOM folder not found: {folder}", file=str(folder), case_id=case_id)

    series: dict[str, list] = defaultdict(list)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            dataset = pydicom.dcmread(str(path), stop_before_pixels=False)
        except InvalidDicomError:
            if path.suffix.lower() == ".dcm":
                raise ImagingError("corrupt_file", f"{path.name} is not a valid DICOM file", file=str(path), case_id=case_id) from None
            logger.debug("skipping non-DICOM file %s", path)
            continue
        except Exception as exc:  # pydicom raises several types for truncated or damaged files
            raise ImagingError("corrupt_file", f"cannot read DICOM file {path.name}: {type(exc).__name__}: {exc}", file=str(path), case_id=case_id) from exc
        if _is_incomplete_image(dataset):
            raise ImagingError(
                "corrupt_file", f"DICOM image {path.name} ends before its pixel data or slice position (truncated file)", file=str(path), field="PixelData", case_id=case_id
            )
        if getattr(dataset, "SOPClassUID", None) == SEG_SOP_CLASS_UID or "PixelData" not in dataset or "ImagePositionPatient" not in dataset:
            continue
        series[str(getattr(dataset, "SeriesInstanceUID", ""))].append((path, dataset))

    if not series:
        raise ImagingError("missing_file", f"no DICOM image slices with ImagePositionPatient in {folder}", file=str(folder), case_id=case_id)
    # NOTE: a folder with several series is read as its largest series; split series into folders to choose another.
    uid, members = max(series.items(), key=lambda item: len(item[1]))
    if len(series) > 1:
        logger.warning("case %r: %s contains %d series; reading series %s with %d slices", case_id, folder, len(series), uid, len(members))

    _, _, normal = _orientation_vectors(members[0][1])
    slices = [_Slice(path, ds, float(np.dot(np.asarray(ds.ImagePositionPatient, dtype=np.float64), normal))) for path, ds in members]
    return sorted(slices, key=lambda item: item.position)


def _is_incomplete_image(dataset) -> bool:
    """Return True for a CT image file (by its file meta SOP class) that lacks pixel data or a slice position."""
    sop_class = str(getattr(getattr(dataset, "file_meta", None), "MediaStorageSOPClassUID", ""))
    return sop_class in CT_IMAGE_SOP_CLASS_UIDS and ("PixelData" not in dataset or "ImagePositionPatient" not in dataset)


def _orientation_vectors(dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    orientation = np.asarray(dataset.ImageOrientationPatient, dtype=np.float64)
    row_dir, col_dir = orientation[:3], orientation[3:]
    return row_dir, col_dir, np.cross(row_dir, col_dir)


def _check_even_spacing(slices: list[_Slice], folder: Path, case_id: str) -> None:
    if len(slices) < 3:
        return
    gaps = np.diff([item.position for item in slices])
    median = float(np.median(gaps))
    if median <= 0:
        raise ImagingError("uneven_slice_spacing", f"two or more slices share one position in {folder}", file=str(folder), field="ImagePositionPatient", case_id=case_id)
    uneven = np.flatnonzero(np.abs(gaps - median) > SLICE_SPACING_RTOL * median)
    if uneven.size:
        where = ", ".join(f"{slices[i].path.name}->{slices[i + 1].path.name} ({gaps[i]:.2f} mm)" for i in uneven[:5])
        raise ImagingError(
            "uneven_slice_spacing",
            f"slice positions are unevenly spaced (median gap {median:.2f} mm): {where}. A slice is probably missing; re-export the complete series",
            file=str(folder),
            field="ImagePositionPatient",
            case_id=case_id,
        )


def _slice_hu(item: _Slice, case_id: str) -> np.ndarray:
    dataset = item.dataset
    try:
        pixels = dataset.pixel_array
    except Exception as exc:  # decoders (Pillow, GDCM, pylibjpeg) raise their own types for a damaged codestream
        syntax = getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", None)
        syntax_name = getattr(syntax, "name", str(syntax))
        raise ImagingError(
            "corrupt_file",
            f"cannot decode the pixel data of {item.path.name} (transfer syntax {syntax_name}): {type(exc).__name__}: {exc}. "
            "The codestream may be truncated; re-export the slice, or install a decoder (pillow, python-gdcm or pylibjpeg-openjpeg) if none is present",
            file=str(item.path),
            field="PixelData",
            case_id=case_id,
        ) from exc
    slope = float(getattr(dataset, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(dataset, "RescaleIntercept", 0.0) or 0.0)
    return pixels.astype(np.float32) * np.float32(slope) + np.float32(intercept)
