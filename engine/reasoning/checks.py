"""The calibrator's deterministic checks; each returns every failure it finds, in step order.

They run on every chain whichever backend wrote it. The order of ``CHECKS`` is
the order failures are reported in, and the last failed check of the last
repair round names the reject reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from data_contracts import Chain, CheckFailure, ImagingFeatures, PathologyFeatures, ReportFeatures
from engine.reasoning import kg_paths
from engine.reasoning.evidence import Fact, FactIndex, parse_numbers
from engine.reasoning.staging import expected_stage
from engine.reasoning.targets import current_lesions
from kg import OrganKG

MAX_LESION_DIAMETER_MM: dict[str, float] = {"liver": 300.0, "pancreas": 200.0, "stomach": 300.0, "colon": 250.0, "esophagus": 200.0}
"""Largest lesion diameter taken as plausible per organ; a larger stated size suggests a cm/mm unit error.

NOTE: estimates from the size of the organs in adults, not a published table; a clinician should review them.
"""

SIZE_RATIO_LIMIT = 3.0
"""Stated size and mask diameter disagreeing by more than this factor (a cm/mm slip is 10) is an imaging/text mismatch."""

BOX_TOLERANCE = 0.02
"""Slack of the lesion-inside-organ box test in normalized units (about two voxels on a 100-voxel axis)."""


@dataclass(frozen=True)
class CheckInput:
    """Inputs of every check: the organ KG, the case's facts and its features."""

    kg: OrganKG
    index: FactIndex
    report: ReportFeatures | None
    imaging: ImagingFeatures | None
    pathology: PathologyFeatures | None = None


