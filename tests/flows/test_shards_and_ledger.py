"""Shard writing, atomicity, the resume ledger and the finished dataset's manifest."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.sample_records import make_sample
from data_contracts import RejectRecord, VQASample
from flows import storage as storage_module
from flows.dataset_manifest import RunIdentity, finalize_dataset, read_manifest_json
from flows.ledger import BatchEntry, CaseEntry, finished_hashes, read_entries, write_entry
from flows.shards import list_shards, shard_id, table_to_parquet_bytes, write_shard
from flows.storage import Storage
from flows.validate import validate_dataset

IDENTITY = RunIdentity("test", "0.1.0", "kg1", "cfg1", "run1")


def _write_batch(
    storage: Storage, cases: dict[str, str], samples_per_case: int = 2, rejected: tuple[str, ...] = (), *,
    retry: tuple[str, ...] = (), config_hash: str = IDENTITY.config_hash, finished_at: str = "2026-01-01T00:00:00",
) -> BatchEntry:
    """Write one batch as process_batch does: shard, rejects, then the entry."""
    batch_id = shard_id(cases.values())
    samples = [make_sample(c, i, input_hash=h) for c, h in cases.items() if c not in rejected for i in range(samples_per_case)]
    case_entries = [
        CaseEntry(c, h, "rejected" if c in rejected else "done", 0 if c in rejected else samples_per_case, "train", retry=c in retry)
        for c, h in cases.items()
    ]
    entry = BatchEntry(batch_id=batch_id, cases=case_entries, config_hash=config_hash, kg_version=IDENTITY.kg_version, finished_at=finished_at)
    if samples:
        written = write_shard(storage, batch_id, samples)
        entry.shard_path, entry.shard_rows, entry.shard_sha256, entry.shard_bytes = written.path, written.rows, written.sha256, written.bytes
        entry.samples_by_task = {"attribute": len(samples)}
    if rejected:
        entry.rejects_path = f"_state/rejects/{batch_id}.parquet"
        rejects = [RejectRecord(case_id=c, agent="extractor", reason_code="report_empty", message=f"case {c}: empty report") for c in rejected]
        storage.write_bytes_atomic(entry.rejects_path, table_to_parquet_bytes(RejectRecord.to_table(rejects)))
    write_entry(storage, entry)
    return entry


def test_shard_roundtrips_with_zstd(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    samples = [make_sample("c1", i) for i in range(5)]
    written = write_shard(storage, "abc", samples)
    metadata = pq.ParquetFile(tmp_path / written.path).metadata

    assert written.rows == 5
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    assert VQASample.from_table(pq.read_table(tmp_path / written.path)) == samples


def test_crash_before_rename_leaves_no_shard(tmp_path: Path, monkeypatch):
    storage = Storage.open(str(tmp_path))

    def crash(*args):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_shard(storage, "abc", [make_sample("c1", 0)])
    monkeypatch.undo()

    assert list_shards(storage) == []
    assert [p.name for p in (tmp_path / "shards").iterdir()][0].endswith(".tmp")
    assert storage.remove_stale_tmp("shards") == 1


def test_storage_retries_transient_io_errors(tmp_path: Path, monkeypatch):
    storage = Storage.open(str(tmp_path))
    monkeypatch.setattr(storage_module, "RETRY_BACKOFF_S", 0.0)
    calls = {"n": 0}
    real_write = Storage._write_once

    def flaky(self, final, data):
        calls["n"] += 1
        if calls["n"] < 3:
            raise OSError("disk busy")
        return real_write(self, final, data)

    monkeypatch.setattr(Storage, "_write_once", flaky)
    storage.write_bytes_atomic("x.bin", b"data")
    assert calls["n"] == 3
    assert (tmp_path / "x.bin").read_bytes() == b"data"


def test_memory_url_storage_is_atomic():
    storage = Storage.open("memory://tumorcot-test/ds")
    write_shard(storage, "m1", [make_sample("c1", 0)])
    assert list_shards(storage) == ["shards/part-m1.parquet"]
    assert storage.list_files("shards", ".tmp") == []


def test_finalize_lists_ledger_shards_and_merges_rejects(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    _write_batch(storage, {"c1": "h1", "c2": "h2"}, rejected=("c2",))
    _write_batch(storage, {"c3": "h3"})
    manifest_reject = RejectRecord(case_id="c9", agent="manifest", reason_code="missing_file", message="row 9: ct_path not found")

    result = finalize_dataset(storage, IDENTITY, {"c1": "h1", "c2": "h2", "c3": "h3"}, [manifest_reject])
    manifest = read_manifest_json(storage)

    assert manifest.samples_total == 4
    assert manifest.cases_done == 2
    assert manifest.cases_rejected == 2
    assert {(i.key, i.count) for i in manifest.rejects_by_reason} == {("report_empty", 1), ("missing_file", 1)}
    assert sorted(r.case_id for r in result.rejects) == ["c2", "c9"]
    assert pq.read_table(tmp_path / "rejects.parquet").num_rows == 2
    assert validate_dataset(str(tmp_path)).ok


def test_finalize_removes_shard_without_entry(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    _write_batch(storage, {"c1": "h1"})
    write_shard(storage, "orphan", [make_sample("c1", 0, input_hash="h1")])

    finalize_dataset(storage, IDENTITY, {"c1": "h1"}, [])
    assert list_shards(storage) == [f"shards/part-{shard_id(['h1'])}.parquet"]


def test_finalize_drops_rows_of_changed_inputs(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    _write_batch(storage, {"c1": "h1", "c2": "h2-old"})
    _write_batch(storage, {"c2": "h2-new"})

    finalize_dataset(storage, IDENTITY, {"c1": "h1", "c2": "h2-new"}, [])
    report = validate_dataset(str(tmp_path))

    assert report.ok, report.problems
    assert report.rows == 4
    assert finished_hashes(read_entries(storage)) == {"h1", "h2-new"}


def test_finalize_keeps_cases_left_out_by_max_cases(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    _write_batch(storage, {"c1": "h1", "c2": "h2"})
    _write_batch(storage, {"c3": "h3"}, config_hash="cfg-old")

    finalize_dataset(storage, IDENTITY, {"c1": "h1"}, [], omitted=frozenset({"c2", "c3"}))
    manifest = read_manifest_json(storage)
    report = validate_dataset(str(tmp_path))

    assert report.ok, report.problems
    assert report.rows == 4
    assert manifest.cases_total == 2
    assert finished_hashes(read_entries(storage)) == {"h1", "h2"}


def test_retry_marked_case_runs_again(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    _write_batch(storage, {"c1": "h1", "c2": "h2"}, rejected=("c2",), retry=("c2",), finished_at="2026-01-01T00:00:00")
    assert finished_hashes(read_entries(storage)) == {"h1"}

    _write_batch(storage, {"c2": "h2"}, finished_at="2026-01-02T00:00:00")
    result = finalize_dataset(storage, IDENTITY, {"c1": "h1", "c2": "h2"}, [])
    manifest = read_manifest_json(storage)

    assert manifest.cases_done == 2
    assert manifest.cases_rejected == 0
    assert result.rejects == []
    assert finished_hashes(read_entries(storage)) == {"h1", "h2"}
    assert validate_dataset(str(tmp_path)).ok


def test_validate_catches_tampered_shard(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    entry = _write_batch(storage, {"c1": "h1"})
    finalize_dataset(storage, IDENTITY, {"c1": "h1"}, [])
    assert validate_dataset(str(tmp_path)).ok

    shard_file = tmp_path / entry.shard_path
    data = bytearray(shard_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard_file.write_bytes(bytes(data))
    problems = validate_dataset(str(tmp_path)).problems

    assert any("sha256" in p and entry.shard_path in p for p in problems)


def test_validate_catches_duplicate_sample_ids(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    _write_batch(storage, {"c1": "h1"})
    second = write_shard(storage, "dup", [make_sample("c1", 0, input_hash="h1")])
    write_entry(storage, BatchEntry("dup", [CaseEntry("c1-copy", "hx", "done", 1)], second.path, 1, second.sha256, second.bytes))
    finalize_dataset(storage, IDENTITY, {"c1": "h1", "c1-copy": "hx"}, [])

    problems = validate_dataset(str(tmp_path)).problems
    assert any(p.startswith("duplicate sample_id: 1 found") for p in problems)


def test_validate_catches_case_in_two_splits(tmp_path: Path):
    storage = Storage.open(str(tmp_path))
    samples = [make_sample("c1", 0, split="train", input_hash="h1"), make_sample("c1", 1, split="test", input_hash="h1")]
    written = write_shard(storage, "s", samples)
    write_entry(storage, BatchEntry("s", [CaseEntry("c1", "h1", "done", 2, "train")], written.path, 2, written.sha256, written.bytes))
    finalize_dataset(storage, IDENTITY, {"c1": "h1"}, [])
    assert any("more than one split" in p for p in validate_dataset(str(tmp_path)).problems)


def test_shards_load_with_hf_datasets(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    storage = Storage.open(str(tmp_path / "ds"))
    _write_batch(storage, {"c1": "h1", "c2": "h2"})
    finalize_dataset(storage, IDENTITY, {"c1": "h1", "c2": "h2"}, [])

    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "ds" / "shards" / "*.parquet"), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert loaded.num_rows == 4
    assert sorted(loaded["case_id"]) == ["c1", "c1", "c2", "c2"]
    assert loaded[0]["chain"][0]["kg_edge_id"] == "pancreas:e12"


def test_internal_error_case_is_retried(phantom_cohort: Path, tmp_path: Path, monkeypatch):
    import engine.pipeline
    from engine.config import EngineConfig
    from flows.batch import process_batch
    from flows.manifest_io import read_manifest

    def broken_run_case(case, ctx, split=None, input_hash=None):
        raise IndexError("list index out of range")

    monkeypatch.setattr(engine.pipeline, "run_case", broken_run_case)
    cases = read_manifest(phantom_cohort).cases[:2]
    summary = process_batch(0, cases, {}, EngineConfig(), str(tmp_path / "ds"))
    storage = Storage.open(str(tmp_path / "ds"))
    entries = read_entries(storage)
    rejects = [r for e in entries for r in RejectRecord.from_table(pq.read_table(tmp_path / "ds" / e.rejects_path))]

    assert summary.cases_rejected == 2
    assert {r.reason_code for r in rejects} == {"internal_error"}
    assert all("IndexError" in r.message for r in rejects)
    assert all(case.retry for entry in entries for case in entry.cases)
    assert finished_hashes(entries) == frozenset()
