"""The summarizer against real pathology reports: ground truth, repair and discordance."""

from __future__ import annotations

import pytest

from engine.pipeline import run_case
from tests.engine.pipeline.conftest import real_case


def _pancreas_chains(result):
    """Pancreas lesion chains that reach an impression; the pathology level starts from one."""
    return [c for c in result.chains if c.organ == "pancreas" and not c.normal and c.impression_id]


@pytest.mark.shared_data
def test_concordant_pathology_extends_chain(shared_data, engine_ctx):
    result = run_case(real_case(shared_data, "pancreas_pdac_04.txt", "path_pancreas_pdac_02.txt", case_id="pdac-concordant"), engine_ctx)

    chains = _pancreas_chains(result)
    assert chains
    for chain in chains:
        predicates = [s.triplet.predicate for s in chain.steps if s.level == "pathology"]
        assert predicates[:2] == ["has_endpoint", "histology"]
        assert {"T", "N", "M"} <= {s.triplet.object.removeprefix("stage:")[:1] for s in chain.steps if s.triplet.predicate == "staged_as"}
        histology = next(s for s in chain.steps if s.triplet.predicate == "histology")
        assert any(ref.kind == "pathology" for ref in histology.evidence)
        assert not [d for d in chain.discordance if d.startswith(("histology:", "malignancy:"))]


@pytest.mark.shared_data
def test_discordant_histology_goes_to_repair(shared_data, engine_ctx):
    result = run_case(real_case(shared_data, "pancreas_pdac_04.txt", "path_pancreas_pnet_01.txt", case_id="pdac-vs-pnet"), engine_ctx)

    chains = _pancreas_chains(result)
    assert chains
    for chain in chains:
        feedback = [r for r in chain.repairs if r.strategy == "pathology_feedback"]
        resolved = not [d for d in chain.discordance if d.startswith("histology:")]
        assert feedback, "a histology disagreement must go back to the reasoner"
        assert len(feedback) <= engine_ctx.config.repair_rounds
        if resolved:
            assert chain.impression_id != "pdac"
        else:
            assert "pathology_discordance" in {f.code for f in result.flags}
    tnm_organs = {s.organ for s in result.samples if s.task_type == "tnm"}
    unresolved = [c for c in chains if any(d.startswith("histology:") for d in c.discordance)]
    if unresolved:
        assert "pancreas" not in tnm_organs
        assert not [s for s in result.samples if s.subtask == "report"]


@pytest.mark.shared_data
def test_report_without_pathology_has_no_discordance(shared_data, engine_ctx):
    result = run_case(real_case(shared_data, "pancreas_pdac_04.txt"), engine_ctx)

    assert all(not c.discordance for c in result.chains)
    assert "pathology_discordance" not in {f.code for f in result.flags}


@pytest.mark.shared_data
def test_unrepaired_discordance_recorded_and_flagged(shared_data):
    from engine.config import EngineConfig
    from engine.pipeline import build_context

    ctx = build_context(EngineConfig(repair_rounds=0))
    result = run_case(real_case(shared_data, "pancreas_pdac_04.txt", "path_pancreas_pnet_01.txt", case_id="pdac-vs-pnet-no-repair"), ctx)

    discordant = [c for c in _pancreas_chains(result) if any(d.startswith("histology:") for d in c.discordance)]
    assert discordant
    assert "pathology_discordance" in {f.code for f in result.flags}
    assert "neuroendocrine_tumour" in discordant[0].discordance[0]
    assert "pancreas" not in {s.organ for s in result.samples if s.task_type == "tnm"}
    assert not [s for s in result.samples if s.subtask == "report"]
