"""Chain-of-thought reasoning over the organ KGs: facts, KG walks, phrasing, backends, checks and repairs.

``engine.agents.reasoner`` and ``engine.agents.calibrator`` are the agents built on it.
"""

from engine.reasoning.checks import CHECKS, CheckInput, run_checks
from engine.reasoning.evidence import Fact, FactIndex, case_facts
from engine.reasoning.hints import PathologyTruth, RepairHints
from engine.reasoning.targets import ChainTarget, plan_targets, target_for

__all__ = [
    "CHECKS",
    "ChainTarget",
    "CheckInput",
    "Fact",
    "FactIndex",
    "PathologyTruth",
    "RepairHints",
    "case_facts",
    "plan_targets",
    "run_checks",
    "target_for",
]
