"""Parameters of one engine run, as one pydantic model.

Prefect renders this model as the run form of the ``tumorcot-engine``
deployment, so every field carries a description of what it sets and in what
unit. The engine configuration is embedded whole.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.config import EngineConfig


class EngineRunParams(BaseModel):
    """One run of the engine over a case manifest."""

    model_config = ConfigDict(extra="forbid")

    manifest: str = Field(description="Case manifest file: CSV, JSONL or Parquet. Relative paths inside it are resolved against its folder.")
    out: str = Field(description="Dataset folder: a local path or any fsspec URL (file://, memory://, s3://...).")
    config: EngineConfig = Field(default_factory=EngineConfig, description="Backends and models per agent, LLM settings and budget, task mix, split ratios.")
    dataset_name: str = Field(default="tumorcot", description="Name written into manifest.json.")
    max_cases: int | None = Field(default=None, ge=1, description="Process only the first N valid manifest rows; None processes all.")
    dry_run: bool = Field(default=False, description="Read the manifest, plan batches and count cases already done, but run no agent and write nothing.")
    batch_size: int = Field(default=64, ge=1, le=100_000, description="Cases per Prefect task; one shard is written per batch.")
    concurrency: int = Field(default=2, ge=1, le=1024, description="Batches in flight at once (task runner workers).")
    case_threads: int = Field(default=1, ge=1, le=256, description="Cases of one batch processed at once; raise it for llm backends so requests overlap.")
    task_runner: Literal["thread", "dask"] = Field(default="thread", description="thread: one machine; dask: a Dask cluster (local when dask_address is empty).")
    dask_address: str | None = Field(default=None, description="Scheduler address of an existing Dask cluster, for example tcp://10.0.0.5:8786.")
    dask_workers: int = Field(default=2, ge=1, description="Workers of the local Dask cluster when dask_address is empty.")
    dask_processes: bool = Field(default=True, description="Local Dask cluster with worker processes (True) or threads (False).")
    allowed_roots: tuple[str, ...] = Field(default=(), description="Folders manifest paths may point into, besides the manifest's own folder.")
    near_duplicate_jaccard: float = Field(default=0.9, gt=0, le=1.0, description="Word-shingle Jaccard similarity at or above which two reports count as near-identical and share a split.")
    write_report: bool = Field(default=True, description="Write report.html next to manifest.json at the end.")
