"""Atomic writes to a local folder or any fsspec URL, with retries on I/O errors.

A file is first written whole under a temporary name in the same folder and
then renamed over the final name, so a reader (or a resumed run) sees either
the old file or the new one, never a partial file. On a local disk the rename
is ``os.replace``; elsewhere it is the filesystem's ``mv``, which is atomic on
local and memory filesystems but a copy-and-delete on object stores, where a
crash can leave a ``*.tmp`` object behind (readers ignore those names).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
STORAGE_RETRIES = 3
RETRY_BACKOFF_S = 0.5
TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class Storage:
    """A dataset folder: an fsspec filesystem and the folder's path on it."""

    fs: object
    root: str

    @classmethod
    def open(cls, url: str) -> Storage:
        """Return the storage for a local path or fsspec URL, creating the folder."""
        from fsspec.core import url_to_fs

        fs, root = url_to_fs(url)
        root = root.rstrip("/") or "/"
        fs.makedirs(root, exist_ok=True)
        return cls(fs=fs, root=root)

    @property
    def is_local(self) -> bool:
        """True when the folder is on the local filesystem."""
        return "file" in _protocols(self.fs)

    def path(self, *parts: str) -> str:
        """Return the full path of ``parts`` under the root."""
        return "/".join([self.root, *parts])

    def write_bytes_atomic(self, relative: str, data: bytes) -> str:
        """Write ``data`` to ``relative`` through a temporary name and a rename; return the full path."""
        final = self.path(relative)
        return with_storage_retries(lambda: self._write_once(final, data), f"write {final}")

    def _write_once(self, final: str, data: bytes) -> str:
        parent = final.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{final}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
        if self.is_local:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        else:
            with self.fs.open(tmp, "wb") as handle:
                handle.write(data)
            self.fs.mv(tmp, final)
        return final

    def read_bytes(self, relative: str) -> bytes:
        """Read the whole file ``relative``."""
        full = self.path(relative)
        return with_storage_retries(lambda: self.fs.cat_file(full), f"read {full}")

    def exists(self, relative: str) -> bool:
        """True when ``relative`` exists."""
        return bool(self.fs.exists(self.path(relative)))

    def list_files(self, relative: str, suffix: str) -> list[str]:
        """Return the names (not paths) of files in folder ``relative`` ending in ``suffix``, sorted."""
        folder = self.path(relative)
        if not self.fs.exists(folder):
            return []
        names = [entry.rstrip("/").rsplit("/", 1)[-1] for entry in self.fs.ls(folder, detail=False)]
        return sorted(name for name in names if name.endswith(suffix) and not name.endswith(TMP_SUFFIX))

    def remove(self, relative: str) -> None:
        """Delete ``relative`` if it exists."""
        full = self.path(relative)
        if self.fs.exists(full):
            self.fs.rm(full)

    def remove_stale_tmp(self, relative: str) -> int:
        """Delete temporary files left in folder ``relative`` by a killed run; return how many."""
        folder = self.path(relative)
        if not self.fs.exists(folder):
            return 0
        stale = [entry for entry in self.fs.ls(folder, detail=False) if entry.endswith(TMP_SUFFIX)]
        for entry in stale:
            self.fs.rm(entry)
        return len(stale)

    def local_path(self, relative: str) -> str | None:
        """Return a plain OS path for ``relative`` when the storage is local, else None."""
        return self.path(relative) if self.is_local else None


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


def with_storage_retries(action: Callable[[], T], what: str) -> T:
    """Run ``action``, retrying on ``OSError`` with exponential backoff."""
    for attempt in range(1, STORAGE_RETRIES + 1):
        try:
            return action()
        except FileNotFoundError:
            raise
        except OSError as exc:
            if attempt == STORAGE_RETRIES:
                raise
            delay = RETRY_BACKOFF_S * 2 ** (attempt - 1)
            logger.warning("storage: %s failed (%s); retry %d of %d in %.1f s", what, exc, attempt, STORAGE_RETRIES - 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _protocols(fs: object) -> tuple[str, ...]:
    protocol = getattr(fs, "protocol", ())
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
