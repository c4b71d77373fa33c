"""Which chains are staged, how TNM questions are asked, and how the report states the stage."""

from __future__ import annotations

import json
import random
import re

import pytest

from data_contracts import Chain, EvidenceRef, PathologyFeatures, ReasoningStep, StageResult, Triplet
from engine.qa.attributes import attribute_candidates
from engine.qa.cot_report import conclusion, stage_statement
from engine.qa.primary import lesion_names, reportable_views, staged_primaries, undescribed_views
from engine.qa.tnm import tnm_candidates
from engine.qa.view import build_view

LESION = {"liver": "lesion:liver_lesion", "pancreas": "lesion:pancreatic_lesion"}


@pytest.fixture(scope="module")
def kgs():
    import kg

    return kg.load_all()


def _step(step_id: str, level: str, subject: str, predicate: str, obj: str, evidence=()) -> ReasoningStep:
    return ReasoningStep(step_id=step_id, level=level, triplet=Triplet(subject=subject, predicate=predicate, object=obj),
                         sentence=f"{step_id} sentence.", evidence=tuple(evidence))


def _chain(organ: str, name: str, impression: str, *, subregion: str | None = None, size: float | None = None,
           findings: tuple[tuple[str, str], ...] = (("has_density", "hypodense"),), stage: StageResult | None = None) -> Chain:
    """Return an accepted lesion chain: optional subregion with size evidence, finding steps, then one impression step."""
    lesion = LESION[organ]
    steps = []
    if subregion:
        evidence = [EvidenceRef(kind="report", ref_id=f"rep-{name}", field="max_diameter_mm", value=str(size))] if size else []
        steps.append(_step("F1", "finding", lesion, "located_in", f"subregion:{subregion}", evidence))
    else:
        steps.append(_step("F1", "finding", lesion, "located_in", f"organ:{organ}"))
    for number, (predicate, finding) in enumerate(findings, start=2):
        steps.append(_step(f"F{number}", "finding", lesion, predicate, f"finding:{finding}"))
    steps.append(_step("Im1", "impression", f"finding:{findings[0][1]}", "suggests", f"impression:{impression}"))
    return Chain(chain_id=f"case/{organ}/{name}", case_id="case", organ=organ, lesion_ids=(f"rep-{name}",), steps=tuple(steps),
                 impression_id=impression, stage=stage)


def _views(kgs, *chains):
    return [build_view(chain, kgs[chain.organ], None, None) for chain in chains]


def _hcc_stage(**categories) -> StageResult:
    values = {"T": "T2", "N": "NX", "M": "M0", **categories}
    rules = tuple(f"liver_hcc_{category}" for category in values.values() if not category.endswith("X"))
    missing = ("nodes_positive", "node_metastasis") if values["N"] == "NX" else ()
    return StageResult(organ="liver", table="liver_hcc", rules=rules, missing=missing, **values)


def test_chain_resting_on_nodes_alone_is_not_reported(kgs):
    spurious = _chain("pancreas", "L3", "pdac", findings=(("has_feature", "lymphadenopathy"),))
    (view,) = _views(kgs, spurious)

    assert not view.described
    assert reportable_views([view], None, kgs) == []
    assert undescribed_views([view], None, kgs) == [view]


def test_pathology_keeps_undescribed_chain_of_its_organ(kgs):
    spurious = _chain("pancreas", "L3", "pdac", findings=(("has_feature", "lymphadenopathy"),))
    pathology = PathologyFeatures(case_id="case", organ="pancreas", malignant=True, histology="ductal_adenocarcinoma")
    assert len(reportable_views(_views(kgs, spurious), pathology, kgs)) == 1

    other_organ = PathologyFeatures(case_id="case", organ="liver", malignant=True, histology="ductal_adenocarcinoma")
    assert reportable_views(_views(kgs, spurious), other_organ, kgs) == []
    other_histology = PathologyFeatures(case_id="case", organ="pancreas", malignant=True, histology="neuroendocrine_tumour")
    assert reportable_views(_views(kgs, spurious), other_histology, kgs) == []


def test_metastases_and_benign_lesions_are_not_staged(kgs):
    views = _views(
        kgs,
        _chain("liver", "L1", "metastasis", subregion="segment_8", size=21.0),
        _chain("liver", "L2", "hemangioma", subregion="segment_6", size=40.0),
        _chain("liver", "L3", "simple_cyst", subregion="segment_5", size=38.0),
    )
    assert staged_primaries(views, kgs) == {}
    assert tnm_candidates(views, kgs, {}, None, None, random.Random(0)) == []


