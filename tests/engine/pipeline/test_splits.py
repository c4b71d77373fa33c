"""Split assignment by a stable hash of the case's group key."""

from __future__ import annotations

import pytest

from engine.splits import assign_split


def test_same_key_same_split():
    first = [assign_split(f"case-{i}", (0.8, 0.1, 0.1), 7) for i in range(200)]
    second = [assign_split(f"case-{i}", (0.8, 0.1, 0.1), 7) for i in range(200)]
    assert first == second


def test_split_shares_follow_ratios():
    splits = [assign_split(f"patient-{i}", (0.8, 0.1, 0.1), 0) for i in range(4000)]
    train = splits.count("train") / len(splits)
    val = splits.count("val") / len(splits)
    test = splits.count("test") / len(splits)
    assert abs(train - 0.8) < 0.03
    assert abs(val - 0.1) < 0.03
    assert abs(test - 0.1) < 0.03


def test_seed_changes_assignment():
    with_seed_0 = [assign_split(f"c{i}", seed=0) for i in range(300)]
    with_seed_1 = [assign_split(f"c{i}", seed=1) for i in range(300)]
    assert with_seed_0 != with_seed_1


def test_zero_share_split_never_chosen():
    splits = {assign_split(f"c{i}", (0.5, 0.0, 0.5)) for i in range(500)}
    assert splits == {"train", "test"}


def test_invalid_ratios_rejected():
    with pytest.raises(ValueError, match="split ratios"):
        assign_split("c1", (0.5, 0.5))
    with pytest.raises(ValueError, match="split ratios"):
        assign_split("c1", (0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="group key"):
        assign_split("", (0.8, 0.1, 0.1))
