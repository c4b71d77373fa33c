"""Reasoner and calibrator over the 32 real report texts, extracted by the real rules extractor."""

from __future__ import annotations

import pytest

from data_contracts import REASON_CODES, CaseInput
from engine.agents import calibrator, reasoner
from engine.reasoning import kg_paths
from engine.state import CaseState
from tests.engine.reasoning.grammar import grammar_problems

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def calibrated_cases(shared_data, kgs, make_ctx_module):
    from engine.extraction import extract_report
    from engine.text.decode import read_text_file

    ctx = make_ctx_module
    cases = {}
    for path in sorted((shared_data / "reports").glob("*.txt")):
        # The pipeline strips the '#' source, licence and label lines, because a label line is not report text.
        text = read_text_file(path).text
        case_id = path.stem
        state = CaseState(case=CaseInput(case_id=case_id, ct_path=f"/data/{case_id}/ct.nii.gz"), report=extract_report(text, case_id, kgs))
        reasoned = reasoner.run(state, ctx)
        cases[case_id] = (reasoned, calibrator.run(reasoned, ctx))
    return ctx, cases


@pytest.fixture(scope="module")
def make_ctx_module(kgs):
    from engine.config import EngineConfig
    from engine.state import EngineContext
    from kg import kg_version

    return EngineContext(config=EngineConfig(), kgs=kgs, kg_version=kg_version(kgs), engine_version="test")


def test_every_report_is_reasoned(calibrated_cases):
    _, cases = calibrated_cases

    assert len(cases) == 32
    assert sum(len(after.chains) for _, after in cases.values()) > 32


def test_accepted_chains_pass_all_checks(calibrated_cases, kgs):
    ctx, cases = calibrated_cases
    for case_id, (_, after) in cases.items():
        for chain in after.chains:
            assert chain.status == "accepted", chain.chain_id
            assert calibrator.check_chain(chain, after, ctx) == [], chain.chain_id
            for step in chain.steps:
                assert kgs[chain.organ].find_edge(step.triplet.subject, step.triplet.predicate, step.triplet.object), (case_id, step)


def test_every_chain_is_accepted_or_rejected(calibrated_cases):
    _, cases = calibrated_cases
    for case_id, (before, after) in cases.items():
        rejected = after.extras["rejected_chains"]
        assert len(after.chains) + len(rejected) == len(before.chains), case_id
        for chain in rejected:
            assert chain.reject_code in REASON_CODES
        assert len([r for r in after.rejects if r.agent == "calibrator"]) == len(rejected)


def test_normal_report_gives_normal_chains(calibrated_cases):
    _, cases = calibrated_cases
    _, after = cases["normal_ct_01"]

    assert after.chains
    assert all(chain.normal for chain in after.chains)
    # The report calls the liver, pancreas and colon unremarkable and names neither the stomach nor the esophagus.
    # This test gives no masks, so an organ the report does not name gets no chain.
    assert {chain.organ for chain in after.chains} == {"liver", "pancreas", "colon"}


def test_pdac_report_weak_mass_is_not_concluded(calibrated_cases, kgs):
    # NOTE: the extractor splits this report's one mass into a head lesion that carries the title's PDAC
    # and a neck lesion that carries the findings. The neck lesion's only support for PDAC is vascular
    # contact, one weak sign, so its chain must not infer PDAC and is neither concluded nor staged.
    _, cases = calibrated_cases
    _, after = cases["pancreas_pdac_01"]
    neck = next(c for c in after.chains if c.organ == "pancreas" and "neck" in str([s.triplet.object for s in c.steps]))
    findings = [step.triplet.object for step in neck.steps if step.level == "finding"]

    assert "finding:vascular_contact" in findings
    assert not kg_paths.is_inferable(kgs["pancreas"], findings, "impression:pdac")
    assert neck.impression_id is None
    assert neck.stage is None


def test_impressions_rest_on_lesion_findings(calibrated_cases, kgs):
    _, cases = calibrated_cases
    for case_id, (_, after) in cases.items():
        for chain in after.chains:
            kg = kgs[chain.organ]
            subjects = [step.triplet.subject for step in chain.steps if step.level == "impression"]
            if chain.impression_id is not None:
                assert any(kg_paths.is_lesion_evidence(kg, subject) for subject in subjects), (case_id, chain.chain_id)
            assert not [s for s in subjects if kg_paths.is_spread_finding(kg, s)], (case_id, chain.chain_id)


def test_node_steps_only_in_staged_malignant_chains(calibrated_cases, kgs):
    _, cases = calibrated_cases
    for case_id, (_, after) in cases.items():
        for chain in after.chains:
            kg = kgs[chain.organ]
            impression = f"impression:{chain.impression_id}" if chain.impression_id else None
            spread = [s.step_id for s in chain.steps if s.level == "finding" and kg_paths.is_spread_finding(kg, s.triplet.object)]
            if not kg_paths.takes_staging_context(kg, impression):
                assert spread == [], (case_id, chain.chain_id)


def test_chain_sentences_read_correctly(calibrated_cases):
    _, cases = calibrated_cases
    bad = []
    for before, after in cases.values():
        for chain in before.chains + after.chains + after.extras["rejected_chains"]:
            bad += [f"{chain.chain_id} {step.step_id}: {step.sentence!r}: {problems}" for step in chain.steps if (problems := grammar_problems(step.sentence))]

    assert not bad, "\n".join(bad)
