"""Impressions the rules reasoner infers from the KG differential when the report names none."""

from __future__ import annotations

import pytest

from engine.agents import reasoner
from engine.reasoning import kg_paths
from engine.text.decode import read_text_file

UNNAMED_PDAC_REPORT = (
    "FINDINGS: Hypodense, ill-defined mass in the pancreatic head measuring 25 mm, "
    "with upstream pancreatic duct dilatation. The liver is unremarkable."
)
NAMED_PDAC_REPORT = UNNAMED_PDAC_REPORT + "\nIMPRESSION: Pancreatic head mass, consistent with pancreatic ductal adenocarcinoma."
TIED_LIVER_REPORT = (
    "FINDINGS: A 40 mm hypodense lesion with rim enhancement and capsular retraction in segment 6 of the liver. "
    "The pancreas is unremarkable."
)
"""Hypodense, rim enhancement and capsular retraction support cholangiocarcinoma and metastasis with the same score."""


def _lesion_chain(state, organ):
    return next(c for c in state.chains if c.organ == organ and not c.normal)


def _impression_confidences(chain):
    return [step.confidence for step in chain.steps if step.level == "impression"]


@pytest.mark.shared_data
def test_single_weak_sign_infers_nothing(shared_data, make_state, make_ctx):
    text = read_text_file(shared_data / "reports" / "pancreas_cyst_01.txt").text
    chain = _lesion_chain(reasoner.run(make_state(text), make_ctx()), "pancreas")

    assert chain.impression_id is None
    assert not [s for s in chain.steps if s.level == "impression"]
    assert chain.stage is None


def test_three_supporting_findings_infer_pdac(make_state, make_ctx):
    chain = _lesion_chain(reasoner.run(make_state(UNNAMED_PDAC_REPORT), make_ctx()), "pancreas")

    assert chain.impression_id == "pdac"
    assert len(_impression_confidences(chain)) == 3


def test_inferred_impression_has_lower_confidence(make_state, make_ctx):
    inferred = _lesion_chain(reasoner.run(make_state(UNNAMED_PDAC_REPORT), make_ctx()), "pancreas")
    reported = _lesion_chain(reasoner.run(make_state(NAMED_PDAC_REPORT), make_ctx()), "pancreas")

    assert reported.impression_id == "pdac"
    assert max(_impression_confidences(inferred)) < min(_impression_confidences(reported))


def test_tied_differential_infers_nothing(make_state, make_ctx, kgs):
    state = make_state(TIED_LIVER_REPORT)
    chain = _lesion_chain(reasoner.run(state, make_ctx()), "liver")
    ranked = kg_paths.rank_impressions(kgs["liver"], ("finding:hypodense", "finding:rim_enhancement", "finding:capsular_retraction"))

    assert ranked[0][1] == ranked[1][1]
    assert chain.impression_id is None


def test_strongest_edge_alone_is_inferable(kgs):
    kg = kgs["pancreas"]
    strongest = kg_paths.strongest_support(kg)
    edge = next(
        kg_paths.edge_between(kg, u, v, "suggests")
        for u, v, attrs in kg.graph.edges(data=True)
        if attrs["predicate"] == "suggests" and attrs.get("strength") == strongest and kg_paths.is_lesion_evidence(kg, u)
    )

    assert kg_paths.is_inferable(kg, (edge.subject,), edge.object)


def test_one_weaker_edge_is_not_inferable(kgs):
    kg = kgs["pancreas"]

    assert not kg_paths.is_inferable(kg, ("finding:hypodense",), "impression:pdac")


def test_contradicted_impression_is_not_inferable(kgs):
    kg = kgs["pancreas"]
    findings = ("finding:hypodense", "finding:ill_defined", "finding:upstream_duct_dilatation", "finding:cystic")

    assert kg_paths.contradicting_edges(kg, findings, "impression:pdac")
    assert not kg_paths.is_inferable(kg, findings, "impression:pdac")


def test_reported_impression_needs_no_inference(kgs):
    kg = kgs["pancreas"]

    assert kg_paths.choose_impression(kg, ("finding:hypodense",), "impression:pdac") == "impression:pdac"
    assert kg_paths.choose_impression(kg, ("finding:hypodense",), None) is None