def test_multifocal_primary_staged_once_from_largest(kgs):
    stage = _hcc_stage()
    small = _chain("liver", "L2", "hcc", subregion="segment_7", size=16.0, stage=stage)
    large = _chain("liver", "L1", "hcc", subregion="segment_5", size=45.0, stage=stage)
    views = _views(kgs, small, large)

    group = staged_primaries(views, kgs)["liver"]
    assert [v.chain.chain_id for v in group] == [large.chain_id, small.chain_id]

    facts = {large.chain_id: {"tumor_count": 2, "max_diameter_mm": 45.0, "distant_metastasis": False}}
    candidates = tnm_candidates(views, kgs, facts, None, None, random.Random(0))
    assert sorted(c.subtask for c in candidates) == ["M", "N", "T"]
    for candidate in candidates:
        assert candidate.chain_ids == (large.chain_id, small.chain_id)
        assert "segment 5 of the liver" in candidate.think


def test_tnm_answers_read_naturally(kgs):
    stage = _hcc_stage()
    chain = _chain("liver", "L1", "hcc", subregion="segment_5", size=45.0, stage=stage)
    facts = {chain.chain_id: {"tumor_count": 2, "max_diameter_mm": 45.0, "distant_metastasis": False}}
    by_axis = {c.subtask: c for c in tnm_candidates(_views(kgs, chain), kgs, facts, None, None, random.Random(0))}

    assert by_axis["T"].answer == "The T category is T2 (AJCC 8th edition): 2 tumours and tumour size 45 mm."
    assert "Rule liver_hcc_T2 requires" in by_axis["T"].think
    assert "2 tumours and tumour size 45 mm meet it" in by_axis["T"].think
    assert by_axis["N"].answer == "NX: the regional lymph nodes cannot be assessed, because the regional lymph node status is not stated."
    fields = json.loads(by_axis["N"].answer_json)
    assert fields["determined"] is False
    assert fields["missing"] == ["nodes_positive", "node_metastasis"]
    assert "liver tumour" in by_axis["M"].question


def test_stage_statement_never_prints_undecided_category(kgs):
    decided = StageResult(organ="colon", T="T4a", N="N0", M="M1a", table="colon_rectum")
    assert stage_statement(decided, kgs["colon"]) == "stage T4a N0 M1a (AJCC 8th edition)"

    partial = StageResult(organ="colon", T="TX", N="N0", M="M1a", table="colon_rectum", missing=("invaded_structures", "depth"))
    text = stage_statement(partial, kgs["colon"])
    assert not re.search(r"\b[TNM]X\b", text)
    assert text == "N0 M1a (AJCC 8th edition); T cannot be assessed because the structures the tumour invades and the depth of invasion are not stated"

    unknown = StageResult(organ="colon", T="TX", N="NX", M="MX", table="colon_rectum", missing=("depth", "nodes_positive", "distant_metastasis"))
    text = stage_statement(unknown, kgs["colon"])
    assert text.startswith("the TNM stage cannot be assessed because")
    assert not re.search(r"\b[TNM]X\b", text)


def test_conclusion_groups_multifocal_tumour(kgs):
    stage = _hcc_stage(N="N1")
    views = _views(
        kgs,
        _chain("liver", "L2", "hcc", subregion="segment_7", size=16.0, stage=stage),
        _chain("liver", "L1", "hcc", subregion="segment_5", size=45.0, stage=stage),
        _chain("liver", "L3", "simple_cyst", subregion="segment_8", size=34.0),
    )
    text = conclusion(views, kgs)
    assert text == ("Hepatocellular carcinoma, 2 lesions in the liver: segment 5, 45 mm; segment 7, 16 mm; stage T2 N1 M0 (AJCC 8th edition). "
                    "Simple hepatic cyst in segment 8 of the liver, 34 mm.")


def test_lesion_names_tell_same_subregion_apart(kgs):
    larger = _chain("liver", "L1", "metastasis", subregion="segment_8", size=21.0)
    smaller = _chain("liver", "L2", "metastasis", subregion="segment_8", size=16.0)
    names = lesion_names(_views(kgs, larger, smaller))

    assert names[larger.chain_id].reference == "the larger lesion in segment 8 of the liver"
    assert names[smaller.chain_id].reference == "the smaller lesion in segment 8 of the liver"
    assert names[smaller.chain_id].unlocated == "the 16 mm lesion"


