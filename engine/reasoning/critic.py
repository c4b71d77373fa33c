"""The optional LLM critic: an extra reviewer whose problems are added to the deterministic check failures.

It runs when ``config.calibrator.backend`` is ``llm``. Its problems can only add
failures, so a chain that fails a deterministic check fails whatever the
critic returns.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel

from data_contracts import Chain, CheckFailure
from engine.reasoning.evidence import FactIndex

PROMPT_NAME = "calibrator_critic"
CriticCode = Literal["hallucinated_finding", "unsupported_impression", "contradicted_impression", "inconsistent_location", "implausible_size"]
CRITIC_CODES: tuple[str, ...] = CriticCode.__args__


class CriticProblem(BaseModel):
    code: CriticCode
    step_id: str
    message: str


class CriticReply(BaseModel):
    """The reply schema of the critic prompt."""

    problems: list[CriticProblem]


def critic_failures(chain: Chain, index: FactIndex, ctx) -> list[CheckFailure]:
    """Ask the calibrator's model to review ``chain``; return its problems as check failures naming the critic."""
    from engine.llm.prompts import load_prompt

    prompt = load_prompt(PROMPT_NAME)
    facts = [{"fact_id": f.fact_id, "value": f.ref.value} for f in index.facts if f.organ in (chain.organ, None) or f.ref.ref_id in chain.lesion_ids]
    steps = [
        {"step_id": s.step_id, "triplet": [s.triplet.subject, s.triplet.predicate, s.triplet.object], "sentence": s.sentence,
         "cites": [f"{r.ref_id}.{r.field}={r.value}" for r in s.evidence]}
        for s in chain.steps
    ]
    text = prompt.render(organ=chain.organ, case_id=chain.case_id, codes=", ".join(CRITIC_CODES),
                         facts_json=json.dumps(facts, ensure_ascii=False), chain_json=json.dumps(steps, ensure_ascii=False))
    result = ctx.llm.structured("calibrator", ctx.config.calibrator, [{"role": "user", "content": text}], CriticReply,
                                case_id=chain.case_id, prompt_hash=prompt.sha256)
    known = {s.step_id for s in chain.steps}
    return [
        CheckFailure(code=p.code, step_id=p.step_id if p.step_id in known else None, message=f"LLM critic: {p.message}")
        for p in result.value.problems
    ]
