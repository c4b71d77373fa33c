"""Reject records and the registry of reason codes.

Every case (or organ of a case) that produces no samples gets one reject row
with a code from ``REASON_CODES``; flags that travel with accepted samples use
the same codes. Add a code here, with its meaning, before using it.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from data_contracts.base import Record

REASON_CODES: dict[str, str] = {
    # Input and files
    "missing_file": "A file or folder named in the manifest does not exist.",
    "corrupt_file": "A file exists but cannot be decoded (bad gzip, truncated NIfTI, bad DICOM codestream).",
    "path_outside_root": "A manifest path resolves outside the allowed input roots.",
    "duplicate_case_id": "Two manifest rows share one case id.",
    "invalid_manifest_row": "A manifest row is missing a required column or has an invalid value.",
    # Imaging QA gates
    "not_hu": "CT values are not Hounsfield units (normalized or missing rescale).",
    "shape_mismatch": "CT and mask arrays have different shapes on the same grid.",
    "affine_mismatch": "CT and mask affines disagree beyond the tolerance.",
    "orientation_mismatch": "CT and mask are stored in different axis orientations.",
    "qform_sform_mismatch": "A NIfTI file's qform and sform disagree; the sform was used.",
    "uneven_slice_spacing": "DICOM slice positions are unevenly spaced (a missing slice).",
    "empty_organ": "An organ mask the report needs is empty (organ not found).",
    "truncated_fov": "An organ mask touches the scan edge (truncated field of view).",
    "implausible_volume": "An organ volume lies outside plausible adult ranges.",
    "segmentation_unavailable": "No masks were given and the segmentation backend cannot run.",
    # Report text
    "report_missing": "The case has no radiology report.",
    "report_empty": "The report has no text.",
    "report_binary": "The report file is binary, not text.",
    "report_too_large": "The report file exceeds the size limit.",
    "report_decode": "The report could not be decoded as text in any supported encoding.",
    "unsupported_language": "The report language has no KG synonyms.",
    "no_findings": "No lesion or organ statement could be extracted.",
    "inconsistent_location": "The same lesion is placed differently in findings and conclusion.",
    "implausible_size": "A stated size is impossible for its organ (unit error suspected).",
    "stage_edition_mismatch": "A stated stage uses another AJCC edition than the computed AJCC 8 stage.",
    # Reasoning and calibration
    "kg_edge_missing": "A chain triplet is not an edge of the organ KG.",
    "kg_contradiction": "A chain triplet contradicts a KG edge.",
    "hallucinated_finding": "A chain cites a finding, size or location absent from the extracted features.",
    "unsupported_impression": "An impression has no supporting finding.",
    "contradicted_impression": "An impression has a contradicting finding.",
    "misplaced_staging_context": "Lymph nodes or distant disease appear outside a staged malignant primary's chain, or as evidence of what a lesion is.",
    "imaging_text_mismatch": "Imaging and report disagree (organ without mask, lesion box outside its organ).",
    "stage_mismatch": "A chain's stage disagrees with the KG's AJCC 8 rules on the extracted facts.",
    "pathology_discordance": "The chain's conclusion contradicts the pathology report.",
    # LLM layer
    "llm_invalid_output": "The model's reply failed schema validation after one corrective retry.",
    "llm_refused": "The model refused to answer.",
    "llm_failed": "The provider kept failing (timeouts, 429, 5xx) after all retries.",
    "budget_exhausted": "The LLM budget for the run was reached.",
    "external_provider_not_allowed": "The configured LLM provider is outside llm.local_hosts and llm.allow_external is false.",
    "evidence_not_found": "A quote the LLM gave as evidence does not occur in the source text; the evidence was dropped.",
    # Anything else
    "internal_error": "An unexpected error in TumorCoT itself; the message has the exception.",
}


class RejectRecord(Record):
    """One row of ``rejects.parquet``."""

    case_id: str
    agent: str = Field(description="Stage that rejected the case: manifest, segmenter, extractor, reasoner, calibrator, summarizer, composer, writer.")
    reason_code: str
    message: str
    organ: str | None = None
    file: str | None = None
    field: str | None = None
    input_hash: str | None = None
    run_id: str | None = None
    rejected_at: dt.datetime | None = None

    @field_validator("reason_code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in REASON_CODES:
            raise ValueError(f"unknown reason code {code!r}; add it to data_contracts.rejects.REASON_CODES")
        return code
