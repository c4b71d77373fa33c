"""The imaging benchmark runs in quick mode and reports its ratio row."""

from __future__ import annotations

from benchmarks import bench_imaging


def test_quick_benchmark_rows():
    rows = bench_imaging.run(quick=True)
    ratio = next(row for row in rows if row["unit"] == "ratio")

    assert {"name", "value", "unit", "goal", "note"} <= set(ratio)
    assert ratio["value"] > 0
    assert "256x256x120" in ratio["note"]
