"""Repair rounds: each strategy shown on the chain before and after, bounded rounds, and rejects."""

from __future__ import annotations

from data_contracts import EvidenceSpan, FieldEvidence, Flag
from engine.agents import calibrator, reasoner
from engine.reasoning import PathologyTruth
from tests.engine.reasoning.builders import imaging_features, mask_lesion, organ_features

PDAC_REPORT = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring 30 mm, "
    "with upstream pancreatic duct dilatation.\n"
    "IMPRESSION: Pancreatic ductal adenocarcinoma."
)
WELL_DEFINED_REPORT = "FINDINGS: Hypodense, well-defined mass in the pancreatic head measuring 30 mm.\nIMPRESSION: Pancreatic ductal adenocarcinoma."
PANCREAS_BOX = (0.40, 0.40, 0.40, 0.70, 0.60, 0.60)
DUODENUM_BOX = (0.60, 0.35, 0.35, 0.85, 0.60, 0.60)


def _imaging(lesion_box, pancreas_present=True, subregion=None):
    lesion = mask_lesion("img-L1", "pancreas", lesion_box)
    if subregion:
        lesion = lesion.model_copy(update={"subregion": subregion})
    organs = [organ_features("pancreas", PANCREAS_BOX, present=pancreas_present), organ_features("duodenum", DUODENUM_BOX)]
    return imaging_features("case-1", organs, [lesion])


def _pancreas(chains):
    return next(c for c in chains if c.organ == "pancreas")


def test_expand_region_admits_lesion_reaching_duodenum(make_state, make_ctx):
    ctx = make_ctx()
    state = reasoner.run(make_state(PDAC_REPORT, imaging=_imaging((0.62, 0.45, 0.45, 0.80, 0.55, 0.55))), ctx)
    before = _pancreas(state.chains)
    assert [f.code for f in calibrator.check_chain(before, state, ctx)] == ["imaging_text_mismatch"]

    after = _pancreas(calibrator.run(state, ctx).chains)

    assert after.status == "accepted"
    assert len(after.repairs) == 1
    record = after.repairs[0]
    assert (record.round, record.strategy, record.resolved) == (1, "expand_region", True)
    assert [f.code for f in record.failed_checks] == ["imaging_text_mismatch"]
    assert "organ:duodenum" in record.note
    cited_before = {(r.ref_id, r.field) for r in before.steps[0].evidence}
    cited_after = {(r.ref_id, r.field) for r in after.steps[0].evidence}
    assert cited_after - cited_before == {("organ:duodenum", "bbox_norm_xyz")}
    assert [s.triplet for s in after.steps] == [s.triplet for s in before.steps]
    assert after.steps[1:] == before.steps[1:]


def test_suspected_causes_replace_contradicted_impression(make_state, make_ctx):
    ctx = make_ctx()
    state = reasoner.run(make_state(WELL_DEFINED_REPORT), ctx)
    before = _pancreas(state.chains)
    assert before.impression_id == "pdac"
    assert [f.code for f in calibrator.check_chain(before, state, ctx)] == ["contradicted_impression"]

    after = _pancreas(calibrator.run(state, ctx).chains)

    assert after.status == "accepted"
    assert after.impression_id == "pnet"
    record = after.repairs[0]
    assert (record.strategy, record.resolved) == ("suspected_causes", True)
    assert "differential pnet" in record.note
    findings_before = [s for s in before.steps if s.level == "finding"]
    findings_after = [s for s in after.steps if s.level == "finding"]
    assert findings_after == findings_before
    assert {s.triplet.object for s in before.steps if s.level == "impression"} == {"impression:pdac"}
    assert {s.triplet.object for s in after.steps if s.level == "impression"} == {"impression:pnet"}
    assert after.stage.table == "pancreas_net"


