"""Counterfactuals: one fact changed in a report changes what the AJCC 8 rules require, and nothing else.

Each test extracts two report texts with the real extractor, reasons both with
the rules backend, and compares the whole chains step by step (keyed by triplet,
since an added step shifts the step numbers after it). Node counts come from the
pathology report: CT only suspects nodes, and the AJCC 8 N rules count positive ones.
"""

from __future__ import annotations

from engine.agents import calibrator, reasoner

BASE = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring {size} mm.{vessel} "
    "Three enlarged peripancreatic lymph nodes.\n"
    "IMPRESSION: Pancreatic ductal adenocarcinoma."
)
PATHOLOGY = (
    "Pancreaticoduodenectomy: moderately differentiated ductal adenocarcinoma of the pancreatic head, 3.0 cm.\n"
    "Metastatic carcinoma in {positive}/14 lymph nodes. Margins negative."
)


def _report(size="30", vessel=""):
    return BASE.format(size=size, vessel=vessel)


def _pancreas_chain(make_state, make_ctx, text, pathology_text=None):
    ctx = make_ctx()
    state = reasoner.run(make_state(text, pathology_text=pathology_text), ctx)
    chain = next(c for c in state.chains if c.organ == "pancreas")
    assert calibrator.check_chain(chain, state, ctx) == []
    return chain


def _by_triplet(chain):
    """Return each step's content by triplet; span offsets are left out, because inserted text moves the spans after it."""
    steps = {}
    for step in chain.steps:
        content = step.model_dump(exclude={"step_id"})
        for ref in content["evidence"]:
            if ref["span"] is not None:
                ref["span"] = {key: value for key, value in ref["span"].items() if key not in ("start", "end")}
        steps[(step.triplet.subject, step.triplet.predicate, step.triplet.object)] = content
    return steps


def _diff(before, after):
    """Return (removed triplets, added triplets, triplets whose step content changed)."""
    old, new = _by_triplet(before), _by_triplet(after)
    removed = set(old) - set(new)
    added = set(new) - set(old)
    changed = {key for key in set(old) & set(new) if old[key] != new[key]}
    return removed, added, changed


LOCATION = ("lesion:pancreatic_lesion", "located_in", "subregion:head")


def test_larger_mass_moves_t2_to_t3(make_state, make_ctx):
    before = _pancreas_chain(make_state, make_ctx, _report(size="30"))
    after = _pancreas_chain(make_state, make_ctx, _report(size="45"))

    assert (before.stage.T, after.stage.T) == ("T2", "T3")
    assert (before.stage.N, before.stage.M) == (after.stage.N, after.stage.M)
    removed, added, changed = _diff(before, after)
    assert removed == {("impression:pdac", "staged_as", "stage:T2")}
    assert added == {("impression:pdac", "staged_as", "stage:T3")}
    assert changed == {LOCATION}
    location = next(s for s in after.steps if s.step_id == "F1")
    assert "45 mm" in location.sentence
    assert ("rep-L1", "max_diameter_mm", "45") in {(r.ref_id, r.field, r.value) for r in location.evidence}
    assert [s.step_id for s in before.steps] == [s.step_id for s in after.steps]


def test_hepatic_artery_encasement_gives_t4(make_state, make_ctx):
    before = _pancreas_chain(make_state, make_ctx, _report())
    after = _pancreas_chain(make_state, make_ctx, _report(vessel=" The mass encases the CHA."))

    assert (before.stage.T, after.stage.T) == ("T2", "T4")
    assert after.stage.N == before.stage.N
    removed, added, changed = _diff(before, after)
    assert removed == {("impression:pdac", "staged_as", "stage:T2")}
    assert added == {
        ("lesion:pancreatic_lesion", "has_feature", "finding:vascular_encasement"),
        ("finding:vascular_encasement", "suggests", "impression:pdac"),
        ("impression:pdac", "staged_as", "stage:T4"),
    }
    assert changed == set()
    t4 = next(s for s in after.steps if s.triplet.object == "stage:T4")
    assert ("kg", "rule:pancreas_exocrine_T4") in {(r.kind, r.ref_id) for r in t4.evidence}


def test_more_positive_nodes_moves_n1_to_n2(make_state, make_ctx):
    before = _pancreas_chain(make_state, make_ctx, _report(), PATHOLOGY.format(positive=3))
    after = _pancreas_chain(make_state, make_ctx, _report(), PATHOLOGY.format(positive=5))

    assert (before.stage.N, after.stage.N) == ("N1", "N2")
    assert after.stage.T == before.stage.T
    removed, added, changed = _diff(before, after)
    assert removed == {("impression:pdac", "staged_as", "stage:N1")}
    assert added == {("impression:pdac", "staged_as", "stage:N2")}
    assert changed == set()
    n2 = next(s for s in after.steps if s.triplet.object == "stage:N2")
    cited = {(r.kind, r.ref_id, r.field, r.value) for r in n2.evidence}
    assert ("kg", "rule:pancreas_exocrine_N2", "category", "N2") in cited
    assert ("pathology", "path", "nodes_positive", "5") in cited
    assert "five positive regional lymph nodes" in n2.sentence
