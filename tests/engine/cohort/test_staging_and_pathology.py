"""Expected stages come from the KG rules, and pathology reports state them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cohort.vocabulary import Vocabulary
from tests.engine.cohort.conftest import case_folders, load_truth


@pytest.fixture(scope="module", params=["phantom", "implant"])
def cases(request: pytest.FixtureRequest) -> list[Path]:
    return case_folders(request.getfixturevalue(f"{request.param}_manifest"))


def test_stage_equals_kg_stage_of_facts(cases: list[Path]) -> None:
    vocabulary = Vocabulary.load()
    for case in cases:
        truth = load_truth(case)
        if truth["stage"] is None:
            continue
        result = vocabulary.stage(truth["primary"]["organ"], truth["staging_facts"])
        assert (result.T, result.N, result.M) == (truth["stage"]["T"], truth["stage"]["N"], truth["stage"]["M"]), case.name


def test_metastasis_sites_match_drawn_metastases(cases: list[Path]) -> None:
    for case in cases:
        truth = load_truth(case)
        drawn = any(lesion["role"] == "metastasis" for lesion in truth["lesions"])
        assert bool(truth["metastasis_sites"]) == drawn, case.name
        if truth["stage"] is not None and drawn:
            assert truth["stage"]["M"].startswith("M1"), case.name


def test_pathology_file_only_for_staged_cases(cases: list[Path]) -> None:
    for case in cases:
        truth = load_truth(case)
        assert (case / "pathology.txt").is_file() == (truth["stage"] is not None), case.name


def test_pathology_states_stage_and_nodes(cases: list[Path]) -> None:
    for case in cases:
        truth = load_truth(case)
        if truth["stage"] is None:
            continue
        text = (case / "pathology.txt").read_text(encoding="utf-8")
        stage = truth["stage"]
        assert f"p{stage['T']} p{stage['N']}" in text, case.name
        assert "AJCC 8th edition" in text
        assert f"{truth['nodes']['positive']} positive / {truth['nodes']['examined']} examined" in text, case.name
        largest = max(lesion["max_axial_diameter_mm"] for lesion in truth["lesions"] if lesion["role"] == "primary")
        assert f"Tumor size: {largest / 10:.1f} cm" in text, case.name
