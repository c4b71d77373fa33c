"""Lymph nodes and distant disease are staging context of a malignant primary, never evidence of what a lesion is.

Each "before" chain is built the way the reasoner used to build it: a malignant
impression drawn from regional lymphadenopathy alone, or a node step attached to
a benign chain. The calibrator must reject those, and the reasoner must no
longer write them.
"""

from __future__ import annotations

import pytest

from data_contracts import Chain, EvidenceRef, ReasoningStep, Triplet
from engine.agents import calibrator, reasoner
from engine.reasoning import kg_paths
from engine.reasoning.evidence import case_facts

NODES_ONLY = {
    "pancreas": (
        "FINDINGS: Mass in the pancreatic head measuring 30 mm. Three enlarged peripancreatic lymph nodes.\n"
        "IMPRESSION: Pancreatic ductal adenocarcinoma.",
        "pdac",
    ),
    "colon": (
        "FINDINGS: Mass in the sigmoid colon measuring 40 mm. Four enlarged pericolic lymph nodes.\n"
        "IMPRESSION: Colorectal adenocarcinoma.",
        "colorectal_adenocarcinoma",
    ),
    "esophagus": (
        "FINDINGS: Mass in the lower thoracic esophagus measuring 35 mm. Two enlarged paraesophageal lymph nodes.\n"
        "IMPRESSION: Esophageal adenocarcinoma.",
        "esophageal_adenocarcinoma",
    ),
}

HEMANGIOMA = (
    "FINDINGS: A 15 mm lesion in segment 7 with peripheral nodular discontinuous enhancement and centripetal fill-in. "
    "Enlarged hepatic hilar lymph nodes.\n"
    "IMPRESSION: Hepatic hemangioma."
)
SIMPLE_CYST = (
    "FINDINGS: A 20 mm cyst in segment 6 of water density without enhancement, well-defined. Enlarged hilar lymph nodes.\n"
    "IMPRESSION: Simple hepatic cyst."
)
PDAC_WITH_NODES = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring 30 mm with upstream "
    "pancreatic duct dilatation. Three enlarged peripancreatic lymph nodes.\n"
    "IMPRESSION: Pancreatic ductal adenocarcinoma."
)
COLON_WITH_SPREAD = (
    "FINDINGS: Focal asymmetric wall thickening with shouldered apple-core narrowing of the sigmoid colon, 40 mm. "
    "Four enlarged pericolic lymph nodes. Liver metastases.\n"
    "IMPRESSION: Colorectal adenocarcinoma."
)
REACTIVE_NODES = (
    "FINDINGS: Hypodense, hypoenhancing, ill-defined mass in the pancreatic head measuring 30 mm with upstream "
    "pancreatic duct dilatation. A few subcentimetre peripancreatic lymph nodes, likely reactive.\n"
    "IMPRESSION: Pancreatic ductal adenocarcinoma."
)


def _lesion_chain(state, organ):
    return next(c for c in state.chains if c.organ == organ and not c.normal)


def _node_step(state, kgs, organ, step_id) -> ReasoningStep:
    """Return a finding step stating the organ's suspicious nodes, citing the extracted node facts."""
    kg = kgs[organ]
    node = kg_paths.resolve_first(kg, kg_paths.NODE_FORMS, "finding")
    edge = kg_paths.lesion_finding_edge(kg, node)
    index = case_facts(state.report, state.imaging, kgs, state.pathology)
    refs = tuple(f.ref for f in index.facts if f.source == "node" and f.ref.field in ("count", "suspicious"))
    assert refs, "the report text must give suspicious nodes"
    triplet = Triplet(subject=edge.subject, predicate=edge.predicate, object=edge.object)
    return ReasoningStep(step_id=step_id, level="finding", triplet=triplet, sentence="Suspicious regional lymph nodes are present.",
                         kg_edge_id=edge.edge_id, evidence=refs)


def _impression_step(kgs, organ, finding, impression, step_id) -> ReasoningStep:
    edge = kg_paths.edge_between(kgs[organ], finding, f"impression:{impression}", "suggests")
    assert edge is not None, (finding, impression)
    kg_ref = EvidenceRef(kind="kg", ref_id=edge.edge_id, field="strength", value=f"{edge.strength:g}")
    triplet = Triplet(subject=edge.subject, predicate=edge.predicate, object=edge.object)
    return ReasoningStep(step_id=step_id, level="impression", triplet=triplet, sentence="The nodes point to the impression.",
                         kg_edge_id=edge.edge_id, evidence=(kg_ref,))


def _codes(failures) -> set[str]:
    return {failure.code for failure in failures}


@pytest.mark.parametrize("organ", sorted(NODES_ONLY))
def test_calibrator_rejects_node_only_impression(organ, make_state, make_ctx, kgs):
    text, impression = NODES_ONLY[organ]
    ctx = make_ctx()
    state = reasoner.run(make_state(text), ctx)
    location = _lesion_chain(state, organ).steps[0]
    node_step = _node_step(state, kgs, organ, "F2")
    before = Chain(chain_id=f"case-1/{organ}/rep-L1", case_id="case-1", organ=organ, lesion_ids=("rep-L1",), impression_id=impression,
                   steps=(location, node_step, _impression_step(kgs, organ, node_step.triplet.object, impression, "Im1")))

    codes = _codes(calibrator.check_chain(before, state, ctx))

    assert "unsupported_impression" in codes
    assert "misplaced_staging_context" in codes