def check_kg_edges(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    """Check that every triplet is an edge of the organ KG with the step's edge id, and none reverses a KG edge."""
    kg = data.kg
    failures = []
    for step in chain.steps:
        triplet = step.triplet
        edge = kg.find_edge(triplet.subject, triplet.predicate, triplet.object)
        if edge is not None and step.kg_edge_id == edge.edge_id:
            continue
        if edge is not None:
            failures.append(CheckFailure(code="kg_edge_missing", step_id=step.step_id, message=f"{step.step_id} cites KG edge {step.kg_edge_id!r} but its triplet is edge {edge.edge_id!r}"))
            continue
        opposite = {"suggests": "contradicts", "contradicts": "suggests"}.get(triplet.predicate)
        reverse = kg.find_edge(triplet.subject, opposite, triplet.object) if opposite else None
        if reverse is not None:
            failures.append(CheckFailure(code="kg_contradiction", step_id=step.step_id, message=f"{step.step_id} states {triplet.subject} {triplet.predicate} {triplet.object}, but the {kg.organ} KG has {reverse.edge_id}"))
        else:
            failures.append(CheckFailure(code="kg_edge_missing", step_id=step.step_id, message=f"{step.step_id} triplet ({triplet.subject}, {triplet.predicate}, {triplet.object}) is not an edge of the {kg.organ} KG"))
    return failures


def check_citations(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    """Check that every cited feature exists with the cited value, and every finding step states an extracted finding."""
    failures = []
    for step in chain.steps:
        for ref in step.evidence:
            if ref.kind == "kg":
                if ref.ref_id not in data.kg.graph and not _is_edge_id(data.kg, ref.ref_id):
                    failures.append(CheckFailure(code="kg_edge_missing", step_id=step.step_id, message=f"{step.step_id} cites {ref.ref_id!r}, which is neither a node nor an edge of the {data.kg.organ} KG"))
            elif data.index.match(ref) is None:
                failures.append(CheckFailure(code="hallucinated_finding", step_id=step.step_id, message=f"{step.step_id} cites {ref.ref_id}.{ref.field}={ref.value!r}, {_extracted(data.index, ref)}"))
    failures += _ungrounded_findings(chain, data)
    return failures


def _extracted(index: FactIndex, ref) -> str:
    values = [f.ref.value for f in index.by_id(f"{ref.ref_id}.{ref.field}")]
    return f"but the extracted value is {', '.join(map(repr, values))}" if values else "which is not an extracted feature of the case"


def _is_edge_id(kg: OrganKG, edge_id: str) -> bool:
    parts = edge_id.split("|")
    return len(parts) == 3 and kg_paths.edge_between(kg, parts[0], parts[2], parts[1]) is not None


def grounded_nodes(chain: Chain, data: CheckInput) -> set[str]:
    """KG nodes that the chain's extracted features name: the only objects its finding steps may state."""
    kg = data.kg
    nodes = {kg_paths.organ_node(kg)}
    for fact in data.index.facts:
        if fact.ref.ref_id in chain.lesion_ids and fact.node:
            nodes.add(fact.node)
        if fact.source == "lesion" and fact.ref.ref_id in chain.lesion_ids and fact.ref.field in ("count", "multiple"):
            form = "single" if fact.ref.value == "1" and fact.ref.field == "count" else "multiple"
            nodes.add(kg_paths.resolve_first(kg, (form,), "finding") or "")
        if fact.organ not in (chain.organ, None):
            continue
        node = _organ_level_node(kg, fact)
        if node:
            nodes.add(node)
    return nodes


def _organ_level_node(kg: OrganKG, fact: Fact) -> str | None:
    if fact.source == "vessel" and fact.ref.field == "relation":
        return kg_paths.vessel_finding(kg, fact.ref.value)
    if fact.source == "node" and fact.ref.field == "suspicious" and fact.ref.value == "true":
        return kg_paths.resolve_first(kg, kg_paths.NODE_FORMS, "finding")
    if fact.source == "metastasis":
        return kg_paths.metastasis_finding(kg, fact.ref.value)
    return None


def _ungrounded_findings(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    failures = []
    if chain.normal:
        lesions = current_lesions(data.report, chain.organ)
        if lesions:
            ids = ", ".join(les.finding_id for les in lesions)
            failures.append(CheckFailure(code="hallucinated_finding", step_id=chain.steps[0].step_id if chain.steps else None, message=f"normal chain for {chain.organ}, but the report describes lesion {ids} there"))
        return failures
    allowed = grounded_nodes(chain, data)
    for step in chain.steps:
        if step.level != "finding":
            continue
        if not any(ref.kind in ("report", "imaging", "pathology") for ref in step.evidence):
            failures.append(CheckFailure(code="hallucinated_finding", step_id=step.step_id, message=f"{step.step_id} cites no extracted report, pathology or imaging feature"))
        obj = _node_of(data.kg, step.triplet.object)
        if obj not in allowed:
            failures.append(CheckFailure(code="hallucinated_finding", step_id=step.step_id, message=f"{step.step_id} states {step.triplet.predicate} {step.triplet.object}, which no extracted feature of {', '.join(chain.lesion_ids) or chain.organ} names"))
    return failures


def _node_of(kg: OrganKG, text: str) -> str:
    candidates = kg.node_candidates(text)
    return candidates[0] if candidates else text


def check_impressions(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    """Check that each impression rests on a finding of the lesion itself and that no extracted finding contradicts it.

    Lymph nodes and distant disease are staging context, so an impression whose
    only support is one of them is unsupported.
    """
    kg = data.kg
    stated = [step.triplet.object for step in chain.steps if step.level == "impression"]
    impressions = list(dict.fromkeys(([f"impression:{chain.impression_id}"] if chain.impression_id else []) + [_node_of(kg, s) for s in stated]))
    chain_findings = [_node_of(kg, s.triplet.object) for s in chain.steps if s.level == "finding"]
    extracted = sorted(n for n in grounded_nodes(chain, data) if n.startswith("finding:"))
    failures = []
    for impression in impressions:
        if impression not in kg.graph:
            failures.append(CheckFailure(code="unsupported_impression", message=f"impression {impression!r} is not in the {kg.organ} KG"))
            continue
        cited = [s for s in chain.steps if s.level == "impression" and _node_of(kg, s.triplet.object) == impression and s.triplet.predicate == "suggests"]
        on_lesion = [s for s in cited if kg_paths.is_lesion_evidence(kg, _node_of(kg, s.triplet.subject))]
        if not kg_paths.lesion_support(kg, chain_findings, impression) or not on_lesion:
            step_id = cited[0].step_id if cited else None
            failures.append(CheckFailure(code="unsupported_impression", step_id=step_id, message=f"impression {impression} has no supporting finding of the lesion itself in chain {chain.chain_id}{_support_note(kg, cited)}"))
        for edge in kg_paths.contradicting_edges(kg, extracted, impression):
            failures.append(CheckFailure(code="contradicted_impression", message=f"extracted finding {edge.subject} contradicts impression {impression} (KG edge {edge.edge_id}, strength {edge.strength})"))
    return failures


def _support_note(kg: OrganKG, cited) -> str:
    subjects = [_node_of(kg, s.triplet.subject) for s in cited]
    if not subjects:
        return ""
    return f". It rests only on {', '.join(dict.fromkeys(subjects))}, which describe the lesion's setting or spread, not its nature"


def check_staging_context(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    """Check that nodes and distant disease appear only as staging context of a staged malignant primary.

    They may be finding steps of a chain whose impression is a malignant primary
    with a staging table, and never the subject of an impression step.
    """
    kg = data.kg
    impression = f"impression:{chain.impression_id}" if chain.impression_id else None
    staged = kg_paths.takes_staging_context(kg, impression)
    failures = []
    for step in chain.steps:
        if step.level == "finding" and not staged and kg_paths.is_spread_finding(kg, _node_of(kg, step.triplet.object)):
            failures.append(CheckFailure(code="misplaced_staging_context", step_id=step.step_id, message=f"{step.step_id} states {step.triplet.object} in chain {chain.chain_id}, whose impression {chain.impression_id or 'none'} is not a staged malignant primary, so it takes no nodes or distant disease"))
        if step.level == "impression" and kg_paths.is_spread_finding(kg, _node_of(kg, step.triplet.subject)):
            failures.append(CheckFailure(code="misplaced_staging_context", step_id=step.step_id, message=f"{step.step_id} draws impression {step.triplet.object} from {step.triplet.subject}, which is staging context, not evidence of the lesion's nature"))
    return failures


def check_imaging(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    """Check that the organ has a mask, lesion boxes lie inside the organ region, and stated sizes are plausible."""
    failures = _size_failures(chain, data)
    imaging = data.imaging
    if imaging is None:
        return failures
    organ = imaging.organ(chain.organ)
    if organ is None or not organ.present:
        failures.append(CheckFailure(code="imaging_text_mismatch", message=f"{chain.organ} has no mask in the imaging features, but chain {chain.chain_id} reasons about it"))
        return failures
    region = _region_boxes(chain, data, organ.bbox_norm_xyz)
    neighbours = _cited_regions(chain)
    for lesion in imaging.lesions:
        if lesion.lesion_id not in chain.lesion_ids:
            continue
        if lesion.organ != chain.organ and lesion.organ not in neighbours:
            failures.append(CheckFailure(code="imaging_text_mismatch", message=f"mask lesion {lesion.lesion_id} lies in {lesion.organ or 'no organ'}, not in {chain.organ}"))
        failures += _subregion_failures(chain, data.kg, lesion)
        if region and not _inside(lesion.bbox_norm_xyz, region):
            failures.append(CheckFailure(code="imaging_text_mismatch", message=f"box of mask lesion {lesion.lesion_id} {tuple(round(v, 3) for v in lesion.bbox_norm_xyz)} is outside the {chain.organ} region {tuple(round(v, 3) for v in region)}"))
    return failures


def _subregion_failures(chain: Chain, kg: OrganKG, lesion) -> list[CheckFailure]:
    """A location step naming a subregion must agree with the subregion the lesion mask overlaps most."""
    if not lesion.subregion or lesion.organ != chain.organ:
        return []
    term = kg.resolve(lesion.subregion, "subregion")
    if term is None:
        return []
    failures = []
    for step in chain.steps:
        obj = step.triplet.object
        if step.triplet.predicate == "located_in" and obj.startswith("subregion:") and not _nested(kg, kg_paths.local_id(obj), term.id):
            failures.append(CheckFailure(code="imaging_text_mismatch", step_id=step.step_id, message=f"{step.step_id} places the lesion in {obj}, but mask lesion {lesion.lesion_id} lies in {term.node_id}"))
    return failures


def _parents(kg: OrganKG, subregion: str) -> list[str]:
    chain = []
    spec = next((s for s in kg.doc.subregions if s.id == subregion), None)
    while spec is not None and spec.part_of:
        chain.append(spec.part_of)
        spec = next((s for s in kg.doc.subregions if s.id == spec.part_of), None)
    return chain


def _nested(kg: OrganKG, stated: str, measured: str) -> bool:
    """True when the two subregions are equal or one is part of the other (the uncinate process is part of the head)."""
    return stated == measured or stated in _parents(kg, measured) or measured in _parents(kg, stated)


def _size_failures(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    failures = []
    limit = MAX_LESION_DIAMETER_MM.get(chain.organ)
    mask_sizes = {les.lesion_id: les.max_axial_diameter_mm for les in (data.imaging.lesions if data.imaging else ()) if les.lesion_id in chain.lesion_ids}
    for step in chain.steps:
        for ref in step.evidence:
            if ref.kind != "report" or ref.field != "max_diameter_mm" or ref.value is None:
                continue
            numbers = parse_numbers(ref.value)
            if not numbers:
                continue
            size = numbers[0]
            if limit is not None and size > limit:
                failures.append(CheckFailure(code="implausible_size", step_id=step.step_id, message=f"{step.step_id} states {ref.ref_id} is {size:g} mm, above the {limit:g} mm plausible for the {chain.organ} (cm/mm slip?)"))
            # A staging step may cite the organ's largest tumour, which is another lesion than the chain's own.
            own = ref.ref_id in chain.lesion_ids
            for lesion_id, mask_mm in mask_sizes.items() if own else ():
                if size > 0 and mask_mm > 0 and max(size, mask_mm) / min(size, mask_mm) > SIZE_RATIO_LIMIT:
                    failures.append(CheckFailure(code="imaging_text_mismatch", step_id=step.step_id, message=f"{step.step_id} states {size:g} mm for {ref.ref_id}, but mask lesion {lesion_id} measures {mask_mm:g} mm"))
    return _dedupe(failures)


def _cited_regions(chain: Chain) -> set[str]:
    return {ref.ref_id.split(":", 1)[1] for step in chain.steps for ref in step.evidence if ref.kind == "imaging" and ref.ref_id.startswith("organ:")}


def _region_boxes(chain: Chain, data: CheckInput, organ_box) -> tuple[float, ...] | None:
    """Return the hull of the organ box and the boxes of the neighbour regions the chain cites."""
    boxes = [tuple(organ_box)] if organ_box else []
    allowed = set(kg_paths.neighbour_regions(data.kg, [chain.organ])) | {chain.organ}
    for step in chain.steps:
        for ref in step.evidence:
            if ref.kind == "imaging" and ref.field == "bbox_norm_xyz" and ref.ref_id.startswith("organ:") and ref.ref_id[6:] in allowed and data.index.match(ref):
                boxes.append(tuple(parse_numbers(ref.value)))
    if not boxes:
        return None
    return tuple(min(b[i] for b in boxes) for i in range(3)) + tuple(max(b[i] for b in boxes) for i in range(3, 6))


def _inside(box, region) -> bool:
    return all(box[i] >= region[i] - BOX_TOLERANCE for i in range(3)) and all(box[i] <= region[i] + BOX_TOLERANCE for i in range(3, 6))


def check_stage(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    """Check that stated T, N and M agree with the KG's AJCC 8 rules on the extracted report and pathology facts."""
    staging = [s for s in chain.steps if s.triplet.predicate == "staged_as"]
    if not staging and chain.stage is None:
        return []
    impression = f"impression:{chain.impression_id}" if chain.impression_id else _node_of(data.kg, staging[0].triplet.subject)
    table = kg_paths.staging_table(data.kg, impression)
    expected = expected_stage(chain.organ, data.report, data.pathology, data.kg, table) if table else None
    if expected is None:
        return [CheckFailure(code="stage_mismatch", message=f"chain {chain.chain_id} states a stage, but the {chain.organ} facts give none for {impression}")]
    failures = []
    for step in staging:
        category = kg_paths.local_id(_node_of(data.kg, step.triplet.object))
        axis = category[:1]
        if axis in ("T", "N", "M") and getattr(expected, axis) != category:
            failures.append(CheckFailure(code="stage_mismatch", step_id=step.step_id, message=f"{step.step_id} states {category}, but the AJCC 8 rules give {getattr(expected, axis)} ({', '.join(expected.rules) or 'no rule fired'})"))
    if chain.stage is not None:
        for axis in ("T", "N", "M"):
            if getattr(chain.stage, axis) != getattr(expected, axis):
                failures.append(CheckFailure(code="stage_mismatch", message=f"chain stage {axis} is {getattr(chain.stage, axis)}, but the AJCC 8 rules give {getattr(expected, axis)}"))
    return _dedupe(failures)


def _dedupe(failures: list[CheckFailure]) -> list[CheckFailure]:
    return list(dict.fromkeys(failures))


CHECKS: tuple[Callable[[Chain, CheckInput], list[CheckFailure]], ...] = (check_kg_edges, check_citations, check_impressions, check_staging_context, check_imaging, check_stage)


def run_checks(chain: Chain, data: CheckInput) -> list[CheckFailure]:
    """Run every deterministic check on ``chain`` and return all failures."""
    failures: list[CheckFailure] = []
    for check in CHECKS:
        failures += check(chain, data)
    return failures
