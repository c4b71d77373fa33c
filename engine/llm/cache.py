"""Disk cache of validated LLM replies, so a re-run sends no request.

One JSON file per entry under ``<root>/<key[:2]>/<key>.json``. The key is a
sha256 over the model, the provider-independent model name, the prompt hash,
the hash of the JSON schema, the messages as sent (after de-identification),
the temperature and max_tokens. The api_base is left out on purpose: the same
model served from another host returns the same reply. Writes go to a temporary
file that is then renamed, so a crash never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("tumorcot.llm.cache")


@dataclass(frozen=True)
class CachedReply:
    """The stored part of a reply: its content and what it cost when first fetched."""

    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def schema_hash(json_schema: dict[str, Any]) -> str:
    """Return the sha256 of a JSON schema in canonical form."""
    return hashlib.sha256(_canonical(json_schema).encode("utf-8")).hexdigest()


def cache_key(
    *, model: str, prompt_hash: str, schema_sha256: str, messages: list[dict[str, Any]], temperature: float, max_tokens: int
) -> str:
    """Return the cache key of one request; see the module docstring for what it covers."""
    model_name = model.split("/", 1)[-1]
    payload = {
        "model": model,
        "model_name": model_name,
        "prompt_hash": prompt_hash,
        "schema": schema_sha256,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


class ResponseCache:
    """JSON files sharded by the first two hex digits of the key."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedReply | None:
        """Return the entry of ``key``, or None when absent or unreadable."""
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return CachedReply(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("ignoring unreadable LLM cache entry %s: %s", path, type(exc).__name__)
            return None

    def put(self, key: str, reply: CachedReply) -> None:
        """Store ``reply`` under ``key`` atomically (temporary file, then rename)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(asdict(reply), stream)
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
