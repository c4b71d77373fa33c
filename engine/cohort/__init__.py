"""Cohort tools: procedural phantom CTs and lesions implanted into real CTs, with matching reports.

Public API:

- ``make_phantom_cohort(n, out_dir, seed=0, ...) -> Path``: phantom cases and ``manifest.csv``.
- ``implant_cohort(ct, masks, out_dir, n, seed=0, ...) -> Path``: lesions blended into a real CT.
- ``read_manifest_rows(manifest) -> list[CaseInput]``: the manifest with absolute paths.

Each case folder contains ``ct.nii.gz`` (int16 HU), ``masks.nii.gz`` (TotalSegmentator
"total" numbering), ``lesions.nii.gz`` (label i = lesion i of truth.json),
``liver_segments.nii.gz`` (Couinaud 1-8), ``report.txt``, ``pathology.txt`` (resected
malignant cases only) and ``truth.json``.
"""

from engine.cohort.implant import implant_cohort
from engine.cohort.manifest import read_manifest_rows
from engine.cohort.phantom import make_phantom_cohort

__all__ = ["implant_cohort", "make_phantom_cohort", "read_manifest_rows"]
