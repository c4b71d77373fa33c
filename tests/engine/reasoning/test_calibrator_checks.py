"""The calibrator's deterministic checks, each shown catching a planted fault in an otherwise valid chain."""

from __future__ import annotations

from data_contracts import EvidenceRef, Flag, Triplet
from engine.agents import calibrator, reasoner
from tests.engine.reasoning.builders import imaging_features, mask_lesion, organ_features

PDAC_REPORT = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring 30 mm, "
    "with upstream pancreatic duct dilatation. The liver is unremarkable.\n"
    "IMPRESSION: Pancreatic head mass, consistent with pancreatic ductal adenocarcinoma."
)
PANCREAS_BOX = (0.40, 0.40, 0.40, 0.70, 0.60, 0.60)


def _imaging(lesion_box=(0.45, 0.45, 0.45, 0.55, 0.55, 0.55), pancreas_present=True, diameter_mm=29.0, lesion_organ="pancreas", subregion=None):
    lesion = mask_lesion("img-L1", lesion_organ, lesion_box, diameter_mm)
    if subregion:
        lesion = lesion.model_copy(update={"subregion": subregion})
    organs = [organ_features("pancreas", PANCREAS_BOX, present=pancreas_present), organ_features("liver", (0.1, 0.3, 0.5, 0.5, 0.8, 0.9)),
              organ_features("duodenum", (0.60, 0.35, 0.35, 0.85, 0.60, 0.60))]
    return imaging_features("case-1", organs, [lesion])


def _reasoned(make_state, make_ctx, text=PDAC_REPORT, imaging=None):
    ctx = make_ctx()
    state = reasoner.run(make_state(text, imaging=imaging), ctx)
    chain = next(c for c in state.chains if c.organ == "pancreas")
    return state, ctx, chain


def _replace_step(chain, step_id, **changes):
    steps = tuple(s.model_copy(update=changes) if s.step_id == step_id else s for s in chain.steps)
    return chain.model_copy(update={"steps": steps})


def _codes(failures):
    return [f.code for f in failures]


def test_valid_rules_chain_passes_every_check(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx, imaging=_imaging())

    assert calibrator.check_chain(chain, state, ctx) == []
    for other in state.chains:
        assert calibrator.check_chain(other, state, ctx) == [], other.chain_id


