"""CoT report questions: the summarizer's whole-case report and its organ sections."""

from __future__ import annotations

import random
from typing import Any

from data_contracts import ImagingFeatures, ReportFeatures

from engine.qa.candidate import Candidate, step_evidence
from engine.qa.iir import iir_rounds, report_rounds
from engine.qa.primary import primary_organs
from engine.qa.templates import pick_question
from engine.qa.view import ChainView

REPORT_PARTS_KEY = "cot_report_parts"
"""Key of ``CaseState.extras`` where the summarizer stores the report's think and conclusion parts."""


def report_candidates(
    views: list[ChainView], parts: dict[str, Any] | None, imaging: ImagingFeatures | None, report: ReportFeatures | None, rng: random.Random,
    kgs: dict[str, Any] | None = None,
) -> list[Candidate]:
    """Return the whole-case report question and one question per organ with a lesion chain."""
    if not parts:
        return []
    steps = tuple(step for view in views for step in view.chain.steps)
    chain_ids = tuple(view.chain.chain_id for view in views)
    organs = sorted({view.organ for view in views})
    candidates = [Candidate(
        task_type="cot_report", subtask="report", organ=organs[0] if len(organs) == 1 else "multiple", question_key="report",
        question=pick_question("report", rng), think=parts["think"], answer=parts["conclusion"],
        answer_fields={"organs": organs, "impressions": [v.impression.id for v in views if v.impression], "conclusion": parts["conclusion"]},
        steps=steps, chain_ids=chain_ids, evidence=step_evidence(steps),
        iir_rounds=report_rounds(views, report, imaging, parts["conclusion"], primary_organs(views, kgs) if kgs else ()),
    )]

    for organ, organ_parts in sorted(parts.get("organs", {}).items()):
        organ_views = [v for v in views if v.organ == organ]
        if not organ_views or all(v.normal for v in organ_views):
            continue
        organ_steps = tuple(step for view in organ_views for step in view.chain.steps)
        name = organ_views[0].organ_name
        candidates.append(Candidate(
            task_type="cot_report", subtask="organ_report", organ=organ, question_key=f"organ_report:{organ}",
            question=pick_question("organ_report", rng, organ=name), think=organ_parts["think"], answer=organ_parts["conclusion"],
            answer_fields={"organs": [organ], "impressions": [v.impression.id for v in organ_views if v.impression],
                           "conclusion": organ_parts["conclusion"]},
            steps=organ_steps, chain_ids=tuple(v.chain.chain_id for v in organ_views), evidence=step_evidence(organ_steps),
            iir_rounds=iir_rounds(next(v for v in organ_views if not v.normal), organ, name, organ_parts["conclusion"], report, imaging,
                                  neighbours=("invasion", "metastasis")),
        ))
    return candidates
