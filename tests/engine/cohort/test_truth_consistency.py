"""Truth, lesion masks and report texts agree: every lesion in the mask is in truth.json and in the report, and no other."""

from __future__ import annotations

import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from engine.cohort.labels import TOTALSEG_TOTAL
from engine.cohort.lesions import measure_lesion
from engine.cohort.reports import NORMAL_STATEMENTS, SECTION_TITLES
from engine.cohort.subregions import majority_subregion, partition_all
from engine.cohort.vocabulary import Vocabulary
from tests.engine.cohort.conftest import case_folders, load_truth

SIZE_PATTERN = re.compile(r"(\d+(?:\.\d)?)(?: x \d+(?:\.\d)?)? (mm|cm)\b")


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


@pytest.fixture(scope="module", params=["phantom", "implant"])
def cases(request: pytest.FixtureRequest) -> list[Path]:
    return case_folders(request.getfixturevalue(f"{request.param}_manifest"))


def _array(path: Path) -> np.ndarray:
    return np.asarray(nib.load(path).dataobj)


def _section_line(report: str, title: str) -> str:
    for line in report.splitlines():
        if line.startswith(f"{title}:"):
            return line
    raise AssertionError(f"report has no '{title}:' line")


def test_cohort_has_lesions_and_normals(cases: list[Path]) -> None:
    truths = [load_truth(case) for case in cases]
    assert any(truth["normal"] for truth in truths)
    assert any(not truth["normal"] for truth in truths)


def test_lesion_labels_match_truth(cases: list[Path]) -> None:
    for case in cases:
        lesions = _array(case / "lesions.nii.gz")
        truth = load_truth(case)
        assert sorted(int(v) for v in np.unique(lesions) if v > 0) == [lesion["label"] for lesion in truth["lesions"]], case.name


def test_each_lesion_is_one_component(cases: list[Path]) -> None:
    for case in cases:
        lesions = _array(case / "lesions.nii.gz")
        for lesion in load_truth(case)["lesions"]:
            _, count = ndimage.label(lesions == lesion["label"])
            assert count == 1, f"{case.name} lesion {lesion['label']} has {count} components"


def test_remeasured_lesions_match_truth(cases: list[Path]) -> None:
    for case in cases:
        image = nib.load(case / "lesions.nii.gz")
        lesions = np.asarray(image.dataobj)
        hu = _array(case / "ct.nii.gz").astype(float)
        spacing = tuple(float(s) for s in image.header.get_zooms()[:3])
        for lesion in load_truth(case)["lesions"]:
            mask = lesions == lesion["label"]
            measured = measure_lesion(mask, spacing)  # type: ignore[arg-type]
            assert measured.max_axial_diameter_mm == lesion["max_axial_diameter_mm"], case.name
            assert measured.voxel_count == lesion["voxel_count"], case.name
            assert abs(float(hu[mask].mean()) - lesion["hu_mean"]) < 0.1, case.name


def test_lesions_lie_inside_their_organ(cases: list[Path]) -> None:
    for case in cases:
        lesions = _array(case / "lesions.nii.gz")
        labels = _array(case / "masks.nii.gz")
        for lesion in load_truth(case)["lesions"]:
            organ_values = labels[lesions == lesion["label"]]
            assert np.all(organ_values == TOTALSEG_TOTAL[lesion["organ"]]), f"{case.name} lesion {lesion['label']} leaves the {lesion['organ']}"


def test_subregion_recomputed_from_masks(cases: list[Path], vocabulary: Vocabulary) -> None:
    for case in cases:
        lesions = _array(case / "lesions.nii.gz")
        partitions = partition_all(_array(case / "masks.nii.gz"))
        segments = _array(case / "liver_segments.nii.gz")
        assert np.array_equal(segments, partitions["liver"])
        for lesion in load_truth(case)["lesions"]:
            key = majority_subregion(lesion["organ"], partitions[lesion["organ"]], lesions == lesion["label"])
            assert key == lesion["subregion_key"], case.name
            assert vocabulary.subregion(lesion["organ"], key).id == lesion["subregion"], case.name


def test_density_matches_lesion_hu(cases: list[Path]) -> None:
    organ_hu = {"liver": 60.0, "pancreas": 45.0}
    for case in cases:
        for lesion in load_truth(case)["lesions"]:
            if lesion["density"] == "cystic":
                assert -5.0 <= lesion["hu_mean"] <= 25.0, case.name
            if lesion["organ"] in organ_hu and lesion["density"] == "hypodense":
                assert lesion["hu_mean"] < organ_hu[lesion["organ"]], case.name
            if lesion["organ"] in organ_hu and lesion["density"] == "hyperdense":
                assert lesion["hu_mean"] > organ_hu[lesion["organ"]], case.name


def test_report_sizes_are_truth_sizes(cases: list[Path]) -> None:
    for case in cases:
        report = (case / "report.txt").read_text(encoding="utf-8")
        truth = load_truth(case)
        for organ, title in SECTION_TITLES.items():
            expected = sorted(lesion["max_axial_diameter_mm"] for lesion in truth["lesions"] if lesion["organ"] == organ)
            line = _section_line(report, title)
            stated = sorted(float(value) * (10.0 if unit == "cm" else 1.0) for value, unit in SIZE_PATTERN.findall(line))
            assert len(stated) == len(expected), f"{case.name} {organ}: report sizes {stated}, truth {expected}"
            for said, true in zip(stated, expected, strict=True):
                assert abs(said - true) <= 0.6, f"{case.name} {organ}: report {said} mm, truth {true} mm"


def test_report_normal_statements_only_for_clear_organs(cases: list[Path]) -> None:
    for case in cases:
        report = (case / "report.txt").read_text(encoding="utf-8")
        organs_with_lesions = {lesion["organ"] for lesion in load_truth(case)["lesions"]}
        for organ, title in SECTION_TITLES.items():
            line = _section_line(report, title)
            normal = any(statement in line for statement in NORMAL_STATEMENTS[organ])
            assert normal == (organ not in organs_with_lesions), f"{case.name} {organ}: {line}"


def test_report_names_impression_and_subregion(cases: list[Path], vocabulary: Vocabulary) -> None:
    for case in cases:
        report = (case / "report.txt").read_text(encoding="utf-8")
        impression_section = report.split("IMPRESSION:")[1].lower()
        for lesion in load_truth(case)["lesions"]:
            kg = vocabulary.kgs[lesion["organ"]]
            term = kg.index.terms[("impression", lesion["impression"])]
            forms = [term.name, *term.synonyms.get("en", ())]
            assert any(form.lower() in impression_section for form in forms), f"{case.name}: no {lesion['impression']} in IMPRESSION"
            region = kg.index.terms[("subregion", lesion["subregion"])]
            region_forms = [region.name, *region.synonyms.get("en", ())]
            assert any(form.lower() in report.lower() for form in region_forms), f"{case.name}: no {lesion['subregion']} in report"


def test_report_terms_resolve_in_kg(cases: list[Path], vocabulary: Vocabulary) -> None:
    for case in cases:
        for lesion in load_truth(case)["lesions"]:
            attributes = ["density", "enhancement", "margin"]
            if "shape" in vocabulary.kgs[lesion["organ"]].vocabulary:
                attributes.append("shape")
            for attribute in attributes:
                assert vocabulary.finding(lesion["organ"], lesion[attribute]) is not None, f"{lesion[attribute]} not in {lesion['organ']} KG"
