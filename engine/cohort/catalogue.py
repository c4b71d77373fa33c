"""The lesion catalogue and the per-case plan: which lesions a synthetic case carries.

Each catalogue entry names its impression and finding terms by KG id (a synonym also
works). ``engine.cohort.vocabulary`` resolves them, and an entry whose organ or
impression the loaded KGs lack is never sampled. HU values are
portal-venous-phase means of the lesion, before noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LesionKind:
    """One kind of lesion the generators can draw, with its imaging appearance."""

    key: str
    organ: str
    impression: str
    hu: float
    texture_hu: float
    diameter_mm: tuple[float, float]
    count: tuple[int, int]
    shapes: tuple[str, ...]
    margins: tuple[str, ...]
    density: str
    enhancement: str
    extra_findings: tuple[str, ...] = ()
    wall_thickening: bool = False
    resected: bool = False
    weight: float = 1.0


CATALOGUE: tuple[LesionKind, ...] = (
    LesionKind("liver_hcc", "liver", "hcc", 45.0, 8.0, (15.0, 60.0), (1, 2), ("round", "oval"),
               ("well_defined",), "hypodense", "arterial_hyperenhancement", ("washout", "enhancing_capsule"), resected=True),
    LesionKind("liver_metastasis", "liver", "metastasis", 30.0, 8.0, (8.0, 35.0), (2, 3), ("round", "irregular"),
               ("ill_defined", "well_defined"), "hypodense", "rim_enhancement", weight=0.7),
    LesionKind("liver_hemangioma", "liver", "hemangioma", 95.0, 10.0, (10.0, 45.0), (1, 2), ("lobulated", "oval", "round"),
               ("well_defined",), "hyperdense", "peripheral_nodular_enhancement", weight=0.8),
    LesionKind("liver_cyst", "liver", "simple_cyst", 8.0, 3.0, (6.0, 40.0), (1, 3), ("round", "oval"),
               ("well_defined",), "cystic", "non_enhancing", weight=0.8),
    LesionKind("pancreas_pdac", "pancreas", "pdac", 25.0, 8.0, (15.0, 45.0), (1, 1), ("irregular",),
               ("ill_defined", "infiltrative"), "hypodense", "hypoenhancing", ("upstream_duct_dilatation",), resected=True, weight=1.5),
    LesionKind("pancreas_pnet", "pancreas", "pnet", 85.0, 8.0, (10.0, 35.0), (1, 1), ("round", "oval"),
               ("well_defined",), "hyperdense", "arterial_hyperenhancement", resected=True),
    LesionKind("pancreas_ipmn", "pancreas", "ipmn", 10.0, 3.0, (10.0, 30.0), (1, 1), ("lobulated",),
               ("well_defined",), "cystic", "non_enhancing", ("communication_with_duct",), weight=0.7),
    LesionKind("stomach_adenocarcinoma", "stomach", "gastric_adenocarcinoma", 55.0, 8.0, (25.0, 60.0), (1, 1), ("irregular",),
               ("ill_defined",), "isodense", "heterogeneous_enhancement", ("focal_wall_thickening", "mucosal_irregularity"), wall_thickening=True,
               resected=True),
    LesionKind("stomach_gist", "stomach", "gist", 40.0, 15.0, (20.0, 60.0), (1, 1), ("round", "lobulated"),
               ("well_defined",), "mixed_density", "heterogeneous_enhancement", ("exophytic_submucosal_mass",), resected=True, weight=0.6),
    LesionKind("colon_adenocarcinoma", "colon", "colorectal_adenocarcinoma", 50.0, 8.0, (25.0, 55.0), (1, 1), ("irregular",),
               ("ill_defined",), "soft_tissue_density", "heterogeneous_enhancement", ("focal_asymmetric_wall_thickening",), wall_thickening=True,
               resected=True, weight=1.2),
    LesionKind("esophagus_scc", "esophagus", "esophageal_scc", 45.0, 8.0, (20.0, 50.0), (1, 1), ("irregular",),
               ("ill_defined",), "isodense", "heterogeneous_enhancement", ("asymmetric_wall_thickening",), wall_thickening=True, resected=True,
               weight=0.6),
    LesionKind("esophagus_adenocarcinoma", "esophagus", "esophageal_adenocarcinoma", 45.0, 8.0, (20.0, 50.0), (1, 1), ("irregular",),
               ("ill_defined",), "isodense", "heterogeneous_enhancement", ("asymmetric_wall_thickening",), wall_thickening=True, resected=True,
               weight=0.6),
)

KINDS: dict[str, LesionKind] = {kind.key: kind for kind in CATALOGUE}

PANCREAS_T4_ARTERIES: tuple[str, ...] = ("common_hepatic_artery", "superior_mesenteric_artery", "celiac_axis")
"""Arteries whose involvement makes an exocrine pancreatic cancer T4 regardless of size."""

METASTASIZING_ORGANS: frozenset[str] = frozenset({"pancreas", "stomach", "colon"})
"""Primaries that the generator sometimes gives liver metastases."""


@dataclass(frozen=True)
class LesionPlan:
    """One lesion to draw: its kind, intended size and look, and its role in the case."""

    kind: LesionKind
    diameter_mm: float
    shape: str
    margin: str
    role: str  # "primary", "metastasis" or "incidental"


@dataclass(frozen=True)
class CasePlan:
    """Everything a case will contain before any voxel is drawn."""

    lesions: tuple[LesionPlan, ...] = ()
    nodes_positive: int = 0
    nodes_examined: int = 0
    invaded_structures: tuple[str, ...] = ()
    depth_index: float = 0.0
    vascular_invasion: bool = False
    lymphovascular_invasion: bool = False
    perineural_invasion: bool = False
    grade: int = 2
    metastasis_sites: tuple[str, ...] = field(default_factory=tuple)

    @property
    def primary(self) -> LesionKind | None:
        """The kind of the main lesion, or None for a normal case."""
        return self.lesions[0].kind if self.lesions else None


def sample_case_plan(rng: np.random.Generator, kinds: list[LesionKind], normal_fraction: float = 0.2) -> CasePlan:
    """Draw a case plan from ``kinds``, the catalogue entries the KGs and the scan allow."""
    if not kinds or rng.random() < normal_fraction:
        return CasePlan()

    weights = np.array([k.weight for k in kinds], dtype=float)
    kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    lesions = [_lesion_plan(rng, kind, "primary") for _ in range(int(rng.integers(kind.count[0], kind.count[1] + 1)))]
    liver_kinds = {k.key: k for k in kinds if k.organ == "liver"}

    metastasis_sites: tuple[str, ...] = ()
    if kind.organ in METASTASIZING_ORGANS and "liver_metastasis" in liver_kinds and rng.random() < 0.3:
        metastasis = liver_kinds["liver_metastasis"]
        lesions += [_lesion_plan(rng, metastasis, "metastasis") for _ in range(int(rng.integers(1, 4)))]
        metastasis_sites = ("liver",)
    if kind.organ != "liver" and "liver_cyst" in liver_kinds and rng.random() < 0.2:
        lesions.append(_lesion_plan(rng, liver_kinds["liver_cyst"], "incidental"))

    if not kind.resected:
        return CasePlan(lesions=tuple(lesions))
    nodes_positive = int(rng.choice([0, 0, 0, 1, 2, 3, 5, 7]))
    invaded: tuple[str, ...] = ()
    if kind.key == "pancreas_pdac" and rng.random() < 0.3:
        invaded = (str(rng.choice(PANCREAS_T4_ARTERIES)),)
    return CasePlan(
        lesions=tuple(lesions),
        nodes_positive=nodes_positive,
        nodes_examined=nodes_positive + int(rng.integers(10, 22)),
        invaded_structures=invaded,
        depth_index=float(rng.random()),
        vascular_invasion=bool(rng.random() < 0.3),
        lymphovascular_invasion=bool(rng.random() < 0.4),
        perineural_invasion=bool(rng.random() < 0.4),
        grade=int(rng.integers(1, 4)),
        metastasis_sites=metastasis_sites,
    )


def _lesion_plan(rng: np.random.Generator, kind: LesionKind, role: str) -> LesionPlan:
    diameter = float(rng.uniform(*kind.diameter_mm))
    return LesionPlan(kind, diameter, str(rng.choice(kind.shapes)), str(rng.choice(kind.margins)), role)
