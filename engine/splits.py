"""Assign cases to train, val and test by a stable hash of a group key.

Samples are split by case, never by sample, so every sample of a case lands in
the same split. Cases of one patient, or near-duplicate cases that the flows
group together, pass one shared group key and therefore share a split.

The rule: ``u = int(sha256(f"{seed}:{group_key}")[:16], 16) / 16**16`` is a
number in [0, 1); the group goes to train when ``u < r_train``, to val when
``u < r_train + r_val`` and to test otherwise, with the ratios normalized to sum
to 1. The hash does not depend on the order of cases or on the run, so adding
cases never moves an existing case to another split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

SplitName = Literal["train", "val", "test"]
SPLITS: tuple[SplitName, ...] = ("train", "val", "test")


def split_unit_value(group_key: str, seed: int = 0) -> float:
    """Return the group's position in [0, 1) under the seeded hash."""
    digest = hashlib.sha256(f"{seed}:{group_key}".encode()).hexdigest()
    return int(digest[:16], 16) / float(16**16)


def assign_split(group_key: str, ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> SplitName:
    """Return the split of ``group_key`` for the train/val/test ``ratios`` (normalized to sum 1)."""
    if not group_key:
        raise ValueError("assign_split needs a non-empty group key (patient id or case id)")
    if len(ratios) != 3 or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise ValueError(f"split ratios must be three non-negative shares for train, val and test with a positive sum, got {tuple(ratios)}")

    total = float(sum(ratios))
    value = split_unit_value(group_key, seed)
    bound = 0.0
    for name, ratio in zip(SPLITS, ratios, strict=True):
        bound += ratio / total
        if ratio > 0 and value < bound:
            return name
    # Rounding can leave the value just above the last bound: use the last split with a share.
    return next(name for name, ratio in zip(reversed(SPLITS), reversed(tuple(ratios)), strict=True) if ratio > 0)
