"""The litellm-backed client every ``llm`` agent backend calls.

One call of ``structured`` (or ``astructured``) sends chat messages to the
agent's model with a JSON-schema ``response_format`` and returns the reply
validated into a pydantic model. On the way it

1. rejects external providers unless ``LLMSettings.allow_external`` is set, and
   de-identifies every message for a provider outside ``local_hosts``;
2. returns the cached reply when the same request succeeded before;
3. checks the token and USD budget before every request;
4. retries timeouts, 429, 5xx and dropped connections with backoff, holding at
   most ``max_in_flight`` requests open (litellm's own retries are off);
5. reads the reply defensively, and on invalid output sends one corrective
   retry that states the problem, then raises ``LLMInvalidOutput``.

Logs carry ids, model, token counts and latency, never message text.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from engine.config import AgentBackend, LLMSettings
from engine.llm.accounting import Ledger
from engine.llm.cache import CachedReply, ResponseCache, cache_key, schema_hash
from engine.llm.errors import ExternalProviderNotAllowed, LLMInvalidOutput, LLMRefused, LLMUnavailable
from engine.llm.parsing import ReplyProblem, extract_json
from engine.llm.retry import Backoff, error_summary, is_transient, retry_after_s
from engine.privacy import Deidentifier, is_local, reidentify
from engine.state import Usage

T = TypeVar("T", bound=BaseModel)

logger = logging.getLogger("tumorcot.llm")

LOCAL_API_KEY = "sk-local-no-key"
"""Sent to local servers that need no key, because the OpenAI client refuses an empty one."""


@dataclass(frozen=True)
class LLMResult(Generic[T]):
    """A validated reply and what it cost."""

    value: T
    model: str
    prompt_hash: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cached: bool
    attempts: int
    latency_s: float = 0.0


@dataclass(frozen=True)
class LLMRequest:
    """The arguments of one ``structured`` call, for ``map_structured``."""

    agent: str
    backend: AgentBackend
    messages: list[dict[str, Any]]
    schema: type[BaseModel]
    case_id: str
    prompt_hash: str


@dataclass
class _Exchange:
    """The state of one structured call across its requests."""

    request: LLMRequest
    model: str
    messages: list[dict[str, Any]]
    replacements: dict[str, str]
    json_schema: dict[str, Any]
    key: str | None
    started: float = field(default_factory=time.monotonic)
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    corrections: int = 0


class LLMClient:
    """Structured-output LLM calls with cache, retries, budget and de-identification."""

    def __init__(
        self,
        settings: LLMSettings,
        usage: Usage | None = None,
        *,
        backoff: Backoff | None = None,
        api_key: str | None = None,
        seed: int | None = None,
    ):
        self.settings = settings
        self.ledger = Ledger(settings, usage)
        self.cache = ResponseCache(settings.cache_dir) if settings.cache_dir else None
        self.backoff = backoff or Backoff()
        self.api_key = api_key or os.environ.get("TUMORCOT_LLM_API_KEY")
        self._rng = random.Random(seed)
        self._thread_slots = threading.BoundedSemaphore(settings.max_in_flight)
        self._loop_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
        self._deidentifiers: dict[str, Deidentifier] = {}
        self._lock = threading.Lock()

    @property
    def usage(self) -> Usage:
        """Usage of the whole run, per agent."""
        return self.ledger.usage

    def case_usage(self, case_id: str) -> Usage:
        """Usage of one case, per agent (a copy)."""
        return self.ledger.case_usage(case_id)

    # Public calls

    def structured(
        self, agent: str, backend: AgentBackend, messages: list[dict[str, Any]], schema: type[T], *, case_id: str, prompt_hash: str
    ) -> LLMResult[T]:
        """Send ``messages`` to the agent's model and return the reply validated as ``schema``.

        Raises an ``LLMError`` subclass on failure; see ``engine.llm.errors``.
        """
        exchange = self._prepare(LLMRequest(agent, backend, messages, schema, case_id, prompt_hash))
        cached = self._from_cache(exchange)
        if cached is not None:
            return cached
        while True:
            response = self._send_with_retries(exchange)
            result = self._interpret(exchange, response)
            if result is not None:
                return result

    async def astructured(
        self,
        agent: str,
        backend: AgentBackend,
        messages: list[dict[str, Any]],
        schema: type[T],
        *,
        case_id: str,
        prompt_hash: str,
        slots: asyncio.Semaphore | None = None,
    ) -> LLMResult[T]:
        """Async twin of ``structured``; ``slots`` overrides the per-loop bound on requests in flight."""
        exchange = self._prepare(LLMRequest(agent, backend, messages, schema, case_id, prompt_hash))
        cached = self._from_cache(exchange)
        if cached is not None:
            return cached
        slots = slots or self._slots_for_running_loop()
        while True:
            response = await self._asend_with_retries(exchange, slots)
            result = self._interpret(exchange, response)
            if result is not None:
                return result

    def map_structured(self, requests: Iterable[LLMRequest], max_in_flight: int | None = None) -> list[LLMResult | Exception]:
        """Run many requests concurrently, at most ``max_in_flight`` at once (default: the settings).

        Returns one entry per request, in order: the result, or the ``LLMError``
        it raised, so one failed case does not lose the others. Must be called
        from synchronous code; inside an event loop use ``amap_structured``.
        """
        return asyncio.run(self.amap_structured(requests, max_in_flight))

    async def amap_structured(self, requests: Iterable[LLMRequest], max_in_flight: int | None = None) -> list[LLMResult | Exception]:
        """Async twin of ``map_structured``."""
        slots = asyncio.Semaphore(max_in_flight or self.settings.max_in_flight)
        calls = [
            self.astructured(r.agent, r.backend, r.messages, r.schema, case_id=r.case_id, prompt_hash=r.prompt_hash, slots=slots)
            for r in requests
        ]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    # Steps shared by the sync and async paths

    def _prepare(self, request: LLMRequest) -> _Exchange:
        """Check the provider policy, de-identify if needed and compute the cache key."""
        backend = request.backend
        if not backend.model:
            raise ValueError(f"agent {request.agent}: backend 'llm' needs a model, for example 'openai/gpt-4o-mini'; set {request.agent}.model in the config")
        messages = [dict(m) for m in request.messages]
        replacements: dict[str, str] = {}
        if not is_local(backend.model, backend.api_base, self.settings.local_hosts):
            if not self.settings.allow_external:
                raise ExternalProviderNotAllowed(
                    f"agent {request.agent}: provider of model {backend.model!r} (api_base {backend.api_base!r}) is not in "
                    f"llm.local_hosts {list(self.settings.local_hosts)}; set llm.allow_external: true to send de-identified text to it",
                    agent=request.agent, case_id=request.case_id, model=backend.model,
                )
            messages, replacements = self._deidentify(request.case_id, messages)

        json_schema = _json_schema(request.schema)
        key = None
        if self.cache is not None:
            key = cache_key(model=backend.model, prompt_hash=request.prompt_hash, schema_sha256=schema_hash(json_schema),
                            messages=messages, temperature=backend.temperature, max_tokens=backend.max_tokens)
        return _Exchange(request, backend.model, messages, replacements, json_schema, key)

    def _deidentify(self, case_id: str, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        with self._lock:
            deidentifier = self._deidentifiers.setdefault(case_id, Deidentifier(case_id))
            for message in messages:
                if isinstance(message.get("content"), str):
                    message["content"] = deidentifier.deidentify(message["content"]).text
            return messages, dict(deidentifier.replacements)

    def _from_cache(self, exchange: _Exchange) -> LLMResult | None:
        if self.cache is None or exchange.key is None:
            return None
        entry = self.cache.get(exchange.key)
        if entry is None:
            return None
        value = self._validate(exchange, entry.content)
        if isinstance(value, str):
            logger.warning("ignoring LLM cache entry %s: it no longer validates", exchange.key[:12])
            return None
        request = exchange.request
        self.ledger.record(agent=request.agent, case_id=request.case_id, prompt_tokens=0, completion_tokens=0, cost_usd=0.0, cached=True)
        logger.info("llm cache hit agent=%s case=%s model=%s", request.agent, request.case_id, exchange.model)
        return LLMResult(value, exchange.model, request.prompt_hash, 0, 0, 0.0, True, 0)

    def _completion_kwargs(self, exchange: _Exchange) -> dict[str, Any]:
        backend = exchange.request.backend
        api_key = self.api_key
        if api_key is None and backend.api_base and is_local(backend.model or "", backend.api_base, self.settings.local_hosts):
            api_key = LOCAL_API_KEY
        if api_key is None and backend.api_base:
            api_key = LOCAL_API_KEY  # an OpenAI-compatible server at a custom address; litellm needs some key
        kwargs: dict[str, Any] = {
            "model": exchange.model,
            "messages": exchange.messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": exchange.request.schema.__name__, "schema": exchange.json_schema, "strict": False},
            },
            "timeout": self.settings.timeout_s,
            "max_tokens": backend.max_tokens,
            "temperature": backend.temperature,
            "num_retries": 0,
            "max_retries": 0,
        }
        if backend.api_base:
            kwargs["api_base"] = backend.api_base
        if api_key is not None:
            kwargs["api_key"] = api_key
        return kwargs

    def _send_with_retries(self, exchange: _Exchange) -> Any:
        litellm = _litellm()
        for retry in range(self.settings.max_retries + 1):
            self._before_request(exchange)
            try:
                with self._thread_slots:
                    return litellm.completion(**self._completion_kwargs(exchange))
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised as a typed error
                time.sleep(self._retry_delay(exchange, exc, retry))
        raise AssertionError("unreachable: _retry_delay raises on the last retry")

    async def _asend_with_retries(self, exchange: _Exchange, slots: asyncio.Semaphore) -> Any:
        litellm = _litellm()
        for retry in range(self.settings.max_retries + 1):
            self._before_request(exchange)
            try:
                async with slots:
                    return await litellm.acompletion(**self._completion_kwargs(exchange))
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised as a typed error
                await asyncio.sleep(self._retry_delay(exchange, exc, retry))
        raise AssertionError("unreachable: _retry_delay raises on the last retry")

    def _before_request(self, exchange: _Exchange) -> None:
        request = exchange.request
        self.ledger.check_budget(agent=request.agent, case_id=request.case_id, model=exchange.model)
        exchange.attempts += 1

    def _retry_delay(self, exchange: _Exchange, exc: Exception, retry: int) -> float:
        """Return how long to wait before retrying ``exc``, or raise ``LLMUnavailable``."""
        request = exchange.request
        where = f"agent {request.agent}, case {request.case_id}, model {exchange.model}"
        if not is_transient(exc):
            raise LLMUnavailable(f"{where}: the provider rejected the request with {error_summary(exc)}; not retried",
                                 agent=request.agent, case_id=request.case_id, model=exchange.model, attempts=exchange.attempts) from exc
        if retry >= self.settings.max_retries:
            raise LLMUnavailable(f"{where}: still failing after {exchange.attempts} requests; last error {error_summary(exc)}",
                                 agent=request.agent, case_id=request.case_id, model=exchange.model, attempts=exchange.attempts) from exc
        delay = self.backoff.delay_s(retry, retry_after_s(exc), self._rng)
        logger.warning("llm request failed with %s; retry %d/%d in %.2f s (agent=%s case=%s model=%s)",
                       error_summary(exc), retry + 1, self.settings.max_retries, delay, request.agent, request.case_id, exchange.model)
        return delay

    def _interpret(self, exchange: _Exchange, response: Any) -> LLMResult | None:
        """Account for ``response`` and return the result, or None after queueing a corrective retry."""
        request = exchange.request
        choice = response.choices[0]
        message = choice.message
        content = message.content or ""
        self._account(exchange, response)

        refusal = getattr(message, "refusal", None)
        found = extract_json(content, getattr(choice, "finish_reason", None))
        if refusal or (isinstance(found, ReplyProblem) and found.kind == "refusal"):
            raise LLMRefused(f"agent {request.agent}, case {request.case_id}: model {exchange.model} declined the request",
                             agent=request.agent, case_id=request.case_id, model=exchange.model, attempts=exchange.attempts)

        problem = found.detail if isinstance(found, ReplyProblem) else None
        value = None
        if problem is None:
            value = self._validate(exchange, found)
            if isinstance(value, str):
                problem, value = value, None
        if value is not None:
            return self._success(exchange, found, value)

        logger.warning("llm reply invalid (agent=%s case=%s model=%s attempt=%d): %s",
                       request.agent, request.case_id, exchange.model, exchange.attempts, _first_line(problem))
        if exchange.corrections >= 1:
            raise LLMInvalidOutput(f"agent {request.agent}, case {request.case_id}: model {exchange.model} gave invalid output "
                                   f"after one corrective retry: {problem}",
                                   agent=request.agent, case_id=request.case_id, model=exchange.model, attempts=exchange.attempts)
        exchange.corrections += 1
        exchange.messages = [*exchange.messages, {"role": "assistant", "content": content}, _correction(problem, exchange.json_schema)]
        return None

    def _validate(self, exchange: _Exchange, json_text: str) -> BaseModel | str:
        """Return the validated model, or the validation problem as text (no input values in it)."""
        schema = exchange.request.schema
        try:
            schema.model_validate_json(json_text)
        except ValidationError as exc:
            return _describe_validation(exc)
        return schema.model_validate_json(_reidentify_json(json_text, exchange.replacements))

    def _account(self, exchange: _Exchange, response: Any) -> None:
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = _cost_usd(response)
        exchange.prompt_tokens += prompt_tokens
        exchange.completion_tokens += completion_tokens
        exchange.cost_usd += cost
        request = exchange.request
        self.ledger.record(agent=request.agent, case_id=request.case_id, prompt_tokens=prompt_tokens,
                           completion_tokens=completion_tokens, cost_usd=cost, cached=False)

    def _success(self, exchange: _Exchange, json_text: str, value: BaseModel) -> LLMResult:
        request = exchange.request
        latency = time.monotonic() - exchange.started
        if self.cache is not None and exchange.key is not None:
            self.cache.put(exchange.key, CachedReply(json_text, exchange.model, exchange.prompt_tokens, exchange.completion_tokens, exchange.cost_usd))
        logger.info("llm call agent=%s case=%s model=%s attempts=%d prompt_tokens=%d completion_tokens=%d cost_usd=%.6f latency_s=%.2f",
                    request.agent, request.case_id, exchange.model, exchange.attempts, exchange.prompt_tokens,
                    exchange.completion_tokens, exchange.cost_usd, latency)
        return LLMResult(value, exchange.model, request.prompt_hash, exchange.prompt_tokens, exchange.completion_tokens,
                         exchange.cost_usd, False, exchange.attempts, latency)

    def _slots_for_running_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._lock:
            if loop not in self._loop_slots:
                self._loop_slots[loop] = asyncio.Semaphore(self.settings.max_in_flight)
            return self._loop_slots[loop]


_LITELLM = None


@functools.lru_cache(maxsize=128)
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """Return the JSON schema of ``schema``, built once per class (callers must not mutate it)."""
    return schema.model_json_schema()


def _litellm() -> Any:
    """Import litellm on first use (the import takes several seconds) with its retries and banners off."""
    global _LITELLM
    if _LITELLM is None:
        import litellm

        litellm.suppress_debug_info = True
        litellm.num_retries = 0
        _LITELLM = litellm
    return _LITELLM


def _cost_usd(response: Any) -> float:
    """Return the cost litellm computes for ``response``, or 0.0 for a model missing from its price map."""
    # litellm 1.110 already prices each response into _hidden_params; computing it again costs ~3 ms a call.
    hidden = getattr(response, "_hidden_params", None) or {}
    if "response_cost" in hidden:
        return float(hidden["response_cost"] or 0.0)
    try:
        return float(_litellm().completion_cost(completion_response=response) or 0.0)
    except Exception:  # noqa: BLE001 - litellm raises a plain Exception for unknown models
        return 0.0


def _describe_validation(exc: ValidationError) -> str:
    lines = [f"the JSON does not match the schema ({exc.error_count()} errors):"]
    for error in exc.errors(include_input=False, include_url=False)[:20]:
        location = ".".join(str(part) for part in error["loc"]) or "(root)"
        lines.append(f"- {location}: {error['msg']}")
    return "\n".join(lines)


def _correction(problem: str, json_schema: dict[str, Any]) -> dict[str, str]:
    schema_text = json.dumps(json_schema, separators=(",", ":"))
    schema_part = f"\nThe schema is:\n{schema_text}" if len(schema_text) <= 6000 else ""
    return {
        "role": "user",
        "content": f"Your previous reply could not be used: {problem}\n"
        f"Reply again with exactly one JSON object that matches the schema, with no prose and no code fence.{schema_part}",
    }


def _reidentify_json(json_text: str, replacements: dict[str, str]) -> str:
    """Put originals back into JSON text; values are JSON-escaped because placeholders sit inside strings."""
    if not replacements:
        return json_text
    escaped = {placeholder: json.dumps(original)[1:-1] for placeholder, original in replacements.items()}
    return reidentify(json_text, escaped)


def _first_line(text: str | None) -> str:
    return (text or "").splitlines()[0] if text else ""
