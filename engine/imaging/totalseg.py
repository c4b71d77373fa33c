"""TotalSegmentator as the segmentation backend, with a weights check and an output cache.

The weights check runs before TotalSegmentator is called, because without weights
TotalSegmentator itself starts downloading them from GitHub. Output is cached per
CT content hash, so a re-run of a case never segments it again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.imaging.errors import SegmentationUnavailable
from engine.imaging.features import DEFAULT_ORGANS
from engine.imaging.volume import CTVolume, write_nifti

logger = logging.getLogger(__name__)

# The segmented structures are the measured organs plus the vessels that staging rules name.
DEFAULT_ROI_SUBSET: tuple[str, ...] = DEFAULT_ORGANS + ("aorta", "inferior_vena_cava", "portal_vein_and_splenic_vein")

# nnU-Net dataset folders of the "total" task in TotalSegmentator 2.x (its
# python_api picks the same task ids): the 3 mm model with fast=True, otherwise
# the five 1.5 mm part models.
FAST_DATASETS = ("Dataset297_TotalSegmentator_total_3mm_1559subj",)
FULL_DATASETS = (
    "Dataset291_TotalSegmentator_part1_organs_1559subj",
    "Dataset292_TotalSegmentator_part2_vertebrae_1532subj",
    "Dataset293_TotalSegmentator_part3_cardiac_1559subj",
    "Dataset294_TotalSegmentator_part4_muscles_1559subj",
    "Dataset295_TotalSegmentator_part5_ribs_1559subj",
)

Runner = Callable[..., object]


def totalseg_home() -> Path:
    """Return TotalSegmentator's home folder: $TOTALSEG_HOME_DIR, else ~/.totalsegmentator."""
    configured = os.environ.get("TOTALSEG_HOME_DIR")
    return Path(configured) if configured else Path.home() / ".totalsegmentator"


def weights_dir() -> Path:
    """Return the folder TotalSegmentator reads weights from: $TOTALSEG_WEIGHTS_PATH, else <home>/nnunet/results."""
    configured = os.environ.get("TOTALSEG_WEIGHTS_PATH")
    return Path(configured) if configured else totalseg_home() / "nnunet" / "results"


class TotalSegmentatorBackend:
    """One TotalSegmentator setup per worker: settings, the imported API, and the per-CT output cache.

    ``runner`` replaces ``totalsegmentator.python_api.totalsegmentator`` (same
    keyword arguments); tests pass a fake model there.
    """

    def __init__(
        self,
        fast: bool = True,
        device: str = "cpu",
        roi_subset: Sequence[str] = DEFAULT_ROI_SUBSET,
        cache_dir: str | Path | None = ".tumorcot-cache/totalseg",
        runner: Runner | None = None,
    ):
        self.fast = fast
        self.device = device
        self.roi_subset = tuple(roi_subset)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._runner = runner
        self.calls = 0

    @property
    def required_datasets(self) -> tuple[str, ...]:
        """nnU-Net dataset folders this configuration needs."""
        return FAST_DATASETS if self.fast else FULL_DATASETS

    def check_available(self) -> None:
        """Raise SegmentationUnavailable, naming the folder and the install command, when weights are missing."""
        folder = weights_dir()
        missing = [name for name in self.required_datasets if not (folder / name).is_dir()]
        if not missing:
            return
        task = "total_fast" if self.fast else "total"
        raise SegmentationUnavailable(
            f"TotalSegmentator weights are not installed: {', '.join(missing)} not found in {folder}. "
            f"Install them with `totalseg_download_weights -t {task}`, or set TOTALSEG_WEIGHTS_PATH to a folder that "
            "holds them; or pass organ masks with --masks",
            file=str(folder),
            field="TOTALSEG_WEIGHTS_PATH",
        )

    def segment(self, ct: CTVolume, case_id: str = "") -> Path:
        """Return the multilabel NIfTI of ``ct`` ("total" numbering), from the cache or by running TotalSegmentator."""
        cached = self._cache_path(ct)
        if cached is not None and cached.is_file():
            logger.info("case %r: TotalSegmentator output cached for CT %s", case_id, ct.sha256[:12])
            return cached

        try:
            self.check_available()
            runner = self._load_runner()
        except SegmentationUnavailable as error:
            raise error.with_case(case_id) from None
        _disable_usage_stats()

        with tempfile.TemporaryDirectory(prefix="tumorcot-totalseg-") as work:
            source = write_nifti(ct.hu, ct.affine, Path(work) / "ct.nii.gz")
            output = Path(work) / "seg.nii.gz"
            logger.info("case %r: running TotalSegmentator (fast=%s, device=%s, %d structures)", case_id, self.fast, self.device, len(self.roi_subset))
            runner(source, output, ml=True, fast=self.fast, device=self.device, roi_subset=list(self.roi_subset), quiet=True)
            self.calls += 1
            target = cached if cached is not None else Path(tempfile.mkdtemp(prefix="tumorcot-totalseg-out-")) / f"{ct.sha256}.nii.gz"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(output), target)
        return target

    def _cache_path(self, ct: CTVolume) -> Path | None:
        if self.cache_dir is None or not ct.sha256:
            return None
        mode = "fast" if self.fast else "full"
        return self.cache_dir / f"{ct.sha256}-{mode}.nii.gz"

    def _load_runner(self) -> Runner:
        # NOTE: TotalSegmentator 2.18's Python API builds a new nnU-Net predictor on every call, so the weights are
        # re-read per case. This backend keeps the imported API and the output cache for the worker's lifetime.
        if self._runner is None:
            try:
                from totalsegmentator.python_api import totalsegmentator
            except ImportError as exc:
                raise SegmentationUnavailable(
                    f"the totalsegmentator package is not installed ({exc}); install the segment extra: pip install 'tumorcot[segment]'"
                ) from exc
            self._runner = totalsegmentator
        return self._runner


def _disable_usage_stats() -> None:
    """Write send_usage_stats=false into TotalSegmentator's config.json, keeping its other keys."""
    home = totalseg_home()
    home.mkdir(parents=True, exist_ok=True)
    config_path = home / "config.json"
    config: dict = {}
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            logger.warning("TotalSegmentator config %s is invalid JSON; rewriting it", config_path)
    if config.get("send_usage_stats") is False:
        return
    config.setdefault("totalseg_id", "tumorcot")
    config.setdefault("prediction_counter", 0)
    config["send_usage_stats"] = False
    config_path.write_text(json.dumps(config, indent=4), encoding="utf-8")
