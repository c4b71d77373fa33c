"""Write the CoT report with the summarizer's backend: rules templates, or an LLM checked against the chains.

The llm backend sends the chains, imaging measurements and pathology facts with
the ``summarizer`` prompt and requests ``{"think": ..., "conclusion": ...}``.
Its text is accepted only when every KG finding, impression or endpoint it names
is in a chain (or in the rules report built from the chains), every size or
volume it states is a measured value, and its conclusion prints no undecided
category (TX, NX, MX) as a stage. Otherwise the rules text is used, and a
``hallucinated_finding`` flag lists the unsupported statements.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from data_contracts import AgentProvenance, Flag
from engine.qa.cot_report import conclusion, organ_walk
from engine.qa.ids import seeded_rng
from engine.qa.primary import primary_organs
from engine.qa.view import ChainView
from engine.state import CaseState, EngineContext

AGENT = "summarizer"
PROMPT_NAME = "summarizer"
CHECKED_KINDS = ("finding", "impression", "endpoint")
UNDECIDED_CATEGORY = re.compile(r"\b[TNM]X\b")
"""TX, NX or MX: a conclusion states what is known instead (``engine.qa.cot_report.stage_statement``)."""
NUMBER_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(mm|cm|ml|mL)\b")


class SummaryReply(BaseModel):
    """The LLM's report: the think walk and the conclusion paragraph."""

    model_config = ConfigDict(extra="forbid")

    think: str = Field(min_length=1, description="Systematic walk: whole organ, subregions, findings with sizes, neighbours, impression.")
    conclusion: str = Field(min_length=1, description="One paragraph with the impression and stage per lesion.")


def write_report(state: CaseState, ctx: EngineContext, views: list[ChainView]) -> tuple[dict[str, Any], AgentProvenance, list[Flag]]:
    """Return the report parts (``think``, ``conclusion``, per-organ ``organs``), the provenance entry and flags."""
    parts = rules_parts(state, views, ctx.config.seed, ctx.kgs)
    backend = ctx.config.backend_for(AGENT)
    if backend.backend != "llm":
        return parts, AgentProvenance(agent=AGENT, backend="rules"), []

    from engine.llm import load_prompt

    prompt = load_prompt(PROMPT_NAME)
    messages = [{"role": "user", "content": prompt.render(
        chains=_chains_text(views), imaging=_imaging_text(state, views), pathology=_pathology_text(state),
        rules_report=parts["think"] + "\n\n" + parts["conclusion"],
    )}]
    result = ctx.llm.structured(AGENT, backend, messages, SummaryReply, case_id=state.case.case_id, prompt_hash=prompt.sha256)
    provenance = AgentProvenance(agent=AGENT, backend="llm", model=result.model, prompt_hash=prompt.sha256)
    grounded_text = parts["think"] + "\n" + parts["conclusion"]
    problems = unsupported_statements(result.value.think + "\n" + result.value.conclusion, views, state, ctx, grounded_text)
    problems += [f"the conclusion prints the undecided category '{category}' as a stage" for category in UNDECIDED_CATEGORY.findall(result.value.conclusion)]
    if problems:
        flag = Flag(code="hallucinated_finding", severity="warning", field="cot_report",
                    message=f"case {state.case.case_id}: the LLM report states facts absent from the chains ({'; '.join(problems)}); the rules report was used")
        return parts, provenance, [flag]
    return {**parts, "think": result.value.think.strip(), "conclusion": result.value.conclusion.strip()}, provenance, []


def rules_parts(state: CaseState, views: list[ChainView], seed: int, kgs: dict[str, Any]) -> dict[str, Any]:
    """Return the rules backend's report parts; openers are seeded by the run seed and case id."""
    rng = seeded_rng(seed, state.case.case_id, "summarizer")
    primaries = primary_organs(views, kgs)
    organs: dict[str, dict[str, str]] = {}
    for organ in _organ_order(views, primaries):
        organ_views = [v for v in views if v.organ == organ]
        walk = organ_walk(organ_views, state.imaging, state.report, rng, primary_here=organ in primaries)
        organs[organ] = {"think": walk, "conclusion": conclusion(organ_views, kgs)}
    think = "\n\n".join(part["think"] for part in organs.values()) or "No organ chain was accepted for this case."
    return {"think": think, "conclusion": conclusion(views, kgs), "organs": organs}


