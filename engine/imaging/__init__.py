"""Imaging input, features and QA gates of the segmentation expert.

Public API (arrays are RAS+ closest-canonical, index order (x, y, z)):

- ``load_ct(path, case_id="") -> CTVolume``: NIfTI file or DICOM series folder, in HU.
- ``load_label_volume(path, reference, fmt="auto", label_map="totalseg_total", case_id="") -> LabelVolume``:
  multilabel NIfTI, folder of binary masks or DICOM SEG, on the CT grid.
- ``compute_features(case_id, ct, organs, lesions=None, segments=None, organ_names=DEFAULT_ORGANS, ...) -> ImagingFeatures``.
- ``run_qa_gates(case_id, ct, organs, features, required_organs=()) -> list[Flag]``.
- ``write_nifti(array, affine, path)``.
- ``TotalSegmentatorBackend`` in ``engine.imaging.totalseg`` (imported lazily from there).

Exceptions: ``ImagingError`` (a ValueError with ``reason_code``, ``file``,
``field``, ``case_id``) for every rejected input; ``SegmentationUnavailable``,
its subclass, when TotalSegmentator cannot run.
"""

from engine.imaging.ct import load_ct
from engine.imaging.errors import ImagingError, SegmentationUnavailable
from engine.imaging.features import DEFAULT_ORGANS, compute_features
from engine.imaging.labels import MASK_FORMATS, load_label_volume
from engine.imaging.qa import ORGAN_VOLUME_RANGES_ML, run_qa_gates
from engine.imaging.volume import CTVolume, LabelVolume, write_nifti

__all__ = [
    "DEFAULT_ORGANS",
    "MASK_FORMATS",
    "ORGAN_VOLUME_RANGES_ML",
    "CTVolume",
    "ImagingError",
    "LabelVolume",
    "SegmentationUnavailable",
    "compute_features",
    "load_ct",
    "load_label_volume",
    "run_qa_gates",
    "write_nifti",
]