def test_unrepairable_chain_is_rejected_with_last_code(make_state, make_ctx):
    ctx = make_ctx(repair_rounds=2)
    state = reasoner.run(make_state(PDAC_REPORT, imaging=_imaging((0.45, 0.45, 0.45, 0.55, 0.55, 0.55), pancreas_present=False)), ctx)

    calibrated = calibrator.run(state, ctx)

    assert all(c.organ != "pancreas" for c in calibrated.chains)
    rejected = _pancreas(calibrated.extras["rejected_chains"])
    assert (rejected.status, rejected.reject_code) == ("rejected", "imaging_text_mismatch")
    assert [r.strategy for r in rejected.repairs] == ["expand_region", "expand_region"]
    assert not any(r.resolved for r in rejected.repairs)
    record = next(r for r in calibrated.rejects if r.organ == "pancreas")
    assert (record.agent, record.reason_code) == ("calibrator", "imaging_text_mismatch")
    assert "pancreas has no mask" in record.message


def test_zero_rounds_rejects_without_repair(make_state, make_ctx):
    ctx = make_ctx(repair_rounds=0)
    state = reasoner.run(make_state(WELL_DEFINED_REPORT), ctx)

    calibrated = calibrator.run(state, ctx)

    rejected = _pancreas(calibrated.extras["rejected_chains"])
    assert rejected.reject_code == "contradicted_impression"
    assert rejected.repairs == ()


def test_reextract_keeps_findings_section_location(make_state, make_ctx):
    text = "FINDINGS: Hypodense mass in the pancreatic head measuring 30 mm.\nIMPRESSION: Pancreatic tail mass, likely pancreatic ductal adenocarcinoma."
    ctx = make_ctx()
    state = make_state(text, imaging=_imaging((0.45, 0.45, 0.45, 0.55, 0.55, 0.55), subregion="head"))
    state = _merge_conflicting_locations(state, text)
    state = reasoner.run(state, ctx)
    before = _pancreas(state.chains)
    located = [s.triplet.object for s in before.steps if s.triplet.predicate == "located_in"]
    assert located == ["subregion:head", "subregion:tail"]

    after = _pancreas(calibrator.run(state, ctx).chains)

    assert after.repairs[0].strategy == "reextract"
    assert after.repairs[0].resolved
    assert [s.triplet.object for s in after.steps if s.triplet.predicate == "located_in"] == ["subregion:head"]


def _merge_conflicting_locations(state, text):
    """Describe one lesion placed in the head by the findings and in the tail by the impression, as a flagged extractor output."""
    report = state.report
    head = next(les for les in report.lesions if "head" in les.subregions)
    start = text.index("Pancreatic tail")
    tail_span = EvidenceSpan(source="report", start=start, end=start + len("Pancreatic tail"), text="Pancreatic tail", section="impression")
    merged = head.model_copy(update={
        "subregions": ("head", "tail"), "impression_id": "pdac",
        "evidence": head.evidence + (FieldEvidence(field="subregions", span=tail_span),),
    })
    flag = Flag(code="inconsistent_location", message="case case-1: rep-L1 is in the head in findings and in the tail in the impression", field="subregions")
    return state.replace(report=report.model_copy(update={"lesions": (merged,), "flags": (flag,)}))


def test_pathology_feedback_round_follows_histology(make_state, make_ctx):
    ctx = make_ctx()
    state = reasoner.run(make_state(WELL_DEFINED_REPORT), ctx)
    before = _pancreas(state.chains)
    failures = calibrator.check_chain(before, state, ctx)

    after = calibrator.repair_chain(before, failures, state, ctx, "pathology_feedback", truth=PathologyTruth(histology="neuroendocrine tumour"))

    assert after.impression_id == "pnet"
    assert after.repairs[-1].strategy == "pathology_feedback"
    assert after.repairs[-1].resolved
    assert calibrator.check_chain(after, state, ctx) == []


