"""A scripted OpenAI-compatible chat server on 127.0.0.1 for LLM tests.

It serves ``POST /v1/chat/completions`` (and ``/chat/completions``) from a
ThreadingHTTPServer on a free port, so the real litellm client can be tested
without any network. Usage in a test module::

    from tests.fakes.llm_server import fake_llm, good, prose, rate_limited  # noqa: F401

    def test_something(fake_llm):
        fake_llm.queue(prose("no json here"), good({"organ": "liver"}))
        backend = AgentBackend(backend="llm", model="openai/fake", api_base=fake_llm.url)
        ...
        assert len(fake_llm.requests) == 2          # request bodies, as parsed JSON

Replies are taken from the queue first, then from ``fake_llm.responder`` (a
callable ``(request_body: dict) -> Reply | dict | str``: a dict becomes a good
JSON reply, a string becomes the message content). With neither, the server
returns HTTP 400, which the client does not retry, so a test that runs out of
scripted replies fails at once instead of hanging.

Reply kinds: ``good`` (JSON content), ``fenced`` (JSON in a Markdown code
fence), ``prose``, ``truncated`` (JSON cut in half, finish_reason "length"),
``refusal`` (refusal text, or the ``message.refusal`` field), ``rate_limited``
(429 with Retry-After), ``server_error`` (500, 502 or 503), ``slow`` (sleeps
before a good reply, to trip the client timeout) and ``dropped`` (the
connection is closed without a response).

Other knobs: ``latency_s`` delays every reply; ``set_fault_rate(p, kinds, seed)``
replaces a reply by a random fault with probability ``p``; ``max_concurrent``
is the largest number of requests the server held at once.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FAULT_KINDS: tuple[str, ...] = ("rate_limit", "server_error", "timeout", "malformed")


@dataclass
class Reply:
    """One scripted server reply."""

    kind: str = "good"
    content: str = "{}"
    status: int = 200
    finish_reason: str = "stop"
    refusal: str | None = None
    retry_after_s: float | None = None
    delay_s: float = 0.0
    prompt_tokens: int = 10
    completion_tokens: int = 20
    headers: dict[str, str] = field(default_factory=dict)


def _as_json(value: dict | str) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def good(value: dict | str, *, prompt_tokens: int = 10, completion_tokens: int = 20) -> Reply:
    """A well-formed JSON reply."""
    return Reply("good", _as_json(value), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def fenced(value: dict | str) -> Reply:
    """JSON wrapped in a Markdown code fence with a sentence before it."""
    return Reply("fenced", f"Here is the result:\n```json\n{_as_json(value)}\n```\n")


def prose(text: str = "The report describes a hypodense lesion in the liver.") -> Reply:
    """Plain prose with no JSON object in it."""
    return Reply("prose", text)


def truncated(value: dict | str) -> Reply:
    """The first half of a JSON reply, as when the token limit cuts it off."""
    text = _as_json(value)
    return Reply("truncated", text[: max(1, len(text) // 2)], finish_reason="length")


def refusal(text: str = "I'm sorry, but I can't help with that request.", *, as_field: bool = False) -> Reply:
    """A refusal, in the content or (``as_field``) in ``message.refusal``."""
    if as_field:
        return Reply("refusal", "", refusal=text)
    return Reply("refusal", text)


def rate_limited(retry_after_s: float | None = 0.05) -> Reply:
    """HTTP 429, with a Retry-After header when ``retry_after_s`` is given."""
    return Reply("rate_limit", status=429, retry_after_s=retry_after_s)


def server_error(status: int = 500) -> Reply:
    """An HTTP 5xx error."""
    return Reply("server_error", status=status)


def slow(delay_s: float, value: dict | str = "{}") -> Reply:
    """A good reply sent only after ``delay_s`` seconds."""
    return Reply("slow", _as_json(value), delay_s=delay_s)


def dropped() -> Reply:
    """The connection closes before any response is written."""
    return Reply("dropped")


class FakeLLMServer:
    """The scripted server; see the module docstring."""

    def __init__(self) -> None:
        self.latency_s = 0.0
        self.responder: Callable[[dict], Reply | dict | str] | None = None
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.in_flight = 0
        self.max_concurrent = 0
        self.model_name_in_reply: str | None = None
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._fault_rate = 0.0
        self._fault_kinds: tuple[str, ...] = FAULT_KINDS
        self._fault_rng = random.Random(0)
        self._timeout_sleep_s = 5.0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-llm-server", daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The api_base to give litellm."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def queue(self, *replies: Reply | dict | str) -> None:
        """Append replies to the script, served first in, first out."""
        with self._lock:
            self._replies.extend(_coerce(r) for r in replies)

    def script(self, replies: list[Reply | dict | str]) -> None:
        """Replace the script with ``replies``."""
        with self._lock:
            self._replies.clear()
        self.queue(*replies)

    def set_fault_rate(self, probability: float, kinds: tuple[str, ...] = FAULT_KINDS, seed: int = 0, timeout_sleep_s: float = 5.0) -> None:
        """Replace each reply by a random fault of ``kinds`` with ``probability``.

        A ``timeout`` fault sleeps ``timeout_sleep_s`` before a good reply, so it
        only times out when the client timeout is shorter.
        """
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {FAULT_KINDS}")
        with self._lock:
            self._fault_rate = probability
            self._fault_kinds = tuple(kinds)
            self._fault_rng = random.Random(seed)
            self._timeout_sleep_s = timeout_sleep_s

    def user_texts(self) -> list[str]:
        """Every message content of every recorded request, joined per request."""
        return ["\n".join(str(m.get("content", "")) for m in body.get("messages", [])) for body in self.requests]

    def _next_reply(self, body: dict) -> Reply:
        with self._lock:
            fault = self._pick_fault()
            scripted = self._replies.popleft() if self._replies else None
        if scripted is None and self.responder is not None:
            scripted = _coerce(self.responder(body))
        if scripted is None:
            scripted = Reply("error", status=400, content="fake LLM server: no scripted reply left and no responder set")
        return fault or scripted

    def _pick_fault(self) -> Reply | None:
        if self._fault_rate <= 0 or self._fault_rng.random() >= self._fault_rate:
            return None
        kind = self._fault_rng.choice(self._fault_kinds)
        if kind == "rate_limit":
            return rate_limited(0.01)
        if kind == "server_error":
            return server_error(self._fault_rng.choice((500, 502, 503)))
        if kind == "timeout":
            return slow(self._timeout_sleep_s)
        return prose("malformed reply")

    def _enter(self, path: str, body: dict) -> None:
        with self._lock:
            self.requests.append(body)
            self.paths.append(path)
            self.in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _coerce(reply: Reply | dict | str) -> Reply:
    if isinstance(reply, Reply):
        return reply
    if isinstance(reply, dict):
        return good(reply)
    return Reply("good", reply)


def _completion_body(server: FakeLLMServer, body: dict, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.refusal is not None:
        message["refusal"] = reply.refusal
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": server.model_name_in_reply or body.get("model", "fake"),
        "choices": [{"index": 0, "finish_reason": reply.finish_reason, "message": message}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def _make_handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real providers do; every reply sets Content-Length
        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._send(400, {"error": {"message": "request body is not JSON"}})
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return

            server._enter(self.path, body)
            try:
                self._answer(body)
            finally:
                server._leave()

        def _answer(self, body: dict) -> None:
            reply = server._next_reply(body)
            time.sleep(server.latency_s + reply.delay_s)
            if reply.kind == "dropped":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if reply.status != 200:
                headers = dict(reply.headers)
                if reply.retry_after_s is not None:
                    headers["Retry-After"] = f"{reply.retry_after_s:g}"
                error = {"message": reply.content if reply.kind == "error" else f"fake {reply.status}", "type": reply.kind}
                self._send(reply.status, {"error": error}, headers)
                return
            self._send(200, _completion_body(server, body, reply), reply.headers)

    return Handler


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """A started fake server on 127.0.0.1; stopped after the test."""
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve a fixed good reply until terminated; prints the port on the first line (used by benchmarks)."""
    import argparse

    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible chat server on 127.0.0.1.")
    parser.add_argument("--latency-s", type=float, default=0.0, help="Delay before every reply, in seconds.")
    parser.add_argument("--reply", default='{"ok": true}', help="JSON content of every reply.")
    args = parser.parse_args(argv)

    server = FakeLLMServer()
    server.latency_s = args.latency_s
    server.responder = lambda body: good(args.reply)
    print(server.port, flush=True)
    server._httpd.serve_forever()


if __name__ == "__main__":
    main()
