"""The rules reasoner: KG-grounded steps, evidence, confidence, seeded phrasing and normal chains."""

from __future__ import annotations

from engine.agents import reasoner
from tests.engine.reasoning.builders import imaging_features, mask_lesion, organ_features

PDAC_REPORT = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring 30 mm, "
    "with upstream pancreatic duct dilatation. The liver is unremarkable.\n"
    "IMPRESSION: Pancreatic head mass, consistent with pancreatic ductal adenocarcinoma."
)


def _chain(state, organ):
    return next(c for c in state.chains if c.organ == organ and not c.normal)


def test_lesion_chain_steps_are_kg_edges(make_state, make_ctx, kgs):
    state = reasoner.run(make_state(PDAC_REPORT), make_ctx())
    chain = _chain(state, "pancreas")
    kg = kgs["pancreas"]

    assert chain.impression_id == "pdac"
    for step in chain.steps:
        edge = kg.find_edge(step.triplet.subject, step.triplet.predicate, step.triplet.object)
        assert edge is not None, step
        assert step.kg_edge_id == edge.edge_id


def test_lesion_chain_orders_findings_impressions_staging(make_state, make_ctx):
    chain = _chain(reasoner.run(make_state(PDAC_REPORT), make_ctx()), "pancreas")
    levels = [step.level for step in chain.steps]
    ids = [step.step_id for step in chain.steps]

    assert levels == sorted(levels, key=["finding", "impression", "pathology"].index)
    assert ids[0] == "F1"
    assert ids[levels.index("impression")] == "Im1"
    assert ids[levels.index("pathology")] == "P1"
    assert chain.steps[0].triplet.predicate == "located_in"
    assert chain.steps[0].triplet.object == "subregion:head"
    objects = [s.triplet.object for s in chain.steps if s.level == "finding"]
    assert objects[1:5] == ["finding:hypodense", "finding:hypoenhancing", "finding:ill_defined", "finding:upstream_duct_dilatation"]


def test_finding_steps_cite_report_spans(make_state, make_ctx):
    state = make_state(PDAC_REPORT)
    chain = _chain(reasoner.run(state, make_ctx()), "pancreas")
    density = next(s for s in chain.steps if s.triplet.object == "finding:hypodense")
    ref = density.evidence[0]

    assert (ref.kind, ref.ref_id, ref.field, ref.value) == ("report", "rep-L1", "density", "hypodense")
    assert ref.span is not None
    assert state.report_text[ref.span.start:ref.span.end] == ref.span.text
    assert ref.span.text.lower() == "hypodense"


def test_impression_steps_cite_kg_strength(make_state, make_ctx, kgs):
    chain = _chain(reasoner.run(make_state(PDAC_REPORT), make_ctx()), "pancreas")
    impressions = [s for s in chain.steps if s.level == "impression"]
    strengths = dict(kgs["pancreas"].supporting_findings("pdac"))

    assert impressions
    for step in impressions:
        kg_ref = next(r for r in step.evidence if r.kind == "kg")
        strength = strengths[step.triplet.subject.removeprefix("finding:")]
        assert kg_ref.ref_id == step.kg_edge_id
        assert float(kg_ref.value) == strength
        assert step.confidence == round(strength, 3)


def test_hedged_impression_lowers_confidence(make_state, make_ctx):
    definite = _chain(reasoner.run(make_state(PDAC_REPORT), make_ctx()), "pancreas")
    hedged_text = PDAC_REPORT.replace("consistent with", "probable")
    hedged = _chain(reasoner.run(make_state(hedged_text), make_ctx()), "pancreas")

    assert hedged.impression_id == "pdac"
    first_definite = next(s for s in definite.steps if s.level == "impression")
    first_hedged = next(s for s in hedged.steps if s.level == "impression")
    assert first_hedged.confidence < first_definite.confidence


def test_possible_impression_is_not_asserted(make_state, make_ctx):
    possible_text = PDAC_REPORT.replace("consistent with", "possible")
    chain = _chain(reasoner.run(make_state(possible_text), make_ctx()), "pancreas")

    assert chain.impression_id is None
    assert not [s for s in chain.steps if s.level in ("impression", "pathology")]
    assert [s for s in chain.steps if s.level == "finding"]


def test_staging_step_cites_rule_and_size(make_state, make_ctx):
    chain = _chain(reasoner.run(make_state(PDAC_REPORT), make_ctx()), "pancreas")
    staging = [s for s in chain.steps if s.level == "pathology"]

    assert chain.stage is not None
    assert chain.stage.T == "T2"
    assert staging[0].triplet.object == "stage:T2"
    cited = {(r.kind, r.ref_id, r.field, r.value) for r in staging[0].evidence}
    assert ("kg", "rule:pancreas_exocrine_T2", "category", "T2") in cited
    assert ("report", "rep-L1", "max_diameter_mm", "30") in cited


def test_same_seed_reproduces_sentences(make_state, make_ctx):
    first = reasoner.run(make_state(PDAC_REPORT), make_ctx(seed=7))
    second = reasoner.run(make_state(PDAC_REPORT), make_ctx(seed=7))

    assert [s.sentence for c in first.chains for s in c.steps] == [s.sentence for c in second.chains for s in c.steps]