def test_unsupported_named_impression_keeps_findings(make_state, make_ctx):
    text = "FINDINGS: Hypodense mass in the pancreatic tail measuring 20 mm.\nIMPRESSION: Pancreatic neuroendocrine tumour."
    ctx = make_ctx()
    state = reasoner.run(make_state(text), ctx)
    before = _pancreas(state.chains)
    assert before.impression_id == "pnet"
    assert [f.code for f in calibrator.check_chain(before, state, ctx)] == ["unsupported_impression"]

    after = _pancreas(calibrator.run(state, ctx).chains)

    # Hypodense alone supports PDAC in the KG, but nothing contradicts the reported PNET, so the chain keeps its findings only.
    assert after.status == "accepted"
    assert after.impression_id is None
    assert [s.triplet.object for s in after.steps] == ["subregion:tail", "finding:hypodense"]
    assert after.repairs[0].strategy == "suspected_causes"
    assert "differential empty" in after.repairs[0].note


def test_unsupported_impression_without_differential_keeps_findings(make_state, make_ctx):
    text = "FINDINGS: Mass in the pancreatic tail measuring 20 mm.\nIMPRESSION: Pancreatic neuroendocrine tumour."
    ctx = make_ctx()
    state = reasoner.run(make_state(text), ctx)
    before = _pancreas(state.chains)
    assert before.impression_id == "pnet"
    assert [f.code for f in calibrator.check_chain(before, state, ctx)] == ["unsupported_impression"]

    after = _pancreas(calibrator.run(state, ctx).chains)

    assert after.status == "accepted"
    assert after.impression_id is None
    assert after.stage is None
    assert [s.level for s in after.steps] == ["finding"]
    assert after.steps == before.steps[:1]
    assert after.repairs[0].strategy == "suspected_causes"
    assert "impression pnet -> None" in after.repairs[0].note


def test_mixed_failures_try_both_strategies(make_state, make_ctx):
    ctx = make_ctx(repair_rounds=2)
    imaging = _imaging((0.45, 0.45, 0.45, 0.55, 0.55, 0.55), pancreas_present=False)
    state = reasoner.run(make_state(WELL_DEFINED_REPORT, imaging=imaging), ctx)
    before = _pancreas(state.chains)
    assert [f.code for f in calibrator.check_chain(before, state, ctx)] == ["contradicted_impression", "imaging_text_mismatch"]

    rejected = _pancreas(calibrator.run(state, ctx).extras["rejected_chains"])

    assert [r.strategy for r in rejected.repairs] == ["suspected_causes", "expand_region"]
    assert rejected.reject_code == "imaging_text_mismatch"
    assert rejected.impression_id == "pnet"


def test_repair_never_turns_cancer_benign(make_state, make_ctx):
    text = "FINDINGS: A 20 mm intraluminal polypoid mass in the rectum.\nIMPRESSION: Rectal adenocarcinoma."
    ctx = make_ctx()
    state = reasoner.run(make_state(text), ctx)
    before = next(c for c in state.chains if c.organ == "colon")
    assert before.impression_id == "colorectal_adenocarcinoma"
    assert [f.code for f in calibrator.check_chain(before, state, ctx)] == ["unsupported_impression"]

    after = next(c for c in calibrator.run(state, ctx).chains if c.organ == "colon")

    assert after.status == "accepted"
    assert after.impression_id is None
    assert after.repairs[0].strategy == "suspected_causes"
    assert "differential empty" in after.repairs[0].note
    assert [s.level for s in after.steps] == ["finding", "finding"]


def test_repair_offers_causes_of_report_behaviour(make_state, make_ctx, kgs):
    text = "FINDINGS: A 50 mm cystic mass in the pancreatic head with calcifications.\nIMPRESSION: Pancreatic adenocarcinoma."
    ctx = make_ctx()
    after = _pancreas(calibrator.run(reasoner.run(make_state(text), ctx), ctx).chains)

    assert after.impression_id is not None
    assert kgs["pancreas"].impressions[after.impression_id].behaviour == "malignant"
    assert "serous_cystadenoma" not in after.repairs[0].note
