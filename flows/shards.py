"""Parquet shards of VQA samples: writing, naming and reading.

One shard holds the samples of one batch of cases. Its name is derived from the
input hashes of those cases, so re-running the same unfinished cases after a
crash overwrites the same name instead of adding a second copy. Shards are
zstd-compressed with row groups of ``ROW_GROUP_ROWS`` samples: a sample with
its chain and provenance is a few kilobytes, so a row group is a few megabytes,
small enough to stream one at a time (``datasets`` streaming, DuckDB, the
trainer's loader) and large enough for good compression.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import VQASample
from flows.storage import Storage, sha256_hex

SHARD_DIR = "shards"
ROW_GROUP_ROWS = 1024
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 3


@dataclass(frozen=True)
class WrittenShard:
    """Where a shard went and what it holds."""

    path: str
    rows: int
    sha256: str
    bytes: int


def shard_id(input_hashes: Iterable[str]) -> str:
    """Return the shard id for a batch: a hash of its cases' sorted input hashes."""
    digest = hashlib.sha256("\n".join(sorted(input_hashes)).encode()).hexdigest()
    return digest[:20]


def shard_relative_path(batch_shard_id: str) -> str:
    """Return the shard's path inside the dataset folder."""
    return f"{SHARD_DIR}/part-{batch_shard_id}.parquet"


def samples_to_table(samples: Sequence[VQASample]) -> pa.Table:
    """Return ``samples`` as an Arrow table with the VQASample schema."""
    return VQASample.to_table(samples)


def table_to_parquet_bytes(table: pa.Table) -> bytes:
    """Serialize ``table`` as a zstd Parquet file."""
    buffer = io.BytesIO()
    pq.write_table(
        table,
        buffer,
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        row_group_size=ROW_GROUP_ROWS,
        write_statistics=True,
    )
    return buffer.getvalue()


def write_shard(storage: Storage, batch_shard_id: str, samples: Sequence[VQASample]) -> WrittenShard:
    """Write ``samples`` as one shard, atomically; return its path, rows and checksum."""
    data = table_to_parquet_bytes(samples_to_table(samples))
    relative = shard_relative_path(batch_shard_id)
    storage.write_bytes_atomic(relative, data)
    return WrittenShard(path=relative, rows=len(samples), sha256=sha256_hex(data), bytes=len(data))


def read_shard_table(storage: Storage, relative: str, columns: list[str] | None = None) -> pa.Table:
    """Read one shard (all columns, or ``columns``)."""
    return pq.read_table(io.BytesIO(storage.read_bytes(relative)), columns=columns)


def list_shards(storage: Storage) -> list[str]:
    """Return the relative paths of every shard file in the dataset folder."""
    return [f"{SHARD_DIR}/{name}" for name in storage.list_files(SHARD_DIR, ".parquet")]
