"""The case input: one CT study with its masks and report texts, as a manifest row."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from data_contracts.base import Record

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

MaskFormat = Literal["auto", "multilabel", "folder", "dicom_seg"]


class KeyValue(Record):
    """One metadata entry of a case (for example scanner model or contrast phase)."""

    key: str
    value: str


class CaseInput(Record):
    """One row of a case manifest. Paths are absolute once the manifest reader has resolved them."""

    case_id: str = Field(pattern=CASE_ID_PATTERN, description="Unique id of the case within the manifest.")
    ct_path: str = Field(min_length=1, description="CT as a NIfTI file or a DICOM series folder.")
    masks_path: str | None = Field(default=None, description="Organ masks: multilabel NIfTI, folder of binary masks, or DICOM SEG. None runs the segmentation backend.")
    mask_format: MaskFormat = "auto"
    label_map: str = Field(default="totalseg_total", description="Name of the label numbering of a multilabel mask.")
    lesions_path: str | None = Field(default=None, description="Optional lesion masks, in any mask format.")
    imaging_features_path: str | None = Field(default=None, description="Precomputed ImagingFeatures JSON; when set, the segmenter reads it instead of the images.")
    liver_segments_path: str | None = Field(default=None, description="Optional Couinaud segment masks (TotalSegmentator task liver_segments).")
    report_path: str | None = Field(default=None, description="Radiology report text file.")
    pathology_path: str | None = Field(default=None, description="Pathology report text file.")
    patient_id: str | None = Field(default=None, description="Patient id; cases of one patient always share a split.")
    language: str | None = Field(default=None, description="Language of the reports as a BCP-47 tag (en, zh); None detects it.")
    metadata: tuple[KeyValue, ...] = ()
