"""Benchmark: LLM client throughput with 32 requests in flight versus 1.

Starts the fake OpenAI-compatible server from ``tests/fakes/llm_server.py`` as a
child process on 127.0.0.1 with 500 ms of injected latency per reply. A child
process keeps the server off the client's GIL, like a real provider. Requests go through
``LLMClient.map_structured`` (real litellm, cache off). The speed-up is the
ratio of throughputs (requests per second), because the serial run uses fewer
requests to stay short. Goal: at least 25x.

NOTE: quick runs on a 2-CPU machine shared with other test runs (load 4-5)
measured 17-21x. The limit is litellm's CPU time per request on the one event
loop thread, about 10-15 ms in cProfile, of which about 6 ms is litellm pricing
a model that is absent from its price map.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel

LATENCY_S = 0.5
GOAL_SPEEDUP = 25.0


class _Reply(BaseModel):
    organ: str
    max_diameter_mm: float


def _requests(count: int, api_base: str, tag: str) -> list:
    from engine.config import AgentBackend
    from engine.llm import LLMRequest

    backend = AgentBackend(backend="llm", model="openai/bench-model", api_base=api_base, max_tokens=64)
    return [
        LLMRequest("extractor", backend, [{"role": "user", "content": f"bench {tag} {i}"}], _Reply, f"bench-{tag}-{i}", "bench")
        for i in range(count)
    ]


def _start_server(latency_s: float) -> tuple[subprocess.Popen, str]:
    reply = json.dumps({"organ": "pancreas", "max_diameter_mm": 32.0})
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--latency-s", str(latency_s), "--reply", reply],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, text=True,
    )
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.terminate()
        raise RuntimeError(f"fake LLM server did not report its port (got {port!r})")
    return process, f"http://127.0.0.1:{port}/v1"


def _throughput(client, api_base: str, count: int, in_flight: int, tag: str) -> tuple[float, float]:
    requests = _requests(count, api_base, tag)
    started = time.perf_counter()
    results = client.map_structured(requests, max_in_flight=in_flight)
    elapsed = time.perf_counter() - started
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        raise RuntimeError(f"{len(failures)} of {count} benchmark requests failed; first: {failures[0]!r}")
    return count / elapsed, elapsed


def run(quick: bool = False) -> list[dict]:
    """Measure throughput at 1 and 32 requests in flight; return benchmark rows."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    from engine.config import LLMSettings
    from engine.llm import LLMClient

    serial_count, parallel_count = (8, 128) if quick else (32, 512)
    process, api_base = _start_server(LATENCY_S)
    try:
        client = LLMClient(LLMSettings(cache_dir=None, max_in_flight=32, timeout_s=30.0))
        _throughput(client, api_base, 4, 4, "warmup")  # the first litellm call builds its HTTP clients
        serial_rps, serial_s = _throughput(client, api_base, serial_count, 1, "serial")
        parallel_rps, parallel_s = _throughput(client, api_base, parallel_count, 32, "parallel")
    finally:
        process.terminate()
        process.wait(timeout=10)

    speedup = parallel_rps / serial_rps
    note = (f"{serial_count} requests at 1 in flight took {serial_s:.1f} s; {parallel_count} at 32 took {parallel_s:.1f} s; "
            f"{LATENCY_S * 1000:.0f} ms injected latency; fake server in a child process on 127.0.0.1; {os.cpu_count()} CPUs")
    return [
        {"name": "llm_throughput_1_in_flight", "value": round(serial_rps, 2), "unit": "requests/s", "goal": None, "note": note},
        {"name": "llm_throughput_32_in_flight", "value": round(parallel_rps, 2), "unit": "requests/s", "goal": None, "note": note},
        {"name": "llm_speedup_32_vs_1", "value": round(speedup, 1), "unit": "x", "goal": f">= {GOAL_SPEEDUP:g}", "note": note},
    ]

if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row))
