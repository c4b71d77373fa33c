"""Group near-duplicate cases so that they never straddle train, val and test.

Two cases join one group when they share a patient id, when their CT content
hashes are equal, or when their reports are near-identical: the Jaccard
similarity of their word 5-gram shingle sets is at least the threshold. Report
pairs are proposed by MinHash with locality-sensitive hashing (16 bands of 4
rows) and then confirmed on the exact shingle sets, so the cost grows with the
number of cases, not with its square. Reports with fewer than
``MIN_SHINGLES`` shingles are too short to tell a copy from a shared template
("No acute abnormality.") and are only grouped by the other two keys.
The group key is the smallest case id of the group, and ``assign_split`` turns
it into the split.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_contracts import CaseInput
from engine.splits import assign_split

SHINGLE_WORDS = 5
MIN_SHINGLES = 8
MINHASH_PERMUTATIONS = 64
LSH_BANDS = 16
_PRIME = (1 << 31) - 1
_rng = np.random.default_rng(20240601)
_PERM_A = _rng.integers(1, _PRIME, size=MINHASH_PERMUTATIONS, dtype=np.int64)
_PERM_B = _rng.integers(0, _PRIME, size=MINHASH_PERMUTATIONS, dtype=np.int64)
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class CaseFingerprint:
    """What near-duplicate detection needs of one case."""

    case_id: str
    patient_id: str | None
    ct_hash: str | None
    shingles: frozenset[int]


def fingerprint_case(case: CaseInput, max_report_bytes: int = 2_000_000) -> CaseFingerprint:
    """Compute the CT content hash and report shingles of ``case``; unreadable inputs give None / empty."""
    return CaseFingerprint(
        case_id=case.case_id,
        patient_id=case.patient_id,
        ct_hash=_ct_content_hash(case),
        shingles=report_shingles(_read_report(case.report_path, max_report_bytes)),
    )


def report_shingles(text: str) -> frozenset[int]:
    """Return the 32-bit hashes of the word 5-grams of ``text`` after lower-casing."""
    words = _WORD.findall(text.lower())
    grams = (" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(0, len(words) - SHINGLE_WORDS + 1)))
    return frozenset(zlib.crc32(gram.encode()) for gram in grams)


def jaccard(first: frozenset[int], second: frozenset[int]) -> float:
    """Return the Jaccard similarity of two shingle sets (0 for two empty sets)."""
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def group_keys(fingerprints: Sequence[CaseFingerprint], jaccard_threshold: float = 0.9) -> dict[str, str]:
    """Return case id -> group key, joining cases by patient, CT hash and near-identical report."""
    parent = {fp.case_id: fp.case_id for fp in fingerprints}

    def find(item: str) -> str:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(first: str, second: str) -> None:
        root_a, root_b = find(first), find(second)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)

    for members in _shared_values(fingerprints, lambda fp: f"patient:{fp.patient_id}" if fp.patient_id else None):
        _union_all(members, union)
    for members in _shared_values(fingerprints, lambda fp: f"ct:{fp.ct_hash}" if fp.ct_hash else None):
        _union_all(members, union)
    _join_near_identical_reports(fingerprints, jaccard_threshold, find, union)

    return {fp.case_id: find(fp.case_id) for fp in fingerprints}


def assign_splits(fingerprints: Sequence[CaseFingerprint], ratios: Sequence[float], seed: int, jaccard_threshold: float = 0.9) -> dict[str, str]:
    """Return case id -> split, with every near-duplicate group in one split."""
    keys = group_keys(fingerprints, jaccard_threshold)
    return {case_id: assign_split(key, ratios, seed) for case_id, key in keys.items()}


def _union_all(members: list[str], union) -> None:
    for other in members[1:]:
        union(members[0], other)


def _shared_values(fingerprints: Iterable[CaseFingerprint], key_of) -> list[list[str]]:
    buckets: dict[str, list[str]] = defaultdict(list)
    for fp in fingerprints:
        key = key_of(fp)
        if key:
            buckets[key].append(fp.case_id)
    return [members for members in buckets.values() if len(members) > 1]


def _join_near_identical_reports(fingerprints: Sequence[CaseFingerprint], threshold: float, find, union) -> None:
    """Join the cases whose reports are near-identical.

    Identical shingle sets are joined without comparing them, and a candidate
    pair already in one group is not compared again. Both shortcuts keep the
    groups exact and keep templated reports (thousands of copies of one
    normal report) from costing one Jaccard comparison per pair.
    """
    usable = [fp for fp in fingerprints if len(fp.shingles) >= MIN_SHINGLES]
    copies: dict[frozenset[int], list[str]] = defaultdict(list)
    for fp in usable:
        copies[fp.shingles].append(fp.case_id)
    for members in copies.values():
        _union_all(members, union)

    distinct = [(members[0], shingles) for shingles, members in copies.items()]
    rows_per_band = MINHASH_PERMUTATIONS // LSH_BANDS
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for index, (_, shingles) in enumerate(distinct):
        signature = _minhash(shingles)
        for band in range(LSH_BANDS):
            buckets[(band, signature[band * rows_per_band : (band + 1) * rows_per_band].tobytes())].append(index)

    for members in buckets.values():
        for position, first in enumerate(members):
            first_id, first_shingles = distinct[first]
            for second in members[position + 1 :]:
                second_id, second_shingles = distinct[second]
                if find(first_id) != find(second_id) and jaccard(first_shingles, second_shingles) >= threshold:
                    union(first_id, second_id)


def _minhash(shingles: frozenset[int]) -> np.ndarray:
    values = np.fromiter(shingles, dtype=np.int64, count=len(shingles)) % _PRIME
    # (permutations, shingles): every permutation applied to every shingle, then the minimum per permutation.
    permuted = (_PERM_A[:, None] * values[None, :] + _PERM_B[:, None]) % _PRIME
    return permuted.min(axis=1)


def _ct_content_hash(case: CaseInput) -> str | None:
    if case.imaging_features_path:
        try:
            return json.loads(Path(case.imaging_features_path).read_text(encoding="utf-8")).get("ct_sha256")
        except (OSError, ValueError):
            return None
    return _file_or_folder_hash(Path(case.ct_path))


def _file_or_folder_hash(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            with file.open("rb") as handle:
                while chunk := handle.read(_HASH_CHUNK_BYTES):
                    digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _read_report(path: str | None, max_bytes: int) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return ""
    if len(data) > max_bytes or b"\x00" in data[:4096]:
        return ""
    return data.decode("utf-8", errors="replace")
