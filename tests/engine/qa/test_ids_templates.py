"""Sample ids and question templates."""

from __future__ import annotations

import random

import pytest

from engine.qa.ids import sample_id, seeded_rng
from engine.qa.templates import BOX_CONVENTION, QUESTION_TEMPLATES, pick_question


def test_sample_id_is_stable_and_short():
    first = sample_id("case-1", "attribute", "density", "pancreas", "density:c1", "abc")
    second = sample_id("case-1", "attribute", "density", "pancreas", "density:c1", "abc")
    assert first == second
    assert len(first) == 24


@pytest.mark.parametrize("position", range(6))
def test_sample_id_changes_with_each_field(position):
    fields = ["case-1", "attribute", "density", "pancreas", "density:c1", "abc"]
    changed = list(fields)
    changed[position] = changed[position] + "x"
    assert sample_id(*fields) != sample_id(*changed)


def test_every_subtask_has_several_templates():
    for subtask, templates in QUESTION_TEMPLATES.items():
        assert len(templates) >= 3, subtask
        assert len(set(templates)) == len(templates), subtask


def test_localization_questions_state_axis_order():
    for subtask in ("organ_bbox", "lesion_bbox"):
        for seed in range(10):
            question = pick_question(subtask, random.Random(seed), organ="liver", lesion="the lesion in segment 5 of the liver")
            assert BOX_CONVENTION in question
    assert "RAS+" in BOX_CONVENTION
    assert "x_min, y_min, z_min, x_max, y_max, z_max" in BOX_CONVENTION


def test_template_choice_varies_with_seed():
    questions = {pick_question("density", seeded_rng(0, f"case-{i}"), lesion="the lesion") for i in range(30)}
    assert len(questions) > 1


def test_unknown_subtask_rejected():
    with pytest.raises(KeyError, match="no question templates"):
        pick_question("colour", random.Random(0))
