"""Task mix allocation and seeded selection."""

from __future__ import annotations

import random

from engine.qa.mix import allocate, select

PAPER_MIX = {"attribute": 0.60, "cot_report": 0.19, "localization": 0.11, "tnm": 0.10}


def test_allocation_fits_available_questions():
    available = {"attribute": 12, "cot_report": 2, "localization": 5, "tnm": 3}
    quotas = allocate(available, PAPER_MIX)
    for task, count in available.items():
        assert 1 <= quotas[task] <= count, task


def test_allocation_follows_shares_when_plentiful():
    available = {"attribute": 1000, "cot_report": 1000, "localization": 1000, "tnm": 1000}
    quotas = allocate(available, PAPER_MIX)
    total = sum(quotas.values())
    # Attribute questions run out first, at 1000 / 0.60 samples in total.
    assert 1600 <= total <= 1667
    for task, share in PAPER_MIX.items():
        assert abs(quotas[task] / total - share) < 0.01, task


def test_allocation_keeps_one_of_each_available_type():
    available = {"attribute": 40, "cot_report": 1, "localization": 1, "tnm": 1}
    quotas = allocate(available, PAPER_MIX)
    assert quotas["cot_report"] == 1
    assert quotas["localization"] == 1
    assert quotas["tnm"] == 1
    assert quotas["attribute"] >= 1


def test_allocation_skips_missing_types():
    available = {"attribute": 0, "cot_report": 1, "localization": 4, "tnm": 0}
    quotas = allocate(available, PAPER_MIX)
    assert quotas["attribute"] == 0
    assert quotas["tnm"] == 0
    assert quotas["cot_report"] == 1
    assert quotas["localization"] >= 1


def test_allocation_respects_zero_share():
    available = {"attribute": 5, "cot_report": 1, "localization": 4, "tnm": 3}
    quotas = allocate(available, {**PAPER_MIX, "tnm": 0.0})
    assert quotas["tnm"] == 0


def test_selection_is_seeded_and_ordered():
    items = list(range(20))
    first = select(items, 5, random.Random(3))
    second = select(items, 5, random.Random(3))
    assert first == second
    assert first == sorted(first)
    assert len(set(first)) == 5
