"""Pathology-level chain steps and the comparison of a chain with the pathology report.

The pathology level extends a chain from its impression to the endpoints:
``impression --has_endpoint--> malignant|benign|premalignant``,
``impression --histology--> <histology endpoint>`` and
``impression --staged_as--> <T, N and M category>``, each step an edge of the
organ KG. Where a pathology report exists its facts are ground truth: a chain
whose impression disagrees on malignancy or histology, or whose decided T or N
differs from the pathology stage, fails a ``pathology_discordance`` check.
"""

from __future__ import annotations

from typing import Any

from data_contracts import Chain, CheckFailure, EvidenceRef, PathologyFeatures, ReasoningStep, StageResult, Triplet

from engine.qa.tnm import axis_missing, find_rule
from engine.qa.wording import histology_sentence, not_stated


def pathology_applies(pathology: PathologyFeatures | None, organ: str) -> bool:
    """True when the pathology report exists and is about ``organ`` (or names no organ)."""
    return pathology is not None and (pathology.organ is None or pathology.organ == organ)


def impression_of(chain: Chain, kg):
    """Return the ``ImpressionInfo`` of the chain's impression, or None."""
    candidates = [chain.impression_id] if chain.impression_id else []
    candidates += [s.triplet.object for s in chain.steps if s.triplet.predicate == "suggests"]
    for text in candidates:
        local_id = text.split(":", 1)[1] if text.startswith("impression:") else text
        info = kg.impressions.get(local_id)
        if info is None:
            term = kg.resolve(text, "impression")
            info = kg.impressions.get(term.id) if term else None
        if info is not None:
            return info
    return None


def pathology_failures(chain: Chain, kg, pathology: PathologyFeatures, pathology_stage: StageResult | None) -> list[CheckFailure]:
    """Return every disagreement between the chain and the pathology report."""
    failures: list[CheckFailure] = []
    info = impression_of(chain, kg)
    if info is None:
        return failures
    im_step = next((s.step_id for s in chain.steps if s.level == "impression"), None)

    if pathology.malignant is not None and (info.behaviour == "malignant") != pathology.malignant:
        truth = "malignant" if pathology.malignant else "not malignant"
        failures.append(CheckFailure(code="pathology_discordance", step_id=im_step,
                                     message=f"malignancy: chain impression {info.id} is {info.behaviour} but pathology is {truth}"))
    if pathology.histology and pathology.histology not in (info.histology, info.id):
        failures.append(CheckFailure(code="pathology_discordance", step_id=im_step,
                                     message=f"histology: chain impression {info.id} has histology {info.histology} but pathology reports {pathology.histology}"))
    if chain.stage is not None and pathology_stage is not None:
        for axis in ("T", "N"):
            ours, truth = getattr(chain.stage, axis), getattr(pathology_stage, axis)
            if not ours.endswith("X") and not truth.endswith("X") and ours != truth:
                failures.append(CheckFailure(code="pathology_discordance", step_id=im_step,
                                             message=f"{axis}: chain stage {ours} but pathology facts give p{truth}"))
    return failures


def discordance_entry(failure: CheckFailure) -> str:
    """Return the ``Chain.discordance`` text of a failure; it starts with the kind (``T:``, ``histology:``)."""
    return failure.message


def pathology_steps(
    chain: Chain, kg, stage: StageResult | None, facts: dict[str, Any], pathology: PathologyFeatures | None,
    sources: dict[str, str] | None = None,
) -> tuple[ReasoningStep, ...]:
    """Return the chain's P1.. steps: behaviour, histology, then T, N and M; only triplets that are KG edges are kept.

    A ``staged_as`` step the reasoner already wrote is kept when its category is
    the final stage's category for that axis, so its sentence and evidence survive.
    """
    info = impression_of(chain, kg)
    existing = [s for s in chain.steps if s.level == "pathology"]
    if info is None:
        return tuple(existing)
    subject = f"impression:{info.id}"
    path_refs = _pathology_refs(pathology)
    planned: list = [
        ("has_endpoint", f"endpoint:{info.behaviour}", f"{_capital(info.name)} is a {info.behaviour} lesion.", path_refs.get("malignant", ())),
        ("histology", f"endpoint:{info.histology}", _histology_sentence(kg, info, pathology), path_refs.get("histology", ())),
    ]
    for axis in ("T", "N", "M"):
        kept = _reasoner_stage_step(existing, axis, stage)
        if kept is not None:
            planned.append(kept)
        elif stage is not None:
            category = getattr(stage, axis)
            planned.append(("staged_as", f"stage:{category}", _stage_sentence(kg, info.name, axis, category, stage),
                            _stage_refs(kg, axis, stage, facts, sources or {})))

    steps: list[ReasoningStep] = []
    for item in planned:
        step_id = f"P{len(steps) + 1}"
        if isinstance(item, ReasoningStep):
            steps.append(item.model_copy(update={"step_id": step_id}))
            continue
        predicate, obj, sentence, evidence = item
        edge = kg.find_edge(subject, predicate, obj)
        if edge is None:
            continue
        steps.append(ReasoningStep(
            step_id=step_id, level="pathology", triplet=Triplet(subject=subject, predicate=predicate, object=obj),
            sentence=sentence, kg_edge_id=edge.edge_id, evidence=tuple(evidence),
        ))
    return tuple(steps)


