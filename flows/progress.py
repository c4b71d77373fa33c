"""Progress listeners: the CLI's progress bar subscribes, the flow publishes finished batches.

Listeners live in the process that runs the flow body, which is where batch
results arrive even when the batches ran on Dask workers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    """Add ``listener(event, payload)``; return a function that removes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def publish(event: str, **payload: Any) -> None:
    """Call every listener; a failing listener is logged and never stops the run."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(event, payload)
        except Exception:  # a broken progress display must not stop a run
            logger.exception("progress listener failed on event %s", event)
