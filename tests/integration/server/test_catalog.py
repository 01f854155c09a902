"""The catalog and HuggingFace search through the API, against a Hub stand-in on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from airunway.server.app import Settings
from airunway.server.services import huggingface

from support import in_process_api


@pytest.fixture
async def api():
    async with in_process_api(Settings(auth_enabled=False)) as client:
        yield client


async def test_catalog(api):
    models = (await api.get("/api/models")).json()["models"]
    assert len(models) >= 18 and len({m["id"] for m in models}) == len(models)
    assert {m["id"] for m in models} >= {"Qwen/Qwen3-0.6B", "kaito/llama3.2-1b", "kaito/gpt-oss-20b"}
    for m in models:
        assert m["conversational"] is True and m["task"] in ("text-generation", "image-text-to-text")
        assert m["supportedEngines"] and isinstance(m["minGpus"], int)
    kaito = [m for m in models if m["id"].startswith("kaito/")]
    assert len(kaito) == 10 and all(m["supportedEngines"] == ["llamacpp"] and m["minGpus"] == 0 for m in kaito)
    one = await api.get("/api/models/Qwen/Qwen3-0.6B")
    assert one.status_code == 200 and one.json()["minGpuMemory"] == "4GB"
    missing = await api.get("/api/models/nobody/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "Model not found"


async def test_search_keeps_servable_text_models(api, hub):
    anonymous = (await api.get("/api/models/search", params={"q": "8b"})).json()
    ids = [m["id"] for m in anonymous["models"]]
    # The classifier (pipeline) and the unknown architecture are left out; gated models need a token.
    assert ids == ["Qwen/Qwen3-8B", "Qwen/Qwen3-8B-GGUF"]
    assert anonymous["total"] == 2 and anonymous["hasMore"] is False and anonymous["query"] == "8b"
    qwen = anonymous["models"][0]
    assert qwen["supportedEngines"] == ["vllm", "sglang", "trtllm"] and qwen["compatible"] is True
    assert qwen["parameterCount"] == 8_190_735_360
    assert qwen["estimatedGpuMemoryGb"] == 19 and qwen["estimatedGpuMemory"] == "19GB"  # ceil(8.19e9*2*1.2/2^30)
    assert anonymous["models"][1]["supportedEngines"] == ["llamacpp"]
    assert anonymous["models"][1]["estimatedGpuMemoryGb"] == 18  # 8B from the name

    signed_in = (await api.get("/api/models/search", params={"q": "8b", "limit": 2, "offset": 1},
                               headers={"X-HF-Token": hub.token})).json()
    assert [m["id"] for m in signed_in["models"]] == ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-8B-GGUF"]
    assert signed_in["total"] == 3 and signed_in["hasMore"] is False
    assert signed_in["models"][0]["gated"] is True
    images = (await api.get("/api/models/search", params={"q": "gemma"}, headers={"X-HF-Token": hub.token})).json()
    assert [m["id"] for m in images["models"]] == ["google/gemma-3-4b-it"]


async def test_search_input_and_an_unreachable_hub(api, monkeypatch):
    short = await api.get("/api/models/search", params={"q": "a"})
    assert short.status_code == 400 and "Search query must be at least 2 characters" in short.json()["error"]["message"]
    for params in ({"q": "ab", "limit": "0"}, {"q": "ab", "limit": "51"}, {"q": "ab", "offset": "-1"},
                   {"q": "ab", "limit": "x"}):
        assert (await api.get("/api/models/search", params=params)).status_code == 400, params
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    down = await api.get("/api/models/search", params={"q": "qwen"})
    assert down.status_code == 502
    assert down.json()["error"]["message"].startswith("HuggingFace Hub is unreachable (ConnectError)")
    files = await api.get("/api/models/Qwen/Qwen3-8B-GGUF/gguf-files")
    assert files.status_code == 502
    malformed = await api.get("/api/models/search", params={"q": "qwen"}, headers={"X-HF-Token": "not a token"})
    assert malformed.status_code == 400 and malformed.json()["error"]["message"].startswith("X-HF-Token: ")


async def test_gguf_files(api, hub):
    files = await api.get("/api/models/Qwen/Qwen3-8B-GGUF/gguf-files")
    assert files.json() == {"files": ["Qwen3-8B-Q4_K_M.gguf", "Qwen3-8B-Q8_0.gguf"]}
    assert (await api.get("/api/models/nobody/nothing/gguf-files")).status_code == 404
    bad = await api.get("/api/models/a/b/c/gguf-files")
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "Invalid Hugging Face model id"


async def test_a_hub_that_does_not_answer_times_out(api, monkeypatch):
    """A Hub that accepts the connection and never answers: a 504 within the client's timeout, not a hang."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
    monkeypatch.setattr(huggingface, "TIMEOUT", httpx.Timeout(0.5))
    try:
        started = time.monotonic()
        search = await api.get("/api/models/search", params={"q": "qwen"})
        files = await api.get("/api/models/Qwen/Qwen3-8B-GGUF/gguf-files")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    for answer in (search, files):
        assert answer.status_code == 504
        assert answer.json()["error"]["message"].startswith("HuggingFace Hub did not answer in time")
    assert elapsed < 10


async def test_odd_hub_answers_are_not_server_errors(api, monkeypatch):
    """A Hub answering with something that is not the expected JSON gives no results or a 502, never a 500."""
    class Odd(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = b"[1, 2, 3]" if "/api/models/" in self.path else b"<html>busy</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Odd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        search = await api.get("/api/models/search", params={"q": "qwen"})
        files = await api.get("/api/models/Qwen/Qwen3-8B-GGUF/gguf-files")
    finally:
        server.shutdown()
    assert search.status_code == 200 and search.json() == {"models": [], "total": 0, "hasMore": False,
                                                            "query": "qwen"}
    assert files.status_code == 200 and files.json() == {"files": []}