@pytest.mark.parametrize("organ", sorted(NODES_ONLY))
def test_node_only_impression_is_dropped(organ, make_state, make_ctx, kgs):
    text, impression = NODES_ONLY[organ]
    ctx = make_ctx()
    after = calibrator.run(reasoner.run(make_state(text), ctx), ctx)
    chain = _lesion_chain(after, organ)

    assert chain.status == "accepted"
    assert chain.impression_id is None
    assert chain.repairs
    assert not [s for s in chain.steps if s.level == "impression"]
    assert not [s for s in chain.steps if kg_paths.is_spread_finding(kgs[organ], s.triplet.object)]


@pytest.mark.parametrize(("text", "impression"), [(HEMANGIOMA, "hemangioma"), (SIMPLE_CYST, "simple_cyst")])
def test_benign_chain_has_no_node_step(text, impression, make_state, make_ctx, kgs):
    ctx = make_ctx()
    state = reasoner.run(make_state(text), ctx)
    chain = _lesion_chain(state, "liver")

    assert chain.impression_id == impression
    assert not [s for s in chain.steps if kg_paths.is_spread_finding(kgs["liver"], s.triplet.object)]
    assert calibrator.check_chain(chain, state, ctx) == []


@pytest.mark.parametrize(("text", "impression"), [(HEMANGIOMA, "hemangioma"), (SIMPLE_CYST, "simple_cyst")])
def test_calibrator_rejects_node_step_in_benign_chain(text, impression, make_state, make_ctx, kgs):
    ctx = make_ctx()
    state = reasoner.run(make_state(text), ctx)
    after = _lesion_chain(state, "liver")
    findings = [s for s in after.steps if s.level == "finding"]
    later = [s for s in after.steps if s.level != "finding"]
    node_step = _node_step(state, kgs, "liver", f"F{len(findings) + 1}")
    before = after.model_copy(update={"steps": tuple(findings) + (node_step,) + tuple(later)})

    failures = calibrator.check_chain(before, state, ctx)

    assert _codes(failures) == {"misplaced_staging_context"}
    assert failures[0].step_id == node_step.step_id


def test_malignant_chain_keeps_nodes_as_context(make_state, make_ctx, kgs):
    ctx = make_ctx()
    state = reasoner.run(make_state(PDAC_WITH_NODES), ctx)
    chain = _lesion_chain(state, "pancreas")
    kg = kgs["pancreas"]
    levels = [s.level for s in chain.steps]
    node_steps = [i for i, s in enumerate(chain.steps) if s.triplet.object == "finding:lymphadenopathy"]

    assert chain.impression_id == "pdac"
    assert len(node_steps) == 1
    assert node_steps[0] == levels.index("impression") - 1
    assert all(kg_paths.is_lesion_evidence(kg, s.triplet.subject) for s in chain.steps if s.level == "impression")
    assert "three suspicious regional lymph nodes" in chain.steps[node_steps[0]].sentence
    assert calibrator.check_chain(chain, state, ctx) == []


def test_malignant_chain_states_distant_lesions(make_state, make_ctx, kgs):
    ctx = make_ctx()
    state = reasoner.run(make_state(COLON_WITH_SPREAD), ctx)
    chain = _lesion_chain(state, "colon")
    objects = [s.triplet.object for s in chain.steps]

    assert chain.impression_id == "colorectal_adenocarcinoma"
    assert "finding:regional_lymphadenopathy" in objects
    assert "finding:liver_lesions" in objects
    assert chain.stage is not None
    assert chain.stage.M.startswith("M1")
    assert calibrator.check_chain(chain, state, ctx) == []


def test_reactive_nodes_give_no_node_step(make_state, make_ctx):
    ctx = make_ctx()
    state = make_state(REACTIVE_NODES)
    chain = _lesion_chain(reasoner.run(state, ctx), "pancreas")

    assert [n.suspicious for n in state.report.nodes] == [False]
    assert chain.impression_id == "pdac"
    assert "finding:lymphadenopathy" not in {s.triplet.object for s in chain.steps}


def test_differential_ignores_node_support(kgs):
    kg = kgs["pancreas"]

    assert kg_paths.rank_impressions(kg, ["finding:lymphadenopathy"]) == []
    assert kg_paths.differential_causes(kg, ["finding:lymphadenopathy", "finding:distant_lesions"]) == ()
    assert kg_paths.choose_impression(kg, ("finding:lymphadenopathy",), None) is None


def test_count_alone_gives_no_impression(kgs):
    kg = kgs["liver"]

    assert kg_paths.rank_impressions(kg, ["finding:multiple"]) == []
    assert kg_paths.choose_impression(kg, ("finding:multiple",), None) is None
    assert [node for node, _ in kg_paths.rank_impressions(kg, ["finding:multiple", "finding:rim_enhancement"])][:1] == ["impression:metastasis"]
