"""Chat through the dashboard: an OpenAI chat completion streamed from llm-d-inference-sim on 127.0.0.1 (the model
server stand-in, reached through AIRUNWAY_MODEL_URL), and the refusals when a deployment cannot chat."""

from __future__ import annotations

import json
import subprocess

import pytest

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.server.app import Settings

from support import DashboardAPI, free_port, until


@pytest.fixture
def model_server(sandbox, tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(sandbox.bin_dir / "llm-d-inference-sim"), "--port", str(port), "--model",
                             "Qwen/Qwen3-0.6B", "--force-dummy-tokenizer", "--mode", "echo"],
                            stdout=open(tmp_path / "sim.log", "wb"), stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _deployment(kube: Client, namespace: str, name: str, phase: str) -> None:
    await kube.create(MODEL_DEPLOYMENTS, {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "metadata": {"name": name},
        "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"}}},
        namespace)
    await kube.patch_merge(MODEL_DEPLOYMENTS, name, {"status": {
        "phase": phase, "endpoint": {"service": name, "port": 8000}, "replicas": {"desired": 1, "ready": 1}}},
        namespace, subresource="status")


def _events(text: str) -> list[str]:
    return [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]


def _answer(text: str) -> str:
    """The model's words in a chat's events, which end with ``[DONE]``."""
    events = _events(text)
    assert events[-1] == "[DONE]"
    return "".join((json.loads(e)["choices"][0].get("delta") or {}).get("content") or "" for e in events[:-1])


async def test_chat_streams_the_model_answer(sandbox, namespace, model_server):
    settings = Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False, model_url=model_server,
                        default_namespace=namespace)
    hello = {"messages": [{"role": "user", "content": "Hello there"}]}
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, settings) as api:
        await _deployment(kube, namespace, "chatty", "Running")
        await _deployment(kube, namespace, "sleepy", "Pending")

        async def ready():
            answer = await api.post(f"/api/deployments/{namespace}/chatty/chat",
                                    json={"messages": [{"role": "user", "content": "Hello there"}]})
            return answer if answer.status_code == 200 else None

        answer = await until(ready, timeout=60, what="the model server to answer")
        pending = await api.post(f"/api/deployments/{namespace}/sleepy/chat", json={"messages": [{"role": "user",
                                                                                               "content": "hi"}]})
        empty = await api.post(f"/api/deployments/{namespace}/chatty/chat", json={"messages": []})
        missing = await api.post(f"/api/deployments/{namespace}/nobody/chat", json={"messages": [{"role": "user",
                                                                                                "content": "hi"}]})
        # Upstream's client, given no namespace, posts to /{name}/chat: the namespace from the query, else the
        # default one.
        queried = await api.post("/api/deployments/chatty/chat", params={"namespace": namespace}, json=hello)
        defaulted = await api.post("/api/deployments/chatty/chat", json=hello)
        elsewhere = await api.post("/api/deployments/chatty/chat", params={"namespace": "default"}, json=hello)
        bad = await api.post("/api/deployments/chatty/chat", params={"namespace": "Not_A_Namespace"}, json=hello)
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert _answer(answer.text) == "Hello there"  # the simulator echoes in echo mode
    assert pending.status_code == 409
    assert pending.json()["error"]["message"] == "Deployment 'sleepy' is not running (current phase: Pending)"
    assert empty.status_code == 400 and "messages" in empty.json()["error"]["message"]
    assert missing.status_code == 404
    for same in (queried, defaulted):
        assert same.status_code == 200 and same.headers["content-type"].startswith("text/event-stream")
        assert _answer(same.text) == "Hello there"
    assert elsewhere.status_code == 404
    assert bad.status_code == 400 and "namespace" in bad.json()["error"]["message"]


async def test_chat_with_an_unreachable_model_server(sandbox, namespace):
    settings = Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False, model_url="http://127.0.0.1:9")
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, settings) as api:
        await _deployment(kube, namespace, "chatty", "Running")
        answer = await api.post(f"/api/deployments/{namespace}/chatty/chat",
                                json={"messages": [{"role": "user", "content": "Hello"}]})
    assert answer.status_code == 502
    assert answer.json()["error"]["message"] == ("The model server for 'chatty' cannot be reached (ConnectError). "
                                                 "Try again in a moment or check the logs.")
