"""Phantom cases: lesion boxes are valid, the task mix follows the config, splits go by case.

Answers against truth.json are checked in test_phantom_cohort.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from engine.pipeline import run_case


@pytest.fixture(scope="module")
def phantom_results(phantom_cases, engine_ctx):
    return [(case, run_case(case, engine_ctx)) for case in phantom_cases]


def _truth(case) -> dict:
    return json.loads((Path(case.report_path).parent / "truth.json").read_text(encoding="utf-8"))


def test_phantom_lesion_boxes_match_lesion_masks(phantom_results):
    for case, result in phantom_results:
        for sample in result.samples:
            if sample.subtask != "lesion_bbox":
                continue
            box = json.loads(sample.answer_json)["bbox_norm_xyz"]
            for axis in range(3):
                assert box[axis] < box[axis + 3], (case.case_id, axis, box)
            assert all(0.0 <= v <= 1.0 for v in box)


def test_task_mix_near_config_over_cohort(phantom_results, engine_ctx):
    counts = Counter(s.task_type for _, result in phantom_results for s in result.samples)
    total = sum(counts.values())
    assert total > 0
    shares = engine_ctx.config.task_mix.model_dump()
    for task, share in shares.items():
        assert abs(counts[task] / total - share) < 0.12, (task, counts)


def test_phantom_samples_split_by_case(phantom_results):
    for _, result in phantom_results:
        assert len({s.split for s in result.samples}) <= 1
