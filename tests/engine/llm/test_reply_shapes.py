"""Odd reply shapes from an OpenAI-compatible server, through the real client and litellm."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.llm import LLMError, LLMInvalidOutput
from engine.llm.parsing import ReplyProblem, extract_json
from tests.engine.llm.test_client import LESION, Lesion, ask, make_client
from tests.fakes.llm_server import fake_llm, good, prose  # noqa: F401

LESION_JSON = json.dumps(LESION)
OTHER_JSON = json.dumps({**LESION, "organ": "liver"})


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(f"```\n```json\n{LESION_JSON}\n```\n```", id="nested_fences"),
        pytest.param(f"Here it is: ```JSON {LESION_JSON}```", id="inline_fence"),
        pytest.param(f"[{LESION_JSON}]", id="array_of_one"),
        pytest.param(f"```json\n{LESION_JSON}\n```\nThe same again: {LESION_JSON}", id="repeated_object"),
        pytest.param("Fill {the fields}: " + LESION_JSON, id="prose_braces_first"),
    ],
)
def test_reply_shape_accepted(content):
    assert json.loads(extract_json(content, "stop")) == LESION


def test_fence_inside_string_not_truncation():
    content = '```json\n{"note": "wrap it in ``` fences", "organ": "liver"}\n```'
    assert json.loads(extract_json(content, "stop")) == {"note": "wrap it in ``` fences", "organ": "liver"}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(f"{LESION_JSON}\n{OTHER_JSON}", id="two_objects"),
        pytest.param(f"[{LESION_JSON}, {OTHER_JSON}]", id="array_of_two"),
    ],
)
def test_several_objects_are_a_problem(content):
    problem = extract_json(content, "stop")
    assert isinstance(problem, ReplyProblem)
    assert problem.kind == "multiple"


def test_two_objects_get_corrective_retry(tmp_path, fake_llm):
    fake_llm.queue(prose(f"{LESION_JSON}\n{OTHER_JSON}"), good(LESION))
    result = ask(make_client(tmp_path), fake_llm)
    assert result.value == Lesion(**LESION)
    assert result.attempts == 2
    assert "exactly one JSON object" in json.dumps(fake_llm.requests[1]["messages"])


def test_unicode_and_empty_replies(tmp_path, fake_llm):
    chinese = {**LESION, "finding": "胰头低密度肿块 — 3.2 cm"}
    fake_llm.queue(good(chinese))
    assert ask(make_client(tmp_path), fake_llm).value.finding == chinese["finding"]

    fake_llm.queue(prose(""), prose("   "))
    with pytest.raises(LLMInvalidOutput):
        ask(make_client(tmp_path / "other"), fake_llm, case_id="case-2")


class _ErrorBodyHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server hook name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        data = json.dumps({"error": {"message": "model overloaded", "type": "server_error"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_http_200_with_error_body_raises_llm_error(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ErrorBodyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Address:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"

    try:
        with pytest.raises(LLMError) as caught:
            ask(make_client(tmp_path, max_retries=1), Address)
    finally:
        server.shutdown()
        server.server_close()
    assert "case-1" in str(caught.value)
