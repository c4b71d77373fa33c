"""Near-duplicate grouping: shared CT, near-identical report or patient keeps cases in one split."""

from __future__ import annotations

from pathlib import Path

from data_contracts import CaseInput
from flows.grouping import CaseFingerprint, assign_splits, fingerprint_case, group_keys, jaccard, report_shingles

LONG_REPORT = (
    "Findings: a 32 mm hypodense mass in the pancreatic head with upstream duct dilatation and abutment of the "
    "superior mesenteric vein. The liver, spleen and kidneys are unremarkable. No ascites. Impression: pancreatic head mass."
)


def _fp(case_id: str, ct: str | None = None, report: str = "", patient: str | None = None) -> CaseFingerprint:
    return CaseFingerprint(case_id, patient, ct, report_shingles(report))


def test_near_identical_reports_share_group():
    edited = LONG_REPORT.replace("No ascites.", "No ascites seen.")
    assert jaccard(report_shingles(LONG_REPORT), report_shingles(edited)) < 1.0
    keys = group_keys([_fp("a", report=LONG_REPORT), _fp("b", report=LONG_REPORT.lower()), _fp("c", report="A different and unrelated text " * 3)], 0.9)
    assert keys["a"] == keys["b"] == "a"
    assert keys["c"] == "c"


def test_shared_ct_and_patient_join_transitively():
    keys = group_keys([_fp("a", ct="x"), _fp("b", ct="x", patient="p1"), _fp("c", patient="p1"), _fp("d", ct="y")])
    assert keys["a"] == keys["b"] == keys["c"] == "a"
    assert keys["d"] == "d"


def test_short_template_reports_do_not_group():
    keys = group_keys([_fp("a", report="No acute abnormality."), _fp("b", report="No acute abnormality.")])
    assert keys["a"] != keys["b"]


def test_duplicates_never_straddle_splits_over_many_cases():
    fingerprints = []
    for i in range(300):
        fingerprints.append(_fp(f"case-{i:03d}", ct=f"ct-{i}", report=f"{LONG_REPORT} case number {i} variant {i * 7}"))
        fingerprints.append(_fp(f"copy-{i:03d}", ct=f"ct-{i}"))
    splits = assign_splits(fingerprints, (0.6, 0.2, 0.2), seed=0)
    assert all(splits[f"case-{i:03d}"] == splits[f"copy-{i:03d}"] for i in range(300))
    assert set(splits.values()) == {"train", "val", "test"}


def test_fingerprint_uses_features_ct_hash(tmp_path: Path):
    features = tmp_path / "features.json"
    features.write_text('{"ct_sha256": "abc123"}', encoding="utf-8")
    report = tmp_path / "report.txt"
    report.write_text(LONG_REPORT, encoding="utf-8")
    case = CaseInput(case_id="a", ct_path=str(tmp_path / "absent.nii.gz"), imaging_features_path=str(features), report_path=str(report))
    fingerprint = fingerprint_case(case)
    assert fingerprint.ct_hash == "abc123"
    assert len(fingerprint.shingles) > 10


def test_templated_copies_skip_pairwise_comparisons(monkeypatch):
    import flows.grouping as grouping

    calls = {"n": 0}
    real_jaccard = grouping.jaccard

    def counting_jaccard(first, second):
        calls["n"] += 1
        return real_jaccard(first, second)

    monkeypatch.setattr(grouping, "jaccard", counting_jaccard)
    copies = [_fp(f"copy-{i:04d}", report=LONG_REPORT) for i in range(2000)]
    variants = [_fp(f"variant-{i}", report=LONG_REPORT.replace("32 mm", f"{30 + i} mm")) for i in range(5)]
    keys = group_keys(copies + variants, 0.8)

    assert set(keys.values()) == {"copy-0000"}
    assert calls["n"] < 100


def test_near_identical_chain_joins_transitively():
    words = [f"word{i}" for i in range(60)]
    first = " ".join(words)
    middle = " ".join(["new1", "new2", "new3", *words[3:]])
    last = " ".join(["new1", "new2", "new3", *words[3:57], "end1", "end2", "end3"])
    fingerprints = [_fp("a", report=first), _fp("b", report=middle), _fp("c", report=last)]
    assert jaccard(fingerprints[0].shingles, fingerprints[2].shingles) < 0.85
    assert jaccard(fingerprints[0].shingles, fingerprints[1].shingles) >= 0.85
    assert jaccard(fingerprints[1].shingles, fingerprints[2].shingles) >= 0.85

    keys = group_keys(fingerprints, 0.85)
    assert keys["a"] == keys["b"] == keys["c"] == "a"
