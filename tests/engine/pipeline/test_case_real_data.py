"""The six agents on the real CT and masks with real report texts."""

from __future__ import annotations

import json

import pytest

from data_contracts import TASK_TYPES, VQASample
from engine.pipeline import run_case
from engine.state import CaseState
from tests.engine.pipeline.conftest import real_case

# Reports whose main organ is inside the cropped example scan (liver, stomach, pancreas, colon).
IN_SCAN_REPORTS = ("pancreas_pdac_01.txt", "stomach_gastric_ca_01.txt", "liver_hemangioma_01.txt", "colon_adenocarcinoma_ct_01.txt")
TERM_SUBTASKS = {"density": "density", "shape": "shape", "boundary": "boundary", "enhancement": "enhancement", "subregion": "subregions"}


def _edge_kgs(sample: VQASample, result, ctx):
    organ_of_chain = {c.chain_id: c.organ for c in result.chains}
    organs = {organ_of_chain[c] for c in sample.provenance.chain_ids if c in organ_of_chain} or set(ctx.kgs)
    return [ctx.kgs[o] for o in organs]


def assert_chain_steps_are_kg_edges(result, ctx):
    for sample in result.samples:
        kgs = _edge_kgs(sample, result, ctx)
        for step in sample.chain:
            edges = [kg.find_edge(step.triplet.subject, step.triplet.predicate, step.triplet.object) for kg in kgs]
            found = [e for e in edges if e is not None]
            assert found, f"{sample.subtask} step {step.step_id} {step.triplet} is not a KG edge"
            assert step.kg_edge_id in {e.edge_id for e in found}, step


def extracted_report(case, ctx):
    from engine.agents import extractor

    return extractor.run(CaseState(case=case), ctx).report


def assert_attribute_answers_match_report(result, report):
    lesions = {lesion.finding_id: lesion for lesion in report.lesions}
    chains = {c.chain_id: c for c in result.chains}
    checked = 0
    for sample in result.samples:
        if sample.task_type != "attribute":
            continue
        answer = json.loads(sample.answer_json)
        chain = chains[sample.provenance.chain_ids[0]]
        lesion = next(lesions[i] for i in chain.lesion_ids if i in lesions)
        if sample.subtask == "size":
            assert answer["max_diameter_mm"] == pytest.approx(lesion.max_diameter_mm), sample.question
        elif sample.subtask == "count":
            assert_count_matches_lesions(answer, [lesions[i] for c in sample.provenance.chain_ids for i in chains[c].lesion_ids if i in lesions])
        elif sample.subtask in TERM_SUBTASKS:
            stated = getattr(lesion, TERM_SUBTASKS[sample.subtask])
            stated = set(stated) if isinstance(stated, tuple) else {stated}
            assert set(answer["values"]) <= stated | {s.removeprefix("subregion:") for s in stated}, (sample.subtask, answer, stated)
        checked += 1
    assert checked > 0, "no attribute sample was checked"


def assert_count_matches_lesions(answer, organ_lesions):
    """An organ's count is one per lesion chain, or the report's number when one lesion describes several."""
    assert organ_lesions, answer
    if len(organ_lesions) > 1:
        assert answer["count"] is None or answer["count"] >= len(organ_lesions), answer
    elif organ_lesions[0].count:
        assert answer["count"] == organ_lesions[0].count, answer
    elif organ_lesions[0].multiple:
        assert answer["count"] is None, answer
    else:
        assert answer["count"] == 1, answer


@pytest.mark.shared_data
def test_pancreas_report_yields_all_four_task_types(shared_data, engine_ctx):
    case = real_case(shared_data, "pancreas_pdac_04.txt")
    result = run_case(case, engine_ctx)

    assert result.rejects == [] or all(r.organ for r in result.rejects), result.rejects
    assert {s.task_type for s in result.samples} == set(TASK_TYPES)
    assert_chain_steps_are_kg_edges(result, engine_ctx)
    assert_attribute_answers_match_report(result, extracted_report(case, engine_ctx))


@pytest.mark.shared_data
@pytest.mark.parametrize("report", IN_SCAN_REPORTS)
def test_in_scan_reports_give_grounded_samples(shared_data, engine_ctx, report):
    case = real_case(shared_data, report)
    result = run_case(case, engine_ctx)

    assert result.samples, result.rejects
    assert {"localization", "attribute", "cot_report"} <= {s.task_type for s in result.samples}
    assert_chain_steps_are_kg_edges(result, engine_ctx)
    assert_attribute_answers_match_report(result, extracted_report(case, engine_ctx))
    for sample in result.samples:
        assert sample.provenance.input_hash == result.input_hash
        assert sample.provenance.kg_version == engine_ctx.kg_version
        assert [a.agent for a in sample.provenance.agents] == ["segmenter", "extractor", "reasoner", "calibrator", "summarizer", "composer"]
        assert sample.iir_rounds[0].round == 1


@pytest.mark.shared_data
def test_organ_boxes_come_from_masks(shared_data, engine_ctx):
    from engine.agents import segmenter

    case = real_case(shared_data, "pancreas_pdac_01.txt")
    imaging = segmenter.run(CaseState(case=case), engine_ctx).imaging
    result = run_case(case, engine_ctx)

    boxes = [s for s in result.samples if s.subtask == "organ_bbox"]
    assert boxes
    for sample in boxes:
        answer = json.loads(sample.answer_json)
        expected = imaging.organ(sample.organ).bbox_norm_xyz
        assert answer["bbox_norm_xyz"] == pytest.approx(list(expected), abs=1e-4)
        assert answer["axis_order"] == "xyz"
        assert answer["orientation"] == "RAS"
        assert all(0.0 <= v <= 1.0 for v in answer["bbox_norm_xyz"])


@pytest.mark.shared_data
def test_cot_report_walks_organ_in_think_block(shared_data, engine_ctx):
    result = run_case(real_case(shared_data, "pancreas_pdac_01.txt"), engine_ctx)

    report = next(s for s in result.samples if s.subtask == "report")
    assert "pancreas" in report.think
    assert "mask is present" in report.think
    assert report.answer
    assert "<think>" not in report.answer


@pytest.mark.shared_data
def test_same_case_twice_gives_identical_samples(shared_data, engine_ctx):
    case = real_case(shared_data, "pancreas_pdac_01.txt")
    first = run_case(case, engine_ctx)
    second = run_case(case, engine_ctx)

    assert [s.sample_id for s in first.samples] == [s.sample_id for s in second.samples]
    assert [s.model_dump_json() for s in first.samples] == [s.model_dump_json() for s in second.samples]
    assert len({s.sample_id for s in first.samples}) == len(first.samples)


@pytest.mark.shared_data
def test_all_samples_of_a_case_share_its_split(shared_data, engine_ctx):
    result = run_case(real_case(shared_data, "liver_hemangioma_01.txt"), engine_ctx)
    assert len({s.split for s in result.samples}) == 1

    forced = run_case(real_case(shared_data, "liver_hemangioma_01.txt"), engine_ctx, split="test")
    assert {s.split for s in forced.samples} == {"test"}
