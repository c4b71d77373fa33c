"""QA composer (the sixth agent): VQA samples of the four task types from the accepted chains.

Reads ``state.chains``, ``state.imaging``, ``state.report``, ``state.pathology``,
``state.rejects``, ``state.extras["cot_report_parts"]``, ``["staging_facts"]`` and
``["staging_fact_sources"]`` (from the summarizer) and ``["split"]`` (from the
pipeline). Writes ``state.samples`` and one provenance entry.

Task types and subtasks:

- localization: ``organ_bbox`` for every KG organ whose mask is present, and
  ``lesion_bbox`` for chains whose lesion has a lesion mask; boxes are normalized
  RAS+ ``(x_min, y_min, z_min, x_max, y_max, z_max)``. Without a lesion mask only
  the organ box and the attribute ``subregion`` question locate the tumour.
- attribute: density, shape, boundary, size, enhancement and subregion per lesion,
  each only when the chain states it, and the lesion count per organ.
- tnm: separate T, N and M questions per organ with a staged primary tumour (see
  ``engine.qa.tnm`` for which organs qualify and for undecided categories).
- cot_report: the summarizer's report for the whole case and per organ with a lesion.

Lesion chains that describe nothing of their lesion yield no sample
(``engine.qa.primary.reportable_views``). A chain whose impression the
pathology report contradicts on histology or malignancy (an unresolved
discordance) still yields localization and attribute samples, but no TNM or
report samples, so no sample teaches a conclusion the ground truth rejects. The task mix and selection rule are in ``engine.qa.mix``.
"""

from __future__ import annotations

import logging

from data_contracts import TASK_TYPES, AgentProvenance, VQASample
from engine.agents.summarizer import STAGING_FACTS_KEY, STAGING_SOURCES_KEY, accepted_views
from engine.provenance import build_provenance
from engine.qa.attributes import attribute_candidates
from engine.qa.candidate import Candidate
from engine.qa.ids import sample_id, seeded_rng
from engine.qa.localization import lesion_box_candidates, organ_box_candidates
from engine.qa.mix import allocate, select
from engine.qa.primary import reportable_views
from engine.qa.reports import REPORT_PARTS_KEY, report_candidates
from engine.qa.tnm import tnm_candidates
from engine.qa.view import ChainView
from engine.splits import assign_split
from engine.state import CaseState, EngineContext

logger = logging.getLogger(__name__)

AGENT = "composer"
SPLIT_KEY = "split"
CONCLUSION_DISCORDANCE = ("histology:", "malignancy:")


def run(state: CaseState, ctx: EngineContext) -> CaseState:
    """Build the case's candidates, keep a task mix that follows ``config.task_mix``, and return them as samples."""
    state = state.replace(provenance=state.provenance + (AgentProvenance(agent=AGENT, backend="rules"),))
    candidates = candidates_by_task(state, ctx)

    shares = ctx.config.task_mix.model_dump()
    quotas = allocate({task: len(items) for task, items in candidates.items()}, shares)
    split = state.extras.get(SPLIT_KEY) or assign_split(state.case.patient_id or state.case.case_id, ctx.config.split_ratios, ctx.config.seed)

    samples: list[VQASample] = []
    for task in TASK_TYPES:
        chosen = select(candidates[task], quotas[task], seeded_rng(ctx.config.seed, state.case.case_id, "select", task))
        samples.extend(to_sample(c, state, ctx, split) for c in chosen)
    logger.info("case %r: composer kept %s of %s candidates", state.case.case_id,
                {t: quotas[t] for t in TASK_TYPES}, {t: len(candidates[t]) for t in TASK_TYPES})
    return state.replace(samples=tuple(samples))


def candidates_by_task(state: CaseState, ctx: EngineContext) -> dict[str, list[Candidate]]:
    """Return every question the accepted chains support, per task type, in a stable order."""
    accepted = accepted_views(state, ctx)
    # An organ whose every chain was rejected gets no organ box either; one accepted chain keeps the organ in.
    rejected_organs = {r.organ for r in state.rejects if r.organ} - {v.organ for v in accepted}
    views = reportable_views(accepted, state.pathology, ctx.kgs)
    concordant = [v for v in views if not _conclusion_contradicted(v)]
    seed, case_id = ctx.config.seed, state.case.case_id

    def rng(purpose: str):
        return seeded_rng(seed, case_id, "question", purpose)

    organs = [organ for organ in ctx.kgs if organ not in rejected_organs]
    organ_names = {organ: ctx.kgs[organ].resolve(organ, "organ").name for organ in organs}
    by_organ: dict[str, list[ChainView]] = {}
    for view in views:
        by_organ.setdefault(view.organ, []).append(view)

    localization = organ_box_candidates(organs, organ_names, by_organ, state.imaging, state.report, rng("organ_bbox"))
    localization += lesion_box_candidates(views, state.imaging, state.report, rng("lesion_bbox"))
    tnm = tnm_candidates(concordant, ctx.kgs, state.extras.get(STAGING_FACTS_KEY, {}), state.imaging, state.report, rng("tnm"),
                         state.extras.get(STAGING_SOURCES_KEY, {}))
    reports: list[Candidate] = []
    if views and len(concordant) == len(views):
        reports = report_candidates(views, state.extras.get(REPORT_PARTS_KEY), state.imaging, state.report, rng("report"), ctx.kgs)
    return {
        "localization": localization,
        "attribute": attribute_candidates(views, state.imaging, state.report, rng("attribute"), _organs_with_rejected_lesions(state)),
        "tnm": tnm,
        "cot_report": reports,
    }


def _organs_with_rejected_lesions(state: CaseState) -> frozenset[str]:
    return frozenset(c.organ for c in state.extras.get("rejected_chains", ()) if not c.normal)


def _conclusion_contradicted(view: ChainView) -> bool:
    return any(entry.startswith(CONCLUSION_DISCORDANCE) for entry in view.chain.discordance)


def to_sample(candidate: Candidate, state: CaseState, ctx: EngineContext, split: str) -> VQASample:
    """Return the ``VQASample`` of a selected candidate, with its id and provenance."""
    case = state.case
    return VQASample(
        sample_id=sample_id(case.case_id, candidate.task_type, candidate.subtask, candidate.organ, candidate.question_key, ctx.kg_version),
        case_id=case.case_id,
        split=split,
        task_type=candidate.task_type,
        subtask=candidate.subtask,
        organ=candidate.organ,
        ct_path=case.ct_path,
        masks_path=case.masks_path,
        question=candidate.question,
        think=candidate.think,
        answer=candidate.answer,
        answer_json=candidate.answer_json,
        chain=candidate.steps,
        iir_rounds=candidate.iir_rounds,
        provenance=build_provenance(state, ctx, candidate.chain_ids, candidate.evidence),
    )
