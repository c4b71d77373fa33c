"""TotalSegmentator backend: missing weights fail offline and clearly; a fake model drives the real call path."""

from __future__ import annotations

import json
import shutil
import socket

import numpy as np
import pytest

from engine.imaging import SegmentationUnavailable, compute_features, load_ct, load_label_volume
from engine.imaging.totalseg import FAST_DATASETS, TotalSegmentatorBackend


@pytest.fixture
def no_network(monkeypatch):
    def refuse(self, address):
        raise AssertionError(f"network connection attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def example_ct(shared_data):
    return load_ct(shared_data / "totalseg_example" / "example_ct_sm.nii.gz", "example")


def test_missing_weights_message_without_network(tmp_path, monkeypatch, no_network, example_ct):
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    backend = TotalSegmentatorBackend(fast=True, cache_dir=tmp_path / "cache")
    with pytest.raises(SegmentationUnavailable) as caught:
        backend.segment(example_ct, "example")
    message = str(caught.value)

    assert caught.value.reason_code == "segmentation_unavailable"
    assert str(tmp_path / "home" / "nnunet" / "results") in message
    assert "totalseg_download_weights -t total_fast" in message
    assert "TOTALSEG_WEIGHTS_PATH" in message
    assert "example" in message


def test_fake_model_output_read_and_cached(tmp_path, monkeypatch, no_network, shared_data, example_ct):
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(tmp_path / "weights"))
    (tmp_path / "weights" / FAST_DATASETS[0]).mkdir(parents=True)
    requests = []

    def fake_model(source, output, **options):
        requests.append(options)
        assert load_ct(source).sha256 == example_ct.sha256
        shutil.copy(shared_data / "totalseg_example" / "example_seg.nii.gz", output)

    backend = TotalSegmentatorBackend(fast=True, device="cpu", roi_subset=("liver", "pancreas"), cache_dir=tmp_path / "cache", runner=fake_model)
    first = backend.segment(example_ct, "example")
    second = backend.segment(example_ct, "example")
    organs = load_label_volume(first, example_ct, case_id="example")

    assert first == second
    assert len(requests) == 1
    assert requests[0] == {"ml": True, "fast": True, "device": "cpu", "roi_subset": ["liver", "pancreas"], "quiet": True}
    assert compute_features("example", example_ct, organs).organ("liver").voxel_count == 38634
    assert json.loads((tmp_path / "home" / "config.json").read_text())["send_usage_stats"] is False


def test_full_model_needs_five_weight_folders(tmp_path, monkeypatch, example_ct):
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(tmp_path / "weights"))
    (tmp_path / "weights" / FAST_DATASETS[0]).mkdir(parents=True)
    backend = TotalSegmentatorBackend(fast=False, cache_dir=None, runner=lambda *a, **k: pytest.fail("model ran without weights"))
    with pytest.raises(SegmentationUnavailable) as caught:
        backend.segment(example_ct)

    assert "Dataset291_TotalSegmentator_part1_organs_1559subj" in str(caught.value)
    assert "totalseg_download_weights -t total`" in str(caught.value)


def test_existing_config_keeps_id(tmp_path, monkeypatch, shared_data, example_ct):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text(json.dumps({"totalseg_id": "site-7", "send_usage_stats": True, "prediction_counter": 3}))
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(home))
    monkeypatch.setenv("TOTALSEG_WEIGHTS_PATH", str(tmp_path / "weights"))
    (tmp_path / "weights" / FAST_DATASETS[0]).mkdir(parents=True)
    backend = TotalSegmentatorBackend(cache_dir=None, runner=lambda source, output, **_: shutil.copy(shared_data / "totalseg_example" / "example_seg.nii.gz", output))
    path = backend.segment(example_ct)

    assert json.loads((home / "config.json").read_text()) == {"totalseg_id": "site-7", "send_usage_stats": False, "prediction_counter": 3}
    assert np.asarray(load_label_volume(path, example_ct).labels).max() > 0