def test_phrasing_varies_across_cases(make_state, make_ctx):
    sentences = set()
    for number in range(8):
        state = reasoner.run(make_state(PDAC_REPORT, case_id=f"case-{number}"), make_ctx())
        sentences.add(tuple(s.sentence for s in _chain(state, "pancreas").steps))

    assert len(sentences) > 1


def test_phrasing_changes_wording_not_triplets(make_state, make_ctx):
    first_case = _chain(reasoner.run(make_state(PDAC_REPORT, case_id="case-a"), make_ctx()), "pancreas")
    second_case = _chain(reasoner.run(make_state(PDAC_REPORT, case_id="case-b"), make_ctx()), "pancreas")

    assert [s.triplet for s in first_case.steps] == [s.triplet for s in second_case.steps]


def test_report_normal_organ_gets_normal_chain(make_state, make_ctx):
    state = reasoner.run(make_state(PDAC_REPORT), make_ctx())
    liver = next(c for c in state.chains if c.organ == "liver")

    assert liver.normal
    assert liver.impression_id is None
    assert len(liver.steps) == 1
    assert liver.steps[0].triplet.predicate == "located_in"
    assert liver.steps[0].evidence[0].ref_id == "organs_normal"


def test_masked_organ_without_finding_gets_normal_chain(make_state, make_ctx):
    imaging = imaging_features("case-1", [organ_features("pancreas", (0.4, 0.4, 0.4, 0.6, 0.6, 0.6)), organ_features("stomach", (0.5, 0.5, 0.5, 0.8, 0.8, 0.8))])
    state = reasoner.run(make_state(PDAC_REPORT, imaging=imaging), make_ctx())
    stomach = next(c for c in state.chains if c.organ == "stomach")

    assert stomach.normal
    assert stomach.steps[0].confidence < 1.0
    assert {r.ref_id for r in stomach.steps[0].evidence} == {"organ:stomach"}


def test_negated_lesion_never_becomes_finding(make_state, make_ctx):
    text = "FINDINGS: Hypodense mass in the pancreatic tail measuring 20 mm. No focal liver lesion."
    state = reasoner.run(make_state(text), make_ctx())

    assert [c.organ for c in state.chains if not c.normal] == ["pancreas"]
    cited = {r.ref_id for c in state.chains for s in c.steps for r in s.evidence}
    negated = {les.finding_id for les in state.report.lesions if les.negated}
    assert negated
    assert not cited & negated


def test_lesion_chain_cites_matching_mask(make_state, make_ctx):
    imaging = imaging_features(
        "case-1",
        [organ_features("pancreas", (0.40, 0.40, 0.40, 0.70, 0.60, 0.60))],
        [mask_lesion("img-L1", "pancreas", (0.45, 0.45, 0.45, 0.55, 0.55, 0.55))],
    )
    chain = _chain(reasoner.run(make_state(PDAC_REPORT, imaging=imaging), make_ctx()), "pancreas")
    location = chain.steps[0]

    assert chain.lesion_ids == ("rep-L1", "img-L1")
    cited = {(r.kind, r.ref_id, r.field) for r in location.evidence}
    assert ("imaging", "img-L1", "max_axial_diameter_mm") in cited
    assert ("imaging", "img-L1", "bbox_norm_xyz") in cited
    assert ("imaging", "organ:pancreas", "bbox_norm_xyz") in cited


def test_reason_organ_matches_run(make_state, make_ctx):
    state = make_state(PDAC_REPORT)
    ctx = make_ctx()
    from_run = _chain(reasoner.run(state, ctx), "pancreas")

    assert reasoner.reason_organ("pancreas", state, ctx) == from_run


LIVER_METASTASES = (
    "FINDINGS: Hypodense lesion with rim enhancement in segment 6 measuring 25 mm.\n"
    "IMPRESSION: Liver metastases."
)


def _with_count(state, count, multiple):
    lesion = state.report.lesions[0].model_copy(update={"count": count, "multiple": multiple})
    return state.replace(report=state.report.model_copy(update={"lesions": (lesion,)}))


def test_count_stated_twice_gives_one_step(make_state, make_ctx):
    state = _with_count(make_state(LIVER_METASTASES), 3, True)
    chain = _chain(reasoner.run(state, make_ctx()), "liver")
    count_steps = [s for s in chain.steps if s.triplet.predicate == "has_count"]

    assert len(count_steps) == 1
    assert count_steps[0].triplet.object == "finding:multiple"
    assert {r.field for r in count_steps[0].evidence} == {"count", "multiple"}
    assert "three" in count_steps[0].sentence


def test_contradictory_count_gives_no_step(make_state, make_ctx):
    state = _with_count(make_state(LIVER_METASTASES), 1, True)
    chain = _chain(reasoner.run(state, make_ctx()), "liver")

    assert chain.impression_id == "metastasis"
    assert not [s for s in chain.steps if s.triplet.predicate == "has_count"]
