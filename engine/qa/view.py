"""A read-only view of one accepted chain: the facts the summarizer and composer may state.

The composer and the summarizer state only what the chain carries: the organ,
the subregions of ``located_in`` steps, the finding terms of ``has_<attribute>``
steps, the impression, the pathology endpoints and the stage. Sizes and counts
come from the chain's evidence, or else from the report lesion the chain is
about (``Chain.lesion_ids``), so an answer always matches the extracted facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from data_contracts import Chain, ImagingFeatures, LesionFinding, LesionImagingFeatures, ReasoningStep, ReportFeatures

NODE_PREFIX_KIND = {"stage": "stage_category"}
"""Node id prefixes that differ from the term kind (``stage:T4`` is a ``stage_category`` term)."""

SIZE_FIELDS = ("max_diameter_mm", "size_mm", "sizes_mm")

CONTEXT_ATTRIBUTES = frozenset({"context", "background"})
"""KG finding attributes about the patient or the organ as a whole (known primary, cirrhosis), not about the lesion."""


@dataclass(frozen=True)
class TermRef:
    """A KG term named by a chain step: kind, local id, display name and the step that names it."""

    kind: str
    id: str
    name: str
    step_id: str


@dataclass(frozen=True)
class ChainView:
    """Facts that one accepted chain states, resolved against its organ's KG."""

    chain: Chain
    organ: str
    organ_name: str
    subregions: tuple[TermRef, ...] = ()
    attributes: dict[str, tuple[TermRef, ...]] = field(default_factory=dict)
    impression: TermRef | None = None
    behaviour: str | None = None
    histology: TermRef | None = None
    size_mm: float | None = None
    size_source: str | None = None
    count: int | None = None
    multiple: bool = False
    report_lesion: LesionFinding | None = None
    imaging_lesion: LesionImagingFeatures | None = None
    neighbours: tuple[TermRef, ...] = ()

    @property
    def normal(self) -> bool:
        """True for a chain that states the organ has no lesion."""
        return self.chain.normal

    @property
    def described(self) -> bool:
        """True for a lesion chain that describes the lesion itself.

        A subregion, a size, a lesion mask, an impression the report states for
        the lesion, or a finding about the lesion counts. Findings outside the
        lesion (regional lymphadenopathy, ascites, distant lesions) and context
        findings (a known primary, cirrhosis) do not, so a chain that rests on
        them alone describes no tumour.
        """
        if self.normal:
            return False
        if self.subregions or self.size_mm is not None or self.imaging_lesion is not None:
            return True
        if self.report_lesion is not None and self.report_lesion.impression_id:
            return True
        return any(not is_outside_lesion(attribute) for attribute in self.attributes)

    def steps(self, *step_ids: str) -> tuple[ReasoningStep, ...]:
        """Return the chain steps with the given ids, in chain order."""
        wanted = set(step_ids)
        return tuple(step for step in self.chain.steps if step.step_id in wanted)


def is_outside_lesion(attribute: str) -> bool:
    """True for a KG finding attribute that describes something other than the lesion (``extrahepatic``, ``context``)."""
    return attribute.startswith("extra") or attribute in CONTEXT_ATTRIBUTES


def node_term(kg, text: str, kind: str | None = None):
    """Return the KG term a node id (``finding:hypodense``), term id or synonym names, or None."""
    if ":" in text:
        prefix, local_id = text.split(":", 1)
        term = kg.index.terms.get((NODE_PREFIX_KIND.get(prefix, prefix), local_id))
        if term is not None and (kind is None or term.kind == kind):
            return term
    return kg.resolve(text, kind)


def build_view(chain: Chain, kg, report: ReportFeatures | None, imaging: ImagingFeatures | None) -> ChainView:
    """Resolve every step of ``chain`` against ``kg`` and collect the facts it states."""
    subregions: list[TermRef] = []
    attributes: dict[str, list[TermRef]] = {}
    neighbours: list[TermRef] = []
    impression = histology = None
    behaviour = None
    for step in chain.steps:
        predicate = step.triplet.predicate
        target = node_term(kg, step.triplet.object)
        if target is None:
            continue
        ref = TermRef(target.kind, target.id, target.name, step.step_id)
        if predicate == "located_in" and target.kind == "subregion":
            subregions.append(ref)
        elif predicate.startswith("has_") and target.kind == "finding":
            attribute = target.attribute or predicate.removeprefix("has_")
            attributes.setdefault(attribute, []).append(ref)
        elif target.kind == "structure":
            neighbours.append(ref)
        elif predicate == "suggests" and target.kind == "impression" and impression is None:
            impression = ref
        elif predicate == "has_endpoint" and target.kind == "endpoint":
            behaviour = target.id
        elif predicate == "histology" and target.kind == "endpoint":
            histology = ref

    impression = impression or _impression_from_id(kg, chain)
    if impression is not None and behaviour is None:
        behaviour = kg.impressions[impression.id].behaviour
    report_lesion = _linked_report_lesion(chain, report)
    size_mm, size_source = _size_from_chain(chain, report_lesion)
    organ_term = kg.resolve(chain.organ, "organ")
    return ChainView(
        chain=chain, organ=chain.organ, organ_name=organ_term.name if organ_term else chain.organ,
        subregions=_unique(subregions), attributes={k: _unique(v) for k, v in attributes.items()},
        impression=impression, behaviour=behaviour, histology=histology,
        size_mm=size_mm, size_source=size_source,
        count=report_lesion.count if report_lesion else None, multiple=bool(report_lesion and report_lesion.multiple),
        report_lesion=report_lesion, imaging_lesion=_linked_imaging_lesion(chain, imaging), neighbours=_unique(neighbours),
    )


def _impression_from_id(kg, chain: Chain) -> TermRef | None:
    if not chain.impression_id:
        return None
    term = node_term(kg, chain.impression_id, "impression")
    if term is None:
        return None
    step = next((s.step_id for s in chain.steps if s.level == "impression"), "")
    return TermRef(term.kind, term.id, term.name, step)


def _linked_report_lesion(chain: Chain, report: ReportFeatures | None) -> LesionFinding | None:
    if report is None:
        return None
    for lesion in report.lesions:
        if lesion.finding_id in chain.lesion_ids and not lesion.negated:
            return lesion
    return None


def _linked_imaging_lesion(chain: Chain, imaging: ImagingFeatures | None) -> LesionImagingFeatures | None:
    if imaging is None:
        return None
    for lesion in imaging.lesions:
        if lesion.lesion_id in chain.lesion_ids:
            return lesion
    return None


def _size_from_chain(chain: Chain, report_lesion: LesionFinding | None) -> tuple[float | None, str | None]:
    for step in chain.steps:
        for evidence in step.evidence:
            if evidence.field in SIZE_FIELDS and evidence.value:
                size = _first_number(evidence.value)
                if size is not None:
                    return size, evidence.kind
    if report_lesion is not None and report_lesion.max_diameter_mm is not None:
        return float(report_lesion.max_diameter_mm), "report"
    return None, None


def _first_number(text: str) -> float | None:
    for token in text.replace(",", " ").replace("x", " ").split():
        try:
            return float(token)
        except ValueError:
            continue
    return None


def _unique(refs: list[TermRef]) -> tuple[TermRef, ...]:
    seen: dict[tuple[str, str], TermRef] = {}
    for ref in refs:
        seen.setdefault((ref.kind, ref.id), ref)
    return tuple(seen.values())
