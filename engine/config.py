"""Engine configuration: backends and models per agent, repair bounds, task mix.

One ``EngineConfig`` drives a whole run. The flows embed it in their parameter
model, so the Prefect UI form documents it, and its hash is part of every
case's resume key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

AgentName = Literal["segmenter", "extractor", "reasoner", "calibrator", "summarizer", "composer"]
AGENTS: tuple[str, ...] = ("segmenter", "extractor", "reasoner", "calibrator", "summarizer", "composer")


class AgentBackend(BaseModel):
    """Backend choice for one agent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["rules", "llm", "given", "totalsegmentator"] = Field(
        default="rules", description="rules: offline and deterministic; llm: through litellm; given/totalsegmentator: segmenter only."
    )
    model: str | None = Field(default=None, description="litellm model name, for example 'openai/gpt-4o-mini' or 'ollama/qwen2.5'.")
    api_base: str | None = Field(default=None, description="Provider URL, for example http://127.0.0.1:8000/v1 for a local vLLM server.")
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=2048, ge=16)


class LLMSettings(BaseModel):
    """Settings shared by every agent that uses the llm backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_in_flight: int = Field(default=8, ge=1, description="Requests in flight at once, across agents.")
    max_retries: int = Field(default=4, ge=0, description="Retries on timeouts, 429 and 5xx, with exponential backoff.")
    timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one request in seconds.")
    budget_usd: float | None = Field(default=None, ge=0, description="Stop sending requests once this cost is reached; None is unlimited.")
    budget_tokens: int | None = Field(default=None, ge=0, description="Stop sending requests once this many tokens were used; None is unlimited.")
    cache_dir: str | None = Field(default=".tumorcot-cache/llm", description="Disk response cache; None disables it.")
    local_hosts: tuple[str, ...] = Field(
        default=("127.0.0.1", "localhost", "::1"),
        description="Hosts that may receive report text unredacted; every other provider gets de-identified text.",
    )
    allow_external: bool = Field(default=False, description="Allow providers outside local_hosts at all (text is de-identified first).")


class TaskMix(BaseModel):
    """Share of each task type among the samples of a case (normalized to sum 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: float = Field(default=0.60, ge=0)
    cot_report: float = Field(default=0.19, ge=0)
    localization: float = Field(default=0.11, ge=0)
    tnm: float = Field(default=0.10, ge=0)

    @model_validator(mode="after")
    def _positive_total(self) -> TaskMix:
        if self.attribute + self.cot_report + self.localization + self.tnm <= 0:
            raise ValueError("task_mix: at least one task type needs a positive share")
        return self


class EngineConfig(BaseModel):
    """Configuration of the six agents for one run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    segmenter: AgentBackend = AgentBackend(backend="given")
    extractor: AgentBackend = AgentBackend()
    reasoner: AgentBackend = AgentBackend()
    calibrator: AgentBackend = AgentBackend()
    summarizer: AgentBackend = AgentBackend()
    composer: AgentBackend = AgentBackend()
    llm: LLMSettings = LLMSettings()
    repair_rounds: int = Field(default=2, ge=0, le=10, description="Repair rounds per chain before the organ is rejected.")
    task_mix: TaskMix = TaskMix()
    split_ratios: tuple[float, float, float] = Field(default=(0.8, 0.1, 0.1), description="train/val/test shares, assigned by case.")
    seed: int = Field(default=0, description="Seed for phrasing and template choice; a re-run with the same seed reproduces every sample.")
    totalseg_fast: bool = Field(default=True, description="Use TotalSegmentator's 3 mm model.")
    totalseg_device: str = Field(default="cpu", description="Device for TotalSegmentator: cpu, gpu or gpu:N.")

    def backend_for(self, agent: str) -> AgentBackend:
        """Return the backend settings of ``agent``."""
        if agent not in AGENTS:
            raise KeyError(f"unknown agent {agent!r}; choose one of {', '.join(AGENTS)}")
        return getattr(self, agent)

    def config_hash(self) -> str:
        """Return a hash of every setting that changes the samples (the resume key part)."""
        payload = self.model_dump(mode="json")
        payload["llm"] = {k: v for k, v in payload["llm"].items() if k not in ("max_in_flight", "cache_dir")}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def load_config(path: str | Path | None) -> EngineConfig:
    """Load an ``EngineConfig`` from a YAML file, or return the defaults for None."""
    if path is None:
        return EngineConfig()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"config file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}")
    return EngineConfig.model_validate(data)
