"""The resume ledger: one small JSON entry per finished batch.

An entry names the batch's shard (with rows and checksum), its rejects file,
and every case it finished with the case's input hash. It is written after the
shard and the rejects file, through a temporary name and a rename, so an entry
exists only for work that is fully on disk. On start a run skips every case
whose current input hash appears in an entry, unless the case was rejected for
a reason a later run may not hit (``RETRYABLE_REASONS``: the provider kept
failing, the LLM budget ran out, or TumorCoT itself raised an error). A shard with no entry (the run was killed
between the shard and its entry) is rewritten under the same name when its
cases run again, and removed at the end if nothing lists it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field

from flows.storage import Storage

logger = logging.getLogger(__name__)

LEDGER_DIR = "_state/batches"
REJECTS_DIR = "_state/rejects"
RETRYABLE_REASONS = frozenset({"llm_failed", "budget_exhausted", "internal_error"})
"""Reject reasons that depend on the provider, the budget or a bug in TumorCoT, not on the case, so the next run tries the case again."""


@dataclass(frozen=True)
class CaseEntry:
    """One finished case: samples written, or rejected with no samples.

    ``retry`` marks a case with a reject of a ``RETRYABLE_REASONS`` code (of
    the whole case or of one organ): its rows stay in the dataset until a
    later run processes it again.
    """

    case_id: str
    input_hash: str
    status: str
    samples: int = 0
    split: str | None = None
    report_path: str | None = None
    pathology_path: str | None = None
    retry: bool = False


@dataclass
class BatchEntry:
    """Files one batch wrote, and the tallies the manifest and report need."""

    batch_id: str
    cases: list[CaseEntry]
    shard_path: str | None = None
    shard_rows: int = 0
    shard_sha256: str | None = None
    shard_bytes: int = 0
    rejects_path: str | None = None
    rejects_rows: int = 0
    samples_by_task: dict[str, int] = field(default_factory=dict)
    repairs_by_strategy: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    llm_calls: int = 0
    seconds: float = 0.0
    config_hash: str | None = None
    kg_version: str | None = None
    finished_at: str = ""

    def to_json(self) -> bytes:
        """Serialize the entry."""
        return json.dumps(asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> BatchEntry:
        """Parse an entry written by ``to_json``."""
        raw = json.loads(data)
        raw["cases"] = [CaseEntry(**case) for case in raw["cases"]]
        return cls(**raw)


def ledger_relative_path(batch_id: str) -> str:
    """Return the entry's path inside the dataset folder."""
    return f"{LEDGER_DIR}/{batch_id}.json"


def write_entry(storage: Storage, entry: BatchEntry) -> None:
    """Write ``entry`` atomically; call only after its shard and rejects are on disk."""
    storage.write_bytes_atomic(ledger_relative_path(entry.batch_id), entry.to_json())


def read_entries(storage: Storage) -> list[BatchEntry]:
    """Read every ledger entry, skipping (with a warning) any that cannot be parsed."""
    entries = []
    for name in storage.list_files(LEDGER_DIR, ".json"):
        try:
            entries.append(BatchEntry.from_json(storage.read_bytes(f"{LEDGER_DIR}/{name}")))
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("ledger entry %s is unreadable (%s); its cases will run again", name, exc)
    return entries


def finished_hashes(entries: list[BatchEntry]) -> frozenset[str]:
    """Return the input hashes of every case the ledger lists as finished and not marked for retry."""
    return frozenset(case.input_hash for entry in entries for case in entry.cases if not case.retry)


def total_counter(entries: list[BatchEntry], attribute: str) -> Counter:
    """Sum a dict-valued tally (``samples_by_task``, ``repairs_by_strategy``) over ``entries``."""
    total: Counter = Counter()
    for entry in entries:
        total.update(getattr(entry, attribute))
    return total
