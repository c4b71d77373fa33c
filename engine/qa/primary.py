"""Lesion selection and naming: described lesions, each organ's staged primary tumour, and noun phrases for each lesion.

A lesion chain that describes nothing of the lesion (only "a lesion in the
pancreas" with regional lymphadenopathy) states no tumour, so it gets no TNM,
attribute or report sample. It is kept only in an organ that has no described
lesion, when the pathology report of that organ confirms its malignant histology.

TNM is asked once per organ, about its staged primary tumour: the chains of the
organ whose impression is malignant and has an AJCC staging table. Metastases
have no table, so liver metastases never trigger liver T staging; they enter
the primary's M category through the staging facts. Benign lesions have no table either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_contracts import PathologyFeatures
from engine.qa.view import ChainView
from engine.qa.wording import format_mm, locations_phrase, organ_adjective

RANK_WORDS = ("largest", "second-largest", "third-largest", "fourth-largest", "fifth-largest")


def reportable_views(views: Sequence[ChainView], pathology: PathologyFeatures | None, kgs) -> list[ChainView]:
    """Return the normal chains, the described lesion chains, and lesion chains the pathology report confirms."""
    described_organs = {v.organ for v in views if v.described}
    return [v for v in views if v.normal or v.described or (v.organ not in described_organs and _confirmed(v, pathology, kgs))]


def undescribed_views(views: Sequence[ChainView], pathology: PathologyFeatures | None, kgs) -> list[ChainView]:
    """Return the lesion chains ``reportable_views`` leaves out."""
    kept = {v.chain.chain_id for v in reportable_views(views, pathology, kgs)}
    return [v for v in views if v.chain.chain_id not in kept]


def _confirmed(view: ChainView, pathology: PathologyFeatures | None, kgs) -> bool:
    """True when the pathology report is about the chain's organ, malignant, and of the histology the chain's impression names."""
    if pathology is None or pathology.organ != view.organ or not pathology.malignant or view.impression is None:
        return False
    info = kgs[view.organ].impressions.get(view.impression.id)
    return info is not None and info.histology == pathology.histology


def is_staged_primary(view: ChainView, kg) -> bool:
    """True for a lesion chain whose impression is a malignant tumour with an AJCC staging table in the organ's KG."""
    if view.normal or view.impression is None or view.behaviour != "malignant":
        return False
    info = kg.impressions.get(view.impression.id)
    return info is not None and bool(info.staging_table)


def is_primary_malignancy(view: ChainView, kg) -> bool:
    """True for a lesion chain whose impression is a malignant primary tumour: malignant, and not a metastasis by histology."""
    if view.normal or view.impression is None or view.behaviour != "malignant":
        return False
    info = kg.impressions.get(view.impression.id)
    return info is not None and not info.histology.startswith("metastatic")


def primary_organs(views: Sequence[ChainView], kgs) -> tuple[str, ...]:
    """Return the organs that hold a primary malignant tumour, in chain order."""
    return tuple(dict.fromkeys(v.organ for v in views if is_primary_malignancy(v, kgs[v.organ])))


def staged_primaries(views: Sequence[ChainView], kgs) -> dict[str, list[ChainView]]:
    """Return, per organ, the chains of its staged primary tumour; the index lesion (largest) comes first.

    Chains whose impression uses another staging table than the index lesion's are
    left out, so one organ is staged by one table.
    """
    by_organ: dict[str, list[ChainView]] = {}
    for view in views:
        if is_staged_primary(view, kgs[view.organ]):
            by_organ.setdefault(view.organ, []).append(view)
    primaries: dict[str, list[ChainView]] = {}
    for organ, organ_views in by_organ.items():
        ordered = sorted(organ_views, key=lambda v: (not v.described, -(v.size_mm or 0.0)))
        table = _table(ordered[0], kgs[organ])
        primaries[organ] = [v for v in ordered if _table(v, kgs[organ]) == table]
    return primaries


