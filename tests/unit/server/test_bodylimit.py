"""The 1 MiB ceiling on request bodies: 413 with the error envelope before the body is read, auth on or off."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from airunway.server.app import Settings, create_app
from airunway.server.bodylimit import MAX_BODY_BYTES, BodyLimit

REFUSED = {"error": {"message": "Request body too large: the limit is 1,048,576 bytes (1 MiB); send less",
                     "statusCode": 413}}


class NoCluster:
    def __getattr__(self, name):
        raise AssertionError(f"the cluster was used ({name})")


def api() -> TestClient:
    return TestClient(create_app(Settings(), client=NoCluster()))


class Recorder:
    """An ASGI app that reads the whole body and answers 200, and the messages sent back."""

    def __init__(self) -> None:
        self.body: bytes | None = None
        self.sent: list[dict] = []

    async def app(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.body = body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(self, message) -> None:
        self.sent.append(message)


def call(headers: dict[bytes, bytes], chunks: list[bytes]) -> tuple[Recorder, int]:
    """Run a request through BodyLimit; returns the recorder and how many body messages were taken."""
    recorder = Recorder()
    taken = 0

    async def receive():
        nonlocal taken
        taken += 1
        chunk = chunks[taken - 1]
        return {"type": "http.request", "body": chunk, "more_body": taken < len(chunks)}

    scope = {"type": "http", "method": "POST", "path": "/api/x", "headers": list(headers.items())}
    asyncio.run(BodyLimit(recorder.app)(scope, receive, recorder.send))
    return recorder, taken


def status(recorder: Recorder) -> int:
    return recorder.sent[0]["status"]


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body():
    recorder, taken = call({b"content-length": str(MAX_BODY_BYTES + 1).encode()}, [b"x"])
    assert status(recorder) == 413 and taken == 0 and recorder.body is None
    assert json.loads(recorder.sent[1]["body"]) == REFUSED
    assert (b"connection", b"close") in recorder.sent[0]["headers"]


def test_a_chunked_body_is_read_only_up_to_the_limit():
    chunks = [b"x" * 400_000] * 10  # 4 MB in all
    recorder, taken = call({b"transfer-encoding": b"chunked"}, chunks)
    assert status(recorder) == 413 and recorder.body is None
    assert taken == 3  # 1.2 MB read: past the limit, the rest left unread


def test_bodies_within_the_limit_reach_the_app_unchanged():
    recorder, _ = call({b"transfer-encoding": b"chunked"}, [b"a" * 600_000, b"b" * (MAX_BODY_BYTES - 600_000)])
    assert status(recorder) == 200 and recorder.body == b"a" * 600_000 + b"b" * (MAX_BODY_BYTES - 600_000)
    recorder, _ = call({b"content-length": str(MAX_BODY_BYTES).encode()}, [b"c" * MAX_BODY_BYTES])
    assert status(recorder) == 200 and len(recorder.body) == MAX_BODY_BYTES
    recorder, _ = call({}, [b""])
    assert status(recorder) == 200 and recorder.body == b""


@pytest.mark.parametrize("auth", ["false", "true"])
def test_the_dashboard_refuses_large_bodies_with_413_auth_on_or_off(auth, monkeypatch):
    monkeypatch.setenv("AUTH_ENABLED", auth)
    large = json.dumps({"name": "m", "modelId": "x" * (MAX_BODY_BYTES + 1), "engine": "vllm"})
    with api() as client:
        answer = client.post("/api/deployments", content=large, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413 and answer.json() == REFUSED
        chunked = client.post("/api/deployments/preview", content=iter([large.encode()]),
                              headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413 and chunked.json() == REFUSED
        # A browser can read the answer: CORS still applies.
        answer = client.post("/api/settings", content=large, headers={"Origin": "http://localhost:5173"})
        assert answer.status_code == 413 and answer.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_a_large_body_within_the_limit_is_read_and_answered_as_usual(monkeypatch):
    monkeypatch.delenv("AUTH_ENABLED", raising=False)
    body = {"name": "Bad", "modelId": "org/model", "engine": "vllm", "padding": "x" * 1_000_000}
    with api() as client:
        answer = client.post("/api/deployments/preview", json=body)
    assert answer.status_code == 400 and "name" in answer.json()["error"]["message"]
