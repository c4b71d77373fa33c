"""Finish a run: pick the current ledger entries, merge rejects, write manifest.json.

The dataset holds, for every case of this run, the output of the newest ledger
entry with the case's current input hash. It also keeps the rows of valid
manifest cases that ``max_cases`` left out of this run, when an earlier run
wrote them with the same config and KG version, so a short trial run does not
delete finished work. Their input files are not re-read, so a change to them
shows only when a run includes them again.

An entry whose cases are all kept is listed as it is. An entry that mixes kept
cases with others (inputs changed, case left the manifest, or a newer entry
has the case) is rewritten with only the kept rows. An entry with no kept case
is deleted with its shard. So the ``shards/`` folder contains exactly the
listed shards.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass, field

import pyarrow.compute as pc

from data_contracts import SCHEMA_VERSION, CountItem, DatasetManifest, RejectRecord, ShardInfo
from flows.batch import read_rejects_file
from flows.ledger import LEDGER_DIR, REJECTS_DIR, BatchEntry, CaseEntry, ledger_relative_path, read_entries, write_entry
from flows.shards import SHARD_DIR, list_shards, read_shard_table, shard_id, table_to_parquet_bytes
from flows.storage import Storage, sha256_hex

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
REJECTS_NAME = "rejects.parquet"
STATS_NAME = "run_stats.json"


@dataclass
class RunIdentity:
    """Dataset name and producer versions for the manifest header."""

    dataset_name: str
    engine_version: str
    kg_version: str
    config_hash: str
    run_id: str


@dataclass
class FinalizeResult:
    """The written manifest and the tallies the CLI summary prints."""

    manifest: DatasetManifest
    entries: list[BatchEntry]
    rejects: list[RejectRecord]
    repairs_by_strategy: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


def finalize_dataset(
    storage: Storage, identity: RunIdentity, current: dict[str, str], manifest_rejects: list[RejectRecord], omitted: frozenset[str] = frozenset()
) -> FinalizeResult:
    """Write manifest.json, rejects.parquet and run_stats.json.

    ``current`` maps the case ids of this run to their input hashes, and
    ``omitted`` names the valid manifest cases that ``max_cases`` left out.
    """
    entries = _current_entries(storage, read_entries(storage), current, omitted, identity)
    _remove_unlisted_shards(storage, entries)

    rejects = list(manifest_rejects)
    for entry in entries:
        if entry.rejects_path:
            rejects.extend(read_rejects_file(storage, entry.rejects_path))
    storage.write_bytes_atomic(REJECTS_NAME, table_to_parquet_bytes(RejectRecord.to_table(rejects)))

    result = FinalizeResult(manifest=_build_manifest(identity, entries, current, rejects), entries=entries, rejects=rejects)
    result.repairs_by_strategy = dict(sum((Counter(e.repairs_by_strategy) for e in entries), Counter()))
    result.prompt_tokens = sum(e.prompt_tokens for e in entries)
    result.completion_tokens = sum(e.completion_tokens for e in entries)
    result.cost_usd = sum(e.cost_usd for e in entries)
    storage.write_bytes_atomic(MANIFEST_NAME, result.manifest.model_dump_json(indent=2).encode())
    storage.write_bytes_atomic(STATS_NAME, json.dumps(_stats(result), indent=2).encode())
    return result


def read_manifest_json(storage: Storage) -> DatasetManifest:
    """Read a dataset's manifest.json."""
    return DatasetManifest.model_validate_json(storage.read_bytes(MANIFEST_NAME))


def _current_entries(storage: Storage, entries: list[BatchEntry], current: dict[str, str], omitted: frozenset[str], identity: RunIdentity) -> list[BatchEntry]:
    kept: list[BatchEntry] = []
    claimed: set[str] = set()
    # Newest first, so a case run again after a retryable reject takes its new rows.
    for entry in sorted(entries, key=lambda e: (e.finished_at, e.batch_id), reverse=True):
        same_setup = entry.config_hash == identity.config_hash and entry.kg_version == identity.kg_version
        keep = [
            c for c in entry.cases
            if c.case_id not in claimed and (current.get(c.case_id) == c.input_hash or (same_setup and c.case_id in omitted))
        ]
        claimed.update(c.case_id for c in keep)
        if len(keep) == len(entry.cases):
            kept.append(entry)
        elif keep:
            kept.append(_rewrite_entry(storage, entry, keep))
        else:
            _delete_entry(storage, entry)
    return sorted(kept, key=lambda e: e.batch_id)


