"""Deterministic sample ids and seeded random generators."""

from __future__ import annotations

import hashlib
import random

SAMPLE_ID_LENGTH = 24


def sample_id(case_id: str, task_type: str, subtask: str, organ: str, question_key: str, kg_version: str) -> str:
    """Return the first 24 hex digits of the sha256 of the sample's identifying fields.

    The question key names what is asked (for example ``density:rep-L1``), not the
    template text, so the id stays the same when only the phrasing changes.
    """
    payload = "\x1f".join((case_id, task_type, subtask, organ, question_key, kg_version))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:SAMPLE_ID_LENGTH]


def seeded_rng(seed: int, *parts: str) -> random.Random:
    """Return a ``random.Random`` seeded from the run seed and ``parts`` (case id, purpose)."""
    digest = hashlib.sha256("\x1f".join((str(seed), *parts)).encode("utf-8")).hexdigest()
    return random.Random(int(digest[:16], 16))
