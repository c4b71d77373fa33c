"""Organ knowledge graphs: YAML files, loader, checks, AJCC 8 staging rules and version hash."""

from kg.loader import kg_version, load_all, load_organ
from kg.model import Edge, ImpressionInfo, OrganKG, RankedImpression
from kg.problems import KGError, Problem
from kg.schema import FACTS, ORGANS
from kg.staging import FactError
from kg.terms import Term

__all__ = [
    "FACTS",
    "ORGANS",
    "Edge",
    "FactError",
    "ImpressionInfo",
    "KGError",
    "OrganKG",
    "Problem",
    "RankedImpression",
    "Term",
    "kg_version",
    "load_all",
    "load_organ",
]