def test_lesion_without_distinct_name_gets_no_question(kgs):
    first = _chain("liver", "L1", "metastasis", subregion="segment_8", size=20.0)
    second = _chain("liver", "L2", "metastasis", subregion="segment_8", size=20.0)
    views = _views(kgs, first, second)

    assert lesion_names(views)[first.chain_id].reference is None
    candidates = attribute_candidates(views, None, None, random.Random(0))
    assert [c.subtask for c in candidates] == ["count"]


def test_count_splits_organ_lesions_by_impression(kgs):
    views = _views(
        kgs,
        _chain("liver", "L1", "metastasis", subregion="segment_8", size=21.0),
        _chain("liver", "L2", "metastasis", subregion="segment_7", size=13.0),
        _chain("liver", "L3", "simple_cyst", subregion="segment_5", size=38.0),
    )
    (count,) = [c for c in attribute_candidates(views, None, None, random.Random(0)) if c.subtask == "count"]
    fields = json.loads(count.answer_json)

    assert fields["count"] == 3
    assert fields["by_impression"] == {"metastasis": 2, "simple_cyst": 1}
    assert count.answer == "There are 3 lesions in the liver: 2 in keeping with liver metastasis and 1 in keeping with simple hepatic cyst."
    assert attribute_candidates(views, None, None, random.Random(0), frozenset({"liver"}))[-1].subtask != "count"


def _imaging(*organs: str):
    from data_contracts import ImagingFeatures
    from data_contracts.imaging import OrganFeatures

    features = tuple(OrganFeatures(organ=organ, present=True, voxel_count=10, bbox_norm_xyz=(0.1, 0.1, 0.1, 0.5, 0.5, 0.5)) for organ in organs)
    return ImagingFeatures(case_id="case", ct_path="ct.nii.gz", ct_sha256="0", shape_xyz=(8, 8, 8), spacing_mm_xyz=(1.0, 1.0, 1.0),
                           hu_min=-1000.0, hu_max=1000.0, organs=features)


def test_m_rounds_visit_metastasis_site_before_answering(kgs):
    from data_contracts import MetastasisFinding, ReportFeatures

    stage = StageResult(organ="pancreas", T="T2", N="N1", M="M1", table="pancreas_exocrine", rules=("pancreas_exocrine_T2", "pancreas_exocrine_N1", "pancreas_exocrine_M1"))
    chain = _chain("pancreas", "L1", "pdac", subregion="head", size=26.0, stage=stage)
    report = ReportFeatures(case_id="case", metastases=(MetastasisFinding(metastasis_id="rep-M1", site="liver"),))
    facts = {chain.chain_id: {"max_diameter_mm": 26.0, "node_metastasis": True, "nodes_positive": 2, "distant_metastasis": True}}
    by_axis = {c.subtask: c for c in tnm_candidates(_views(kgs, chain), kgs, facts, _imaging("pancreas", "liver"), report, random.Random(0))}

    m_rounds = by_axis["M"].iir_rounds
    assert [r.attend_organ for r in m_rounds] == ["pancreas", "pancreas", "liver"]
    assert "the pancreatic head" in m_rounds[1].intermediate_answer
    assert m_rounds[-1].intermediate_answer == by_axis["M"].answer
    assert [r.attend_organ for r in by_axis["T"].iir_rounds] == ["pancreas", "pancreas"]
    assert by_axis["N"].iir_rounds[-1].intermediate_answer == by_axis["N"].answer


def test_report_rounds_end_with_conclusion(kgs):
    from engine.qa.iir import MAX_ROUNDS, report_rounds

    views = _views(
        kgs,
        _chain("liver", "L2", "metastasis", subregion="segment_8", size=21.0),
        _chain("pancreas", "L1", "pdac", subregion="head", size=26.0),
    )
    rounds = report_rounds(views, None, _imaging("pancreas", "liver"), "Conclusion text.", ("pancreas",))

    assert len(rounds) <= MAX_ROUNDS
    assert rounds[0].intermediate_answer == "Focal findings are seen in the pancreas and the liver; attend to the pancreas first."
    assert [r.attend_organ for r in rounds] == ["pancreas", "pancreas", "liver"]
    assert rounds[-1].intermediate_answer == "Conclusion text."
