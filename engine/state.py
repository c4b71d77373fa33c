"""The state one case carries through the six agents, and the context they share.

Each agent is a plain function ``run(state, ctx) -> CaseState``: it reads the
fields its docstring names, returns a new state with its own fields filled, and
never needs Prefect. A problem that stops the case is raised as ``CaseRejected``;
a problem that only stops one organ becomes a reject record in ``state.rejects``
while the other organs go on.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from data_contracts import (
    AgentProvenance,
    CaseInput,
    Chain,
    Flag,
    ImagingFeatures,
    PathologyFeatures,
    RejectRecord,
    ReportFeatures,
    VQASample,
)
from engine.config import EngineConfig


class CaseRejected(Exception):
    """A case cannot produce samples; carries the reject reason for the rejects table."""

    def __init__(self, agent: str, reason_code: str, message: str, *, file: str | None = None, field: str | None = None, organ: str | None = None):
        super().__init__(message)
        self.agent = agent
        self.reason_code = reason_code
        self.message = message
        self.file = file
        self.field = field
        self.organ = organ


@dataclass
class Usage:
    """Token and cost accounting of one case, per agent."""

    prompt_tokens: dict[str, int] = field(default_factory=dict)
    completion_tokens: dict[str, int] = field(default_factory=dict)
    cost_usd: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    cache_hits: dict[str, int] = field(default_factory=dict)

    def add(self, agent: str, prompt_tokens: int, completion_tokens: int, cost_usd: float, cached: bool) -> None:
        """Add one LLM call of ``agent``."""
        self.prompt_tokens[agent] = self.prompt_tokens.get(agent, 0) + prompt_tokens
        self.completion_tokens[agent] = self.completion_tokens.get(agent, 0) + completion_tokens
        self.cost_usd[agent] = self.cost_usd.get(agent, 0.0) + cost_usd
        self.calls[agent] = self.calls.get(agent, 0) + 1
        if cached:
            self.cache_hits[agent] = self.cache_hits.get(agent, 0) + 1

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens over all agents."""
        return sum(self.prompt_tokens.values()) + sum(self.completion_tokens.values())

    @property
    def total_cost_usd(self) -> float:
        """Cost over all agents in US dollars."""
        return sum(self.cost_usd.values())


@dataclass(frozen=True)
class CaseState:
    """Everything known about one case so far. Agents return updated copies."""

    case: CaseInput
    input_hash: str = ""
    imaging: ImagingFeatures | None = None
    report_text: str | None = None
    pathology_text: str | None = None
    report: ReportFeatures | None = None
    pathology: PathologyFeatures | None = None
    chains: tuple[Chain, ...] = ()
    samples: tuple[VQASample, ...] = ()
    flags: tuple[Flag, ...] = ()
    rejects: tuple[RejectRecord, ...] = ()
    provenance: tuple[AgentProvenance, ...] = ()
    cot_report: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> CaseState:
        """Return a copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


@dataclass
class EngineContext:
    """Shared, per-worker resources: config, knowledge graphs, LLM client, usage."""

    config: EngineConfig
    kgs: dict[str, Any]
    kg_version: str
    engine_version: str
    llm: Any | None = None
    segmenter_model: Any | None = None
    usage: Usage = field(default_factory=Usage)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("tumorcot.engine"))
