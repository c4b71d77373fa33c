"""Which provider errors are worth retrying, and how long to wait before the next try.

Timeouts, 429, 5xx and dropped connections are transient and retried with
exponential backoff and full jitter. A Retry-After header, when present, sets
the wait instead, capped at ``max_delay_s``. Other errors (400, 401, 404,
context window exceeded) fail at once, because a retry would get the same
answer. Classification uses litellm's exception classes (litellm 1.110).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``base_s * 2**retry`` with full jitter, at most ``max_delay_s``."""

    base_s: float = 0.5
    max_delay_s: float = 30.0

    def delay_s(self, retry: int, retry_after_s: float | None, rng: random.Random) -> float:
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_delay_s)
        ceiling = min(self.base_s * (2**retry), self.max_delay_s)
        return rng.uniform(ceiling / 2, ceiling)


def is_transient(exc: BaseException) -> bool:
    """Tell whether ``exc`` is a timeout, rate limit, 5xx or connection error worth retrying."""
    import litellm

    transient = (
        litellm.Timeout,
        litellm.RateLimitError,
        litellm.APIConnectionError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
    )
    if isinstance(exc, transient):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def retry_after_s(exc: BaseException) -> float | None:
    """Return the Retry-After wait in seconds that came with ``exc``, if any (seconds form only)."""
    for headers in (getattr(exc, "litellm_response_headers", None), getattr(getattr(exc, "response", None), "headers", None)):
        if not headers:
            continue
        value = headers.get("retry-after") or headers.get("Retry-After")
        if value is None:
            continue
        try:
            return float(value)
        except (TypeError, ValueError):
            return None  # NOTE: the HTTP-date form of Retry-After is not parsed; exponential backoff applies then.
    return None


def error_summary(exc: BaseException) -> str:
    """Return a log-safe description: class name and status code, never the provider's message body."""
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