def test_check_chain_is_repeatable(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    planted = _replace_step(chain, "F2", triplet=Triplet(subject="lesion:pancreatic_lesion", predicate="has_density", object="finding:hyperdense"))

    first = calibrator.check_chain(planted, state, ctx)
    second = calibrator.check_chain(planted, state, ctx)
    assert first == second
    assert first


def test_non_edge_triplet_is_kg_edge_missing(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    planted = _replace_step(chain, "Im1", triplet=Triplet(subject="finding:hypodense", predicate="suggests", object="impression:serous_cystadenoma"))

    failures = calibrator.check_chain(planted, state, ctx)
    assert ("kg_edge_missing", "Im1") in [(f.code, f.step_id) for f in failures]


def test_reversed_support_is_kg_contradiction(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    planted = _replace_step(chain, "Im1", triplet=Triplet(subject="finding:cystic", predicate="suggests", object="impression:pdac"), kg_edge_id=None)

    failures = calibrator.check_chain(planted, state, ctx)
    assert ("kg_contradiction", "Im1") in [(f.code, f.step_id) for f in failures]


def test_wrong_edge_id_is_kg_edge_missing(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    planted = _replace_step(chain, "F2", kg_edge_id="lesion:pancreatic_lesion|has_density|finding:cystic")

    assert ("kg_edge_missing", "F2") in [(f.code, f.step_id) for f in calibrator.check_chain(planted, state, ctx)]


def test_finding_absent_from_report_is_hallucinated(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    fake = EvidenceRef(kind="report", ref_id="rep-L1", field="density", value="hyperdense")
    planted = _replace_step(chain, "F2", triplet=Triplet(subject="lesion:pancreatic_lesion", predicate="has_density", object="finding:hyperdense"),
                            kg_edge_id="lesion:pancreatic_lesion|has_density|finding:hyperdense", evidence=(fake,))

    failures = calibrator.check_chain(planted, state, ctx)
    assert _codes(failures) == ["hallucinated_finding", "hallucinated_finding"]
    assert "extracted value is 'hypodense'" in failures[0].message


def test_cited_unknown_feature_is_hallucinated(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    fake = EvidenceRef(kind="report", ref_id="rep-L9", field="density", value="hypodense")
    planted = _replace_step(chain, "F2", evidence=(fake,))

    failures = calibrator.check_chain(planted, state, ctx)
    assert ("hallucinated_finding", "F2") in [(f.code, f.step_id) for f in failures]
    assert "not an extracted feature" in failures[0].message


def test_cited_wrong_size_is_hallucinated(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    wrong = tuple(r.model_copy(update={"value": "45"}) if r.field == "max_diameter_mm" else r for r in chain.steps[0].evidence)
    planted = _replace_step(chain, "F1", evidence=wrong)

    assert ("hallucinated_finding", "F1") in [(f.code, f.step_id) for f in calibrator.check_chain(planted, state, ctx)]


def test_wrong_location_is_hallucinated(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    planted = _replace_step(chain, "F1", triplet=Triplet(subject="lesion:pancreatic_lesion", predicate="located_in", object="subregion:tail"),
                            kg_edge_id="lesion:pancreatic_lesion|located_in|subregion:tail")

    assert ("hallucinated_finding", "F1") in [(f.code, f.step_id) for f in calibrator.check_chain(planted, state, ctx)]


def test_negated_lesion_cited_is_hallucinated(make_state, make_ctx):
    text = PDAC_REPORT + "\nNo focal liver lesion."
    state, ctx, chain = _reasoned(make_state, make_ctx, text=text)
    negated = next(les for les in state.report.lesions if les.negated)
    planted = _replace_step(chain, "F1", evidence=(EvidenceRef(kind="report", ref_id=negated.finding_id, field="subregions", value="head"),))

    assert "hallucinated_finding" in _codes(calibrator.check_chain(planted, state, ctx))


def test_impression_without_support_is_unsupported(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    planted = chain.model_copy(update={"steps": tuple(s for s in chain.steps if s.level != "impression")})

    assert _codes(calibrator.check_chain(planted, state, ctx)) == ["unsupported_impression"]


def test_contradicting_finding_is_caught(make_state, make_ctx):
    text = "FINDINGS: Hypodense, well-defined mass in the pancreatic head measuring 30 mm.\nIMPRESSION: Pancreatic ductal adenocarcinoma."
    state, ctx, chain = _reasoned(make_state, make_ctx, text=text)
    failures = calibrator.check_chain(chain, state, ctx)

    assert chain.impression_id == "pdac"
    assert _codes(failures) == ["contradicted_impression"]
    assert "finding:well_defined" in failures[0].message


def test_organ_without_mask_is_imaging_mismatch(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx, imaging=_imaging(pancreas_present=False))

    assert _codes(calibrator.check_chain(chain, state, ctx)) == ["imaging_text_mismatch"]


def test_lesion_box_outside_organ_is_imaging_mismatch(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx, imaging=_imaging(lesion_box=(0.62, 0.45, 0.45, 0.80, 0.55, 0.55)))
    failures = calibrator.check_chain(chain, state, ctx)

    assert _codes(failures) == ["imaging_text_mismatch"]
    assert "outside the pancreas region" in failures[0].message


def test_mask_subregion_disagreeing_is_imaging_mismatch(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx, imaging=_imaging(subregion="tail"))

    assert ("imaging_text_mismatch", "F1") in [(f.code, f.step_id) for f in calibrator.check_chain(chain, state, ctx)]


def test_mask_in_uncinate_agrees_with_head(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx, imaging=_imaging(subregion="uncinate_process"))

    assert calibrator.check_chain(chain, state, ctx) == []


def test_stated_size_far_from_mask_is_imaging_mismatch(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx, imaging=_imaging(diameter_mm=3.0))

    assert ("imaging_text_mismatch", "F1") in [(f.code, f.step_id) for f in calibrator.check_chain(chain, state, ctx)]


def test_size_impossible_for_organ_is_implausible(make_state, make_ctx):
    text = "FINDINGS: Hypodense mass in the pancreatic head measuring 30 cm."
    state, ctx, chain = _reasoned(make_state, make_ctx, text=text)

    assert ("implausible_size", "F1") in [(f.code, f.step_id) for f in calibrator.check_chain(chain, state, ctx)]


def test_wrong_stage_is_stage_mismatch(make_state, make_ctx):
    state, ctx, chain = _reasoned(make_state, make_ctx)
    staging = next(s for s in chain.steps if s.level == "pathology")
    planted = _replace_step(chain, staging.step_id, triplet=Triplet(subject="impression:pdac", predicate="staged_as", object="stage:T3"),
                            kg_edge_id="impression:pdac|staged_as|stage:T3")

    failures = calibrator.check_chain(planted, state, ctx)
    assert [(f.code, f.step_id) for f in failures] == [("stage_mismatch", staging.step_id)]
    assert "AJCC 8 rules give T2" in failures[0].message


def test_normal_chain_over_reported_lesion_is_hallucinated(make_state, make_ctx):
    state, ctx, _ = _reasoned(make_state, make_ctx)
    liver = next(c for c in state.chains if c.organ == "liver")
    pancreas_normal = liver.model_copy(update={"organ": "pancreas", "chain_id": "case-1/pancreas/normal"})

    assert "hallucinated_finding" in _codes(calibrator.check_chain(pancreas_normal, state, ctx))


def test_report_flags_are_carried(make_state, make_ctx):
    ctx = make_ctx()
    state = make_state(PDAC_REPORT)
    flags = (Flag(code="implausible_size", message="case case-1: rep-L1 size 300 mm is implausible for the pancreas", field="max_diameter_mm"),
             Flag(code="inconsistent_location", message="case case-1: rep-L1 is in the head in findings but the tail in the impression", field="subregions"))
    state = state.replace(report=state.report.model_copy(update={"flags": flags}))

    calibrated = calibrator.run(reasoner.run(state, ctx), ctx)
    assert [f.code for f in calibrated.flags] == ["implausible_size", "inconsistent_location"]
    again = calibrator.run(calibrated, ctx)
    assert len(again.flags) == 2
