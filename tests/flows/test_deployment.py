"""The README's deployment commands against a real ``prefect server`` on 127.0.0.1.

The server, the serving process and the CLI all run as subprocesses with their
own PREFECT_HOME, and every one of them is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.validate import validate_dataset

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
SERVER_START_TIMEOUT_S = 120.0
DEPLOYMENT_NAME = "pytest-serve"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen, signals: int = 1, grace_s: float = 15.0) -> None:
    """Send SIGTERM ``signals`` times (a Prefect worker or runner wants two), then SIGKILL if it is still running."""
    for _ in range(signals):
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    process.wait(timeout=grace_s)


def _wait_until(check, timeout_s: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with code {process.returncode} before it was ready")
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} was not ready within {timeout_s:.0f} s")


def _get_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A ``prefect server start`` on a free 127.0.0.1 port; yields the environment for its clients."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("w")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_until(lambda: _get_ok(f"{api_url}/health"), SERVER_START_TIMEOUT_S, "prefect server", server)
        yield {**env, "PREFECT_API_URL": api_url}
    finally:
        _stop(server)
        log.close()


@pytest.mark.slow
def test_deployment_run_on_local_server(prefect_server: dict[str, str], phantom_cohort: Path, tmp_path: Path):
    out = tmp_path / "ds"
    serve_log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen([sys.executable, "-m", "flows.deploy", "--name", DEPLOYMENT_NAME], cwd=PROJECT_ROOT, env=prefect_server,
                             stdout=serve_log, stderr=subprocess.STDOUT)
    try:
        deployment_url = f"{prefect_server['PREFECT_API_URL']}/deployments/name/tumorcot-engine/{DEPLOYMENT_NAME}"
        _wait_until(lambda: _get_ok(deployment_url), 120.0, "the served deployment", serve)
        params = json.dumps({"manifest": str(phantom_cohort), "out": str(out), "batch_size": 2})
        run = subprocess.run(
            [PREFECT, "deployment", "run", f"tumorcot-engine/{DEPLOYMENT_NAME}", "-p", f"params={params}", "--watch", "--watch-timeout", "240"],
            cwd=PROJECT_ROOT, env=prefect_server, capture_output=True, text=True, timeout=300,
        )
    finally:
        _stop(serve, signals=2)
        serve_log.close()

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Completed" in run.stdout
    assert list((out / "shards").glob("part-*.parquet"))
    validation = validate_dataset(str(out))
    assert validation.ok, validation.problems