def _reasoner_stage_step(existing: list[ReasoningStep], axis: str, stage: StageResult | None) -> ReasoningStep | None:
    for step in existing:
        category = step.triplet.object.removeprefix("stage:")
        if step.triplet.predicate == "staged_as" and category.startswith(axis) and (stage is None or getattr(stage, axis) == category):
            return step
    return None


def _histology_sentence(kg, info, pathology: PathologyFeatures | None) -> str:
    """Phrase the histology step. The names match when equal up to case or when the KG resolves the impression name to the endpoint."""
    histology_name = _endpoint_name(kg, info.histology)
    resolved = kg.resolve(info.name, "endpoint")
    same_name = info.name.casefold() == histology_name.casefold() or (resolved is not None and resolved.id == info.histology)
    confirmed = pathology is not None and pathology.histology in (info.histology, info.id)
    return histology_sentence(info.name, histology_name, same_name=same_name, confirmed=confirmed)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _endpoint_name(kg, endpoint_id: str) -> str:
    term = kg.index.terms.get(("endpoint", endpoint_id))
    return term.name if term else endpoint_id.replace("_", " ")


def _stage_sentence(kg, name: str, axis: str, category: str, stage: StageResult) -> str:
    if category.endswith("X"):
        missing = axis_missing(kg, stage, axis)
        reason = f" because {not_stated(missing)}" if missing else ""
        return f"The {axis} category of the {name} cannot be assessed ({category}){reason}."
    rules = [r.id for r in (find_rule(kg, rid) for rid in stage.rules) if r is not None and r.axis == axis]
    cited = f" by rule {', '.join(rules)}" if rules else ""
    return f"The {name} is staged {category}{cited} (AJCC 8th edition)."


def _stage_refs(kg, axis: str, stage: StageResult, facts: dict[str, Any], sources: dict[str, str]) -> tuple[EvidenceRef, ...]:
    """Return the fired rule of ``axis`` and the facts its table's ``axis`` rules read, each from the report or the pathology."""
    rules = [rule for rule in (find_rule(kg, rid) for rid in stage.rules) if rule is not None and rule.axis == axis]
    refs = [EvidenceRef(kind="kg", ref_id=f"rule:{rule.id}", field="category", value=rule.category) for rule in rules]
    table = next((t for t in kg.tables if t.id == stage.table), None)
    read = {e.object.removeprefix("fact:") for r in (table.rules.get(axis, ()) if table else ()) for e in kg.edges(f"rule:{r.id}", "uses_fact")}
    for key, value in sorted(facts.items()):
        if key not in read:
            continue
        text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        kind = "pathology" if sources.get(key) == "pathology" else "report"
        refs.append(EvidenceRef(kind=kind, ref_id=kind, field=key, value=text))
    return tuple(refs)


def _pathology_refs(pathology: PathologyFeatures | None) -> dict[str, tuple[EvidenceRef, ...]]:
    if pathology is None:
        return {}
    spans = {item.field: item.span for item in pathology.evidence}
    refs: dict[str, tuple[EvidenceRef, ...]] = {}
    if pathology.histology:
        refs["histology"] = (EvidenceRef(kind="pathology", ref_id="pathology", field="histology", value=pathology.histology,
                                         span=spans.get("histology")),)
    if pathology.malignant is not None:
        refs["malignant"] = (EvidenceRef(kind="pathology", ref_id="pathology", field="malignant", value=str(pathology.malignant).lower(),
                                         span=spans.get("malignant") or spans.get("histology")),)
    return refs