def _rewrite_entry(storage: Storage, entry: BatchEntry, keep: list[CaseEntry]) -> BatchEntry:
    """Write a new shard, rejects file and entry holding only the ``keep`` cases, then drop the old ones."""
    keep_ids = [c.case_id for c in keep]
    new_id = shard_id(c.input_hash for c in keep)
    new = BatchEntry(batch_id=new_id, cases=keep, config_hash=entry.config_hash, kg_version=entry.kg_version, finished_at=entry.finished_at)
    logger.info("ledger entry %s: %d of %d cases are current; rewriting as %s", entry.batch_id, len(keep), len(entry.cases), new_id)

    if entry.shard_path:
        table = read_shard_table(storage, entry.shard_path)
        table = table.filter(pc.is_in(table["case_id"], value_set=_string_array(keep_ids)))
        if table.num_rows:
            data = table_to_parquet_bytes(table)
            new.shard_path = f"{SHARD_DIR}/part-{new_id}.parquet"
            storage.write_bytes_atomic(new.shard_path, data)
            new.shard_rows, new.shard_sha256, new.shard_bytes = table.num_rows, sha256_hex(data), len(data)
            new.samples_by_task = dict(Counter(table["task_type"].to_pylist()))
    if entry.rejects_path:
        rejects = [r for r in read_rejects_file(storage, entry.rejects_path) if r.case_id in set(keep_ids)]
        if rejects:
            new.rejects_path = entry.rejects_path.rsplit("/", 1)[0] + f"/{new_id}.parquet"
            new.rejects_rows = len(rejects)
            storage.write_bytes_atomic(new.rejects_path, table_to_parquet_bytes(RejectRecord.to_table(rejects)))

    # NOTE: usage and repair tallies of the dropped cases cannot be separated, so the rewritten entry keeps none.
    write_entry(storage, new)
    if new.batch_id != entry.batch_id:
        _delete_entry(storage, entry)
    return new


def _delete_entry(storage: Storage, entry: BatchEntry) -> None:
    storage.remove(ledger_relative_path(entry.batch_id))
    for relative in (entry.shard_path, entry.rejects_path):
        if relative:
            storage.remove(relative)


def _remove_unlisted_shards(storage: Storage, entries: list[BatchEntry]) -> None:
    listed = {e.shard_path for e in entries if e.shard_path}
    # NOTE: nothing locks the dataset folder. This assumes one run writes it at a time, so that
    # every temporary file and unlisted shard left now comes from a killed run.
    for folder in (SHARD_DIR, LEDGER_DIR, REJECTS_DIR):
        storage.remove_stale_tmp(folder)
    for relative in list_shards(storage):
        if relative not in listed:
            logger.info("removing shard %s: no ledger entry lists it (a run was stopped before its entry was written)", relative)
            storage.remove(relative)


def _build_manifest(identity: RunIdentity, entries: list[BatchEntry], current: dict[str, str], rejects: list[RejectRecord]) -> DatasetManifest:
    cases = [c for e in entries for c in e.cases]
    rejected_ids = {c.case_id for c in cases if c.status == "rejected"} | {r.case_id for r in rejects if r.agent == "manifest"}
    samples_by_split: Counter = Counter()
    for c in cases:
        if c.split:
            samples_by_split[c.split] += c.samples
    shards = tuple(
        ShardInfo(path=e.shard_path, rows=e.shard_rows, sha256=e.shard_sha256 or "", bytes=e.shard_bytes, case_ids=tuple(c.case_id for c in e.cases if c.samples))
        for e in entries
        if e.shard_path
    )
    reject_case_reasons = Counter(r.reason_code for r in rejects if r.case_id in rejected_ids)
    return DatasetManifest(
        dataset_name=identity.dataset_name,
        schema_version=SCHEMA_VERSION,
        engine_version=identity.engine_version,
        kg_version=identity.kg_version,
        config_hash=identity.config_hash,
        run_id=identity.run_id,
        created_at=dt.datetime.now(dt.UTC),
        shards=shards,
        cases_total=len(set(current) | {c.case_id for c in cases} | {r.case_id for r in rejects if r.agent == "manifest"}),
        cases_done=sum(1 for c in cases if c.status == "done"),
        cases_rejected=len(rejected_ids),
        samples_total=sum(s.rows for s in shards),
        samples_by_task=_count_items(sum((Counter(e.samples_by_task) for e in entries), Counter())),
        samples_by_split=_count_items(samples_by_split),
        rejects_by_reason=_count_items(reject_case_reasons),
    )


def _count_items(counter: Counter) -> tuple[CountItem, ...]:
    return tuple(CountItem(key=str(key), count=int(count)) for key, count in sorted(counter.items()))


def _stats(result: FinalizeResult) -> dict:
    return {
        "repairs_by_strategy": result.repairs_by_strategy,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost_usd": result.cost_usd,
        "llm_calls": sum(e.llm_calls for e in result.entries),
        "batch_seconds": sum(e.seconds for e in result.entries),
        "cases": {c.case_id: {"report_path": c.report_path, "pathology_path": c.pathology_path, "split": c.split} for e in result.entries for c in e.cases},
    }


def _string_array(values: list[str]):
    import pyarrow as pa

    return pa.array(values, type=pa.string())
