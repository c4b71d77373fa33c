"""The dataset manifest written next to the shards."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from data_contracts.base import Record
from data_contracts.common import CountItem


class ShardInfo(Record):
    """One Parquet shard of samples."""

    path: str = Field(description="Path relative to the dataset folder.")
    rows: int = Field(ge=0)
    sha256: str
    bytes: int = Field(ge=0)
    case_ids: tuple[str, ...] = ()


class DatasetManifest(Record):
    """What a run produced and from what: the entry point for validators and loaders."""

    dataset_name: str
    schema_version: str
    engine_version: str
    kg_version: str
    config_hash: str
    run_id: str
    created_at: dt.datetime
    shards: tuple[ShardInfo, ...] = ()
    rejects_path: str | None = "rejects.parquet"
    cases_total: int = Field(default=0, ge=0)
    cases_done: int = Field(default=0, ge=0)
    cases_rejected: int = Field(default=0, ge=0)
    samples_total: int = Field(default=0, ge=0)
    samples_by_task: tuple[CountItem, ...] = ()
    samples_by_split: tuple[CountItem, ...] = ()
    rejects_by_reason: tuple[CountItem, ...] = ()
