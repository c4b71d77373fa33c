"""The engine flow end to end: bad inputs, Prefect and Dask runs, kill-and-resume, real data."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pyarrow.parquet as pq
import pytest

from flows.engine_flow import run_engine_inline, tumorcot_engine
from flows.params import EngineRunParams
from flows.validate import validate_dataset

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _rows(manifest: Path) -> list[dict]:
    import csv

    with manifest.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write_csv(path: Path, rows: list[dict]) -> Path:
    import csv

    keys = list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows({k: row.get(k, "") for k in keys} for row in rows)
    return path


def _sample_ids(folder: Path) -> list[str]:
    return sorted(pq.read_table(folder / "shards", columns=["sample_id"])["sample_id"].to_pylist()) if any((folder / "shards").glob("*.parquet")) else []


def _bad_corpus(cohort_manifest: Path, folder: Path) -> tuple[Path, dict[str, str]]:
    """Copy the good cases and add one bad case per failure kind; return the manifest and case -> expected code."""
    base = cohort_manifest.parent
    good = _rows(cohort_manifest)
    template = good[0]
    src = base / template["case_id"]
    bad_dir = base / "bad"
    bad_dir.mkdir(exist_ok=True)

    def variant(case_id: str, **paths: str) -> dict:
        row = dict(template, case_id=case_id, patient_id=case_id)
        for key, value in template.items():
            if value and key.endswith("_path"):
                row[key] = str(src.relative_to(base) / Path(value).name)
        row.update(paths)
        return row

    (bad_dir / "corrupt.nii.gz").write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate data" * 20)
    ct_bytes = (src / "ct.nii.gz").read_bytes()
    (bad_dir / "truncated.nii.gz").write_bytes(gzip.compress(gzip.decompress(ct_bytes)[:4000]))
    masks = nib.load(src / "masks.nii.gz")
    data = np.asarray(masks.dataobj)
    nib.save(nib.Nifti1Image(data[:, :, :-3], masks.affine), bad_dir / "short_masks.nii.gz")
    # A mask moved far off the CT belongs to another scan; a small parallel shift is resampled instead.
    shifted = masks.affine.copy()
    shifted[:3, 3] += 1000.0
    nib.save(nib.Nifti1Image(data, shifted), bad_dir / "shifted_masks.nii.gz")
    report = (src / "report.txt").read_text(encoding="utf-8")
    (bad_dir / "empty.txt").write_bytes(b"")
    (bad_dir / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (bad_dir / "huge.txt").write_bytes(b"liver " * (10 * 1024 * 1024 // 6 + 1))
    (bad_dir / "cp1252.txt").write_bytes((report + "\nCaf\u00e9 \u2013 r\u00e9sum\u00e9").encode("cp1252", errors="replace"))

    rows = [dict(row) for row in good] + [
        variant("bad-gzip", ct_path="bad/corrupt.nii.gz"),
        variant("bad-truncated", ct_path="bad/truncated.nii.gz"),
        variant("bad-shape", masks_path="bad/short_masks.nii.gz", lesions_path="", liver_segments_path=""),
        variant("bad-affine", masks_path="bad/shifted_masks.nii.gz", lesions_path="", liver_segments_path=""),
        variant("bad-missing", ct_path="bad/absent.nii.gz"),
        variant("bad-empty-report", report_path="bad/empty.txt", pathology_path=""),
        variant("bad-binary-report", report_path="bad/binary.txt", pathology_path=""),
        variant("bad-huge-report", report_path="bad/huge.txt", pathology_path=""),
        variant("bad-traversal", report_path="../../../../etc/hostname"),
        variant("dup"),
        variant("dup"),
        variant("latin-report", report_path="bad/cp1252.txt"),
    ]
    expected = {
        "bad-gzip": {"corrupt_file"},
        "bad-truncated": {"corrupt_file"},
        "bad-shape": {"shape_mismatch"},
        "bad-affine": {"affine_mismatch"},
        "bad-missing": {"missing_file"},
        "bad-empty-report": {"report_empty"},
        "bad-binary-report": {"report_binary"},
        "bad-huge-report": {"report_too_large"},
        "bad-traversal": {"path_outside_root"},
        "dup": {"duplicate_case_id"},
    }
    return _write_csv(base / "bad_manifest.csv", rows), expected


def test_bad_inputs_each_get_reject_row(phantom_cohort: Path, tmp_path: Path, prefect_api: str):
    manifest, expected = _bad_corpus(phantom_cohort, tmp_path)
    out = tmp_path / "ds"
    summary = tumorcot_engine(EngineRunParams(manifest=str(manifest), out=str(out), batch_size=4))
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()

    for case_id, codes in expected.items():
        rows = [r for r in rejects if r["case_id"] == case_id]
        assert rows, f"no reject row for {case_id}"
        assert {r["reason_code"] for r in rows} & codes, f"{case_id}: got {[(r['reason_code'], r['message']) for r in rows]}"
    assert len([r for r in rejects if r["case_id"] == "dup"]) == 2
    assert all(r["message"] and r["agent"] for r in rejects)
    good_ids = {row["case_id"] for row in _rows(phantom_cohort)} | {"latin-report"}
    sampled = set(pq.read_table(out / "shards", columns=["case_id"])["case_id"].to_pylist()) if summary.samples_total else set()
    assert sampled, f"no good case produced samples; rejects: {[(r['case_id'], r['reason_code']) for r in rejects if r['case_id'] in good_ids]}"
    assert sampled <= good_ids
    report = validate_dataset(str(out))
    assert report.ok, report.problems


def test_resume_skips_finished_cases(phantom_cohort: Path, tmp_path: Path):
    out = tmp_path / "ds"
    params = EngineRunParams(manifest=str(phantom_cohort), out=str(out), batch_size=2, write_report=False)
    first = run_engine_inline(params)
    ids_first = _sample_ids(out)
    second = run_engine_inline(params)

    assert first.cases_skipped == 0
    assert second.cases_skipped == first.cases_planned
    assert _sample_ids(out) == ids_first

    trial = run_engine_inline(params.model_copy(update={"max_cases": 1}))
    assert trial.cases_planned == 1
    assert trial.cases_skipped == 1
    assert _sample_ids(out) == ids_first, "a max_cases run dropped rows of cases it left out"

    changed = params.model_copy(update={"config": params.config.model_copy(update={"seed": 7}), "max_cases": 1})
    assert run_engine_inline(changed).cases_skipped == 0
    changed_cases = set(pq.read_table(out / "shards", columns=["case_id"])["case_id"].to_pylist())
    assert len(changed_cases) == 1, "rows written with the old config outlived a config change"


def test_case_threads_match_serial_run(phantom_cohort: Path, tmp_path: Path):
    serial, threaded = tmp_path / "serial", tmp_path / "threaded"
    run_engine_inline(EngineRunParams(manifest=str(phantom_cohort), out=str(serial), batch_size=4, write_report=False))
    summary = run_engine_inline(EngineRunParams(manifest=str(phantom_cohort), out=str(threaded), batch_size=4, case_threads=4, write_report=False))
    rejects = pq.read_table(threaded / "rejects.parquet").to_pylist()

    assert [r for r in rejects if r["reason_code"] == "internal_error"] == []
    assert summary.samples_total > 0
    assert _sample_ids(threaded) == _sample_ids(serial)


def test_dask_local_cluster_run(phantom_cohort: Path, tmp_path: Path, prefect_api: str):
    thread_out, dask_out = tmp_path / "thread", tmp_path / "dask"
    run_engine_inline(EngineRunParams(manifest=str(phantom_cohort), out=str(thread_out), batch_size=2, write_report=False))
    summary = tumorcot_engine(EngineRunParams(manifest=str(phantom_cohort), out=str(dask_out), batch_size=2, task_runner="dask", dask_workers=2, dask_processes=False, write_report=False))

    assert summary.batches == 2
    assert _sample_ids(dask_out) == _sample_ids(thread_out)
    assert validate_dataset(str(dask_out)).ok


@pytest.mark.slow
def test_sigkill_and_resume_match_uninterrupted_run(phantom_cohort: Path, tmp_path: Path):
    reference = tmp_path / "reference"
    run_engine_inline(EngineRunParams(manifest=str(phantom_cohort), out=str(reference), batch_size=1, write_report=False))
    expected_ids = _sample_ids(reference)
    expected_rejects = sorted(pq.read_table(reference / "rejects.parquet", columns=["case_id"])["case_id"].to_pylist())
    rng = random.Random(11)

    killed_mid_run = 0
    for trial in range(3):
        out = tmp_path / f"trial-{trial}"
        command = [sys.executable, "-m", "flows.cli.runcmd_main", "--manifest", str(phantom_cohort), "--out", str(out), "--batch-size", "1", "--no-prefect", "--no-report"]
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_first_ledger_entry(out, process)
        time.sleep(rng.uniform(0.0, 1.5))
        killed_mid_run += process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()

        resumed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        assert resumed.returncode in (0, 1), resumed.stderr[-2000:]
        assert _sample_ids(out) == expected_ids, f"trial {trial}"
        assert len(set(_sample_ids(out))) == len(expected_ids)
        rejected = sorted(pq.read_table(out / "rejects.parquet", columns=["case_id"])["case_id"].to_pylist())
        assert rejected == expected_rejects, f"trial {trial}"
        assert validate_dataset(str(out)).ok
    assert killed_mid_run >= 2, "most kills came after the run had finished, so resume was barely tested"


def _wait_for_first_ledger_entry(out: Path, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None or list((out / "_state" / "batches").glob("*.json")):
            return
        time.sleep(0.05)
    raise AssertionError(f"no ledger entry appeared in {out} within {timeout_s} s")


@pytest.mark.slow
def test_real_ct_and_reports_run(shared_data: Path, tmp_path: Path):
    from engine.cohort import implant_cohort

    example, reports = shared_data / "totalseg_example", shared_data / "reports"
    implanted = implant_cohort(example / "example_ct_sm.nii.gz", example / "example_seg.nii.gz", tmp_path / "implanted", 4, seed=0)
    rows = _rows(implanted)
    for row, report in zip(rows, ("colon_rectal_ct_01.txt", "liver_mets_01.txt"), strict=False):
        row.update(report_path=str(reports / report), pathology_path="")
    real_ct = {"ct_path": str(example / "example_ct_sm.nii.gz"), "masks_path": str(example / "example_seg.nii.gz"), "lesions_path": "", "liver_segments_path": ""}
    # Several pancreatic reports state sizes the AJCC 8 rules can stage, so at least one of them yields TNM samples.
    real_reports = {
        "real-pdac-1": ("pancreas_pdac_01.txt", ""),
        "real-pdac-2": ("pancreas_pdac_02.txt", ""),
        "real-pdac-4": ("pancreas_pdac_04.txt", ""),
        "real-pnet-2": ("pancreas_pnet_02.txt", ""),
        "real-hcc": ("liver_hcc_01.txt", ""),
        "real-pdac-path": ("pancreas_pdac_02.txt", str(reports / "path_pancreas_pdac_02.txt")),
    }
    real_rows = [
        dict(rows[0], **real_ct, case_id=case_id, patient_id=case_id, report_path=str(reports / report), pathology_path=pathology)
        for case_id, (report, pathology) in real_reports.items()
    ]
    manifest = _write_csv(implanted.parent / "real_manifest.csv", [*rows, *real_rows])
    out = tmp_path / "ds"

    run_engine_inline(EngineRunParams(manifest=str(manifest), out=str(out), batch_size=2, allowed_roots=(str(shared_data),)))
    report = validate_dataset(str(out))
    samples = pq.read_table(out / "shards").to_pylist()
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    case_ids = {row["case_id"] for row in [*rows, *real_rows]}
    sampled = {sample["case_id"] for sample in samples}

    assert report.ok, report.problems
    assert {sample["task_type"] for sample in samples} == {"localization", "attribute", "tnm", "cot_report"}
    assert {"real-pdac-1", "real-pdac-2", "real-hcc"} <= sampled
    assert case_ids - sampled <= {r["case_id"] for r in rejects}, "a case without samples has no reject row"
    # The three real rows share one CT, so they are near-duplicates and share one split.
    assert len({sample["split"] for sample in samples if sample["case_id"].startswith("real-")}) == 1
    _assert_report_spans_match(samples, {row["case_id"]: row["report_path"] for row in real_rows})


def _assert_report_spans_match(samples: list[dict], report_paths: dict[str, str]) -> None:
    """Check that every report evidence span of the given cases quotes its report file at its offsets."""
    from engine.text.decode import read_text_file

    checked = 0
    for sample in samples:
        if sample["case_id"] not in report_paths:
            continue
        text = read_text_file(report_paths[sample["case_id"]]).text
        for step in sample["chain"]:
            for ref in step["evidence"]:
                span = ref["span"]
                if span and span["source"] == "report":
                    assert text[span["start"] : span["end"]] == span["text"], f"{sample['sample_id']} step {step['step_id']}"
                    checked += 1
    assert checked > 0, "no report evidence span to check"