def _organ_order(views: list[ChainView], primaries: tuple[str, ...]) -> list[str]:
    """Return organs with a primary tumour first, then other organs with lesion chains, then normal organs, each group in chain order."""
    abnormal = [v.organ for v in views if not v.normal]
    normal = [v.organ for v in views if v.normal]
    return list(dict.fromkeys([*primaries, *abnormal, *normal]))


def unsupported_statements(text: str, views: list[ChainView], state: CaseState, ctx: EngineContext, grounded_text: str = "") -> list[str]:
    """Return what ``text`` states beyond the chains: KG terms no chain cites, and sizes or volumes never measured.

    A term counts as supported when it names a node of any chain, in any organ's KG,
    or occurs in ``grounded_text`` (the rules report, built only from chains and extracted facts).
    """
    allowed_nodes = {node for v in views for s in v.chain.steps for node in (s.triplet.subject, s.triplet.object)}
    surfaces: dict[str, set[str]] = {}
    for organ in sorted({v.organ for v in views}):
        for (surface, _lang), (kind, term_id) in ctx.kgs[organ].synonym_index().items():
            if kind in CHECKED_KINDS and len(surface) >= 4:
                surfaces.setdefault(surface.casefold(), set()).add(f"{kind}:{term_id}")

    problems: list[str] = []
    lowered, grounded = text.casefold(), grounded_text.casefold()
    for surface, nodes in sorted(surfaces.items()):
        if nodes & allowed_nodes or not _mentions(lowered, surface) or _mentions(grounded, surface):
            continue
        problems.append(f"'{surface}' ({', '.join(sorted(nodes))}) is not in any chain")
    allowed_numbers = _measured_numbers(views, state)
    for value, unit in NUMBER_WITH_UNIT.findall(text):
        number = float(value) * (10 if unit == "cm" else 1)
        if not any(abs(number - allowed) <= 0.5 for allowed in allowed_numbers):
            problems.append(f"'{value} {unit}' matches no measured value")
    return sorted(set(problems))


def _mentions(text: str, surface: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(surface)}(?![\w-])", text) is not None


def _measured_numbers(views: list[ChainView], state: CaseState) -> set[float]:
    numbers: set[float] = set()
    for view in views:
        if view.size_mm is not None:
            numbers.add(round(view.size_mm, 1))
        if view.report_lesion is not None:
            numbers.update(view.report_lesion.sizes_mm)
        if view.imaging_lesion is not None:
            numbers.update({round(view.imaging_lesion.max_axial_diameter_mm), round(view.imaging_lesion.volume_ml, 1)})
    if state.imaging is not None:
        numbers.update(round(o.volume_ml) for o in state.imaging.organs if o.volume_ml is not None)
    if state.report is not None:
        numbers.update(n.short_axis_mm for n in state.report.nodes if n.short_axis_mm is not None)
    if state.pathology is not None and state.pathology.tumor_size_mm is not None:
        numbers.add(state.pathology.tumor_size_mm)
    return numbers


def _chains_text(views: list[ChainView]) -> str:
    blocks = []
    for view in views:
        lines = [f"Chain {view.chain.chain_id} ({view.organ_name}{', normal' if view.normal else ''}):"]
        lines += [f"  {s.step_id} [{s.level}] {s.triplet.subject} --{s.triplet.predicate}--> {s.triplet.object}: {s.sentence}" for s in view.chain.steps]
        if view.size_mm is not None:
            lines.append(f"  size: {view.size_mm:g} mm")
        if view.chain.discordance:
            lines.append(f"  discordant with pathology: {'; '.join(view.chain.discordance)}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks) or "(no accepted chains)"


def _imaging_text(state: CaseState, views: list[ChainView]) -> str:
    if state.imaging is None:
        return "(no imaging measurements)"
    organs = {v.organ for v in views}
    lines = [f"{o.organ}: present={o.present}, volume_ml={o.volume_ml if o.volume_ml is None else round(o.volume_ml)}, touches_edge={o.touches_edge}"
             for o in state.imaging.organs if o.organ in organs]
    return "\n".join(lines) or "(no measured organ has a chain)"


def _pathology_text(state: CaseState) -> str:
    pathology = state.pathology
    if pathology is None:
        return "(no pathology report)"
    fields = {"organ": pathology.organ, "histology": pathology.histology, "malignant": pathology.malignant,
              "tumor_size_mm": pathology.tumor_size_mm, "nodes_positive": pathology.nodes_positive}
    return ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None) or "(no facts extracted)"