def lesion_facts(group: Sequence[ChainView]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return staging facts that a staged primary's own chains state, with their sources: the largest size and the tumour count.

    They fill only gaps that the report and pathology facts leave, for example a
    tumour whose impression the reasoner inferred, so the report names no primary
    and ``engine.staging_facts`` reads no size for it.
    """
    facts: dict[str, Any] = {}
    sources: dict[str, str] = {}
    sized = [v for v in group if v.size_mm is not None]
    if sized:
        largest = max(sized, key=lambda v: v.size_mm)
        facts["max_diameter_mm"] = largest.size_mm
        sources["max_diameter_mm"] = largest.size_source or "report"
    if group:
        facts["tumor_count"] = len(group) if len(group) > 1 else (group[0].count or 1)
        sources["tumor_count"] = "report"
    return facts, sources


def _table(view: ChainView, kg) -> str | None:
    return kg.impressions[view.impression.id].staging_table


@dataclass(frozen=True)
class LesionNames:
    """Noun phrases that single out one lesion among the described lesions of its organ.

    ``reference`` names it by place, for example 'the lesion in segment 5 of the
    liver' or 'the larger lesion in segment 8 of the liver'. ``unlocated`` names
    it without its place, for questions that ask for the place: 'the lesion' or
    'the 45 mm lesion'. A name is None when no subregion or size distinguishes the lesion.
    """

    reference: str | None
    unlocated: str | None
    location: str | None


def lesion_names(views: Sequence[ChainView]) -> dict[str, LesionNames]:
    """Return the names of every described lesion chain, by chain id."""
    by_organ: dict[str, list[ChainView]] = {}
    for view in views:
        if view.described:
            by_organ.setdefault(view.organ, []).append(view)
    names: dict[str, LesionNames] = {}
    for organ_views in by_organ.values():
        bases = {v.chain.chain_id: _base_reference(v) for v in organ_views}
        for view in organ_views:
            siblings = [v for v in organ_views if bases[v.chain.chain_id] == bases[view.chain.chain_id]]
            names[view.chain.chain_id] = LesionNames(
                reference=_ranked(bases[view.chain.chain_id], view, siblings),
                unlocated=_unlocated(view, organ_views),
                location=location_of(view),
            )
    return names


def location_of(view: ChainView) -> str | None:
    """Return the lesion's subregions as a phrase ('segment 5 of the liver'), or None when the chain names none."""
    if not view.subregions:
        return None
    return locations_phrase(view.organ, view.organ_name, [ref.name for ref in view.subregions])


def _base_reference(view: ChainView) -> str:
    location = location_of(view)
    if location:
        return f"the lesion in {location}"
    return f"the {organ_adjective(view.organ, view.organ_name)} lesion"


def _ranked(base: str, view: ChainView, siblings: list[ChainView]) -> str | None:
    """Return ``base`` when it is unique, else 'the larger ...' or 'the second-largest ...' by size; None when sizes cannot tell."""
    if len(siblings) == 1:
        return base
    sizes = [v.size_mm for v in siblings]
    if any(size is None for size in sizes) or len({format_mm(s) for s in sizes}) < len(sizes) or len(sizes) > len(RANK_WORDS):
        return None
    rank = sorted(sizes, reverse=True).index(view.size_mm)
    word = ("larger", "smaller")[rank] if len(sizes) == 2 else RANK_WORDS[rank]
    return f"the {word} {base.removeprefix('the ')}"


def _unlocated(view: ChainView, organ_views: list[ChainView]) -> str | None:
    if len(organ_views) == 1:
        return "the lesion"
    sizes = [format_mm(v.size_mm) if v.size_mm is not None else None for v in organ_views]
    if view.size_mm is None or None in sizes or len(set(sizes)) < len(sizes):
        return None
    return f"the {format_mm(view.size_mm)} mm lesion"
