"""The deployment API on the sandbox: create (with its checks), list from the watch cache, get, pods, pending
reasons from the scheduler's real events, logs, manifest, delete, metrics scraped from a vLLM-format server on
127.0.0.1. No provider runs here: where a deployment needs a pod, the test creates it with the deployment's label,
as a provider would."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.errors import ApiError
from airunway.kube.resources import PODS
from airunway.server.app import Settings

from support import DashboardAPI, free_port, until
from workload import installed_providers

GPU_POD_LABEL = "airunway.ai/deployment"


def body(name: str, namespace: str | None = None, **fields) -> dict:
    out = {"name": name, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm", **fields}
    if namespace:
        out["namespace"] = namespace
    return out


@pytest.fixture
async def kube(sandbox):
    async with await Client.connect(sandbox.kubeconfig) as client:
        yield client


async def make_pod(kube: Client, namespace: str, name: str, deployment: str, gpus: int) -> dict:
    """A pod of ``deployment`` (labelled as providers label theirs) asking for ``gpus`` GPUs."""
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {GPU_POD_LABEL: deployment}},
        "spec": {"automountServiceAccountToken": False, "containers": [{
            "name": "main", "image": "vllm/vllm-openai:latest",
            "resources": {"requests": {"nvidia.com/gpu": str(gpus)}, "limits": {"nvidia.com/gpu": str(gpus)}}}]},
    }

    async def created():
        try:
            return await kube.create(PODS, pod)
        except ApiError as exc:  # the namespace's default ServiceAccount may not exist yet
            if "service account" in exc.message or "serviceaccount" in exc.message:
                return None
            raise

    return await until(created, what="pod created")


async def listed(api, path: str, name: str) -> dict | None:
    answer = (await api.get(path)).json()
    return next((d for d in answer["deployments"] if d["name"] == name), None)


async def test_deployment_lifecycle(sandbox, namespace, kube):
    async with DashboardAPI(sandbox, Settings(default_namespace=namespace)) as api:
        created = await api.post("/api/deployments", json=body("qwen", namespace, replicas=2, resources={"gpu": 1},
                                                              engineArgs={"max-num-seqs": 64}))
        assert created.status_code == 201, created.text
        assert {k: v for k, v in created.json().items() if k != "warnings"} == {
            "message": "Deployment created successfully", "name": "qwen", "namespace": namespace}
        stored = await kube.get(MODEL_DEPLOYMENTS, "qwen", namespace)
        assert stored["metadata"]["labels"]["app.kubernetes.io/instance"] == "qwen"
        assert stored["spec"]["resources"]["gpu"] == {"count": 1, "type": "nvidia.com/gpu"}
        assert stored["spec"]["engine"]["args"] == {"max-num-seqs": "64"}
        assert stored["spec"]["scaling"] == {"replicas": 2}

        # No namespace in the request: the configured default namespace.
        second = await api.post("/api/deployments", json=body("llama", modelId="meta-llama/Llama-3.2-1B-Instruct"))
        assert second.status_code == 201 and second.json()["namespace"] == namespace

        entry = await until(lambda: listed(api, f"/api/deployments?namespace={namespace}", "qwen"),
                            what="qwen in the list")
        assert entry["modelId"] == "Qwen/Qwen3-0.6B" and entry["engine"] == "vllm" and entry["provider"] == "unknown"
        assert entry["phase"] == "Pending" and entry["pods"] == [] and entry["frontendService"] == "qwen"
        assert entry["replicas"] == {"desired": 2, "ready": 0, "available": 0}
        await until(lambda: listed(api, "/api/deployments", "llama"), what="llama in the all-namespace list")

        page = (await api.get(f"/api/deployments?namespace={namespace}")).json()
        assert [d["name"] for d in page["deployments"]] == ["llama", "qwen"]  # newest first
        assert page["pagination"] == {"total": 2, "limit": 2, "offset": 0, "hasMore": False}
        first = (await api.get(f"/api/deployments?namespace={namespace}&limit=1")).json()
        assert [d["name"] for d in first["deployments"]] == ["llama"]
        assert first["pagination"] == {"total": 2, "limit": 1, "offset": 0, "hasMore": True}
        rest = (await api.get(f"/api/deployments?namespace={namespace}&limit=1&offset=1")).json()
        assert [d["name"] for d in rest["deployments"]] == ["qwen"] and rest["pagination"]["hasMore"] is False
        nothing = (await api.get("/api/deployments?namespace=no-such-namespace")).json()
        assert nothing == {"deployments": [], "pagination": {"total": 0, "limit": 0, "offset": 0, "hasMore": False}}

        got = await api.get(f"/api/deployments/qwen?namespace={namespace}")
        assert got.status_code == 200 and got.json()["name"] == "qwen" and got.json()["namespace"] == namespace
        assert (await api.get("/api/deployments/qwen")).json() == got.json()  # default namespace
        manifest = (await api.get(f"/api/deployments/qwen/manifest?namespace={namespace}")).json()
        assert manifest["primaryResource"] == {"kind": "ModelDeployment", "apiVersion": "airunway.ai/v1alpha1"}
        assert manifest["resources"][0]["name"] == "qwen"
        assert manifest["resources"][0]["manifest"]["metadata"]["uid"] == stored["metadata"]["uid"]

        again = await api.post("/api/deployments", json=body("qwen", namespace))
        assert again.status_code == 409
        assert again.json()["error"]["message"].startswith("Failed to create deployment: ")
        assert "already exists" in again.json()["error"]["message"]

        logs = (await api.get(f"/api/deployments/llama/logs?namespace={namespace}")).json()
        assert logs == {"logs": "", "podName": "", "message": "No pods found for this deployment"}

        deleted = await api.delete(f"/api/deployments/llama?namespace={namespace}")
        assert deleted.status_code == 200 and deleted.json() == {"message": "Deployment deleted successfully"}
        gone = await api.delete(f"/api/deployments/llama?namespace={namespace}")
        assert gone.status_code == 404
        assert gone.json()["error"]["message"] == f"Deployment 'llama' not found in namespace '{namespace}'"
        for path in ("", "/pods", "/pending-reasons", "/logs", "/metrics"):
            missing = await api.get(f"/api/deployments/llama{path}?namespace={namespace}")
            assert missing.status_code == 404 and missing.json()["error"]["message"] == "Deployment not found"
        assert (await api.get(f"/api/deployments/llama/manifest?namespace={namespace}")).json() == {
            "error": {"message": "Deployment manifest not found", "statusCode": 404}}

        async def llama_gone():
            return await listed(api, f"/api/deployments?namespace={namespace}", "llama") is None

        await until(llama_gone, what="llama out of the list")


async def test_unschedulable_deployment_reports_why(sandbox, namespace, kube):
    """100 GPUs fit on no node: the create answer warns, the pod stays Pending, and the scheduler's own event is
    the pending reason."""
    async with DashboardAPI(sandbox) as api:
        created = await api.post("/api/deployments", json=body("huge", namespace, resources={"gpu": 100}))
        assert created.status_code == 201, created.text
        warnings = created.json()["warnings"]
        assert any(w.startswith("⚠️ Insufficient cluster GPUs: Deployment requires 100 GPU(s)") for w in warnings)
        assert any(w.startswith("⚠️ Scheduling constraint: Each worker requires 100 GPU(s)") for w in warnings)
        assert (await api.get(f"/api/deployments/huge/pending-reasons?namespace={namespace}")).json() == {
            "reasons": []}

        await make_pod(kube, namespace, "huge-0", "huge", 100)
        other = await make_pod(kube, namespace, "someone-else", "other", 0)

        async def pod_listed():
            pods = (await api.get(f"/api/deployments/huge/pods?namespace={namespace}")).json()["pods"]
            return pods or None

        pods = await until(pod_listed, what="the pod in /pods")
        assert pods == [{"name": "huge-0", "phase": "Pending", "ready": False, "restarts": 0}]

        async def reasons():
            found = (await api.get(f"/api/deployments/huge/pending-reasons?namespace={namespace}")).json()["reasons"]
            return [r for r in found if r["reason"] == "FailedScheduling"]

        reason = (await until(reasons, timeout=60, what="a FailedScheduling event"))[0]
        assert "Insufficient nvidia.com/gpu" in reason["message"]
        assert reason["isResourceConstraint"] is True and reason["resourceType"] == "gpu"
        helps = not any(w in reason["message"].lower() for w in ("taint", "toleration", "didn't match",
                                                                  "node selector"))
        assert reason["canAutoscalerHelp"] is helps

        shown = (await api.get(f"/api/deployments/huge?namespace={namespace}")).json()
        assert shown["phase"] == "Pending" and [p["name"] for p in shown["pods"]] == ["huge-0"]

        async def listed_with_pod():
            entry = await listed(api, f"/api/deployments?namespace={namespace}", "huge")
            return entry if entry and entry["pods"] else None

        assert (await until(listed_with_pod, what="the cached list to show the pod"))["phase"] == "Pending"
        # The list is kept rendered: a status change of the deployment shows at once.
        await kube.patch_merge(MODEL_DEPLOYMENTS, "huge", {"status": {"provider": {"name": "vllm"}}}, namespace,
                               subresource="status")

        async def provider_shown():
            entry = await listed(api, f"/api/deployments?namespace={namespace}", "huge")
            return entry["provider"] == "vllm"

        await until(provider_shown, what="the new status in the list")

        foreign = await api.get(f"/api/deployments/huge/logs?namespace={namespace}&podName=someone-else")
        assert foreign.status_code == 400
        assert foreign.json()["error"]["message"] == "Pod 'someone-else' is not part of deployment 'huge'"
        # The pod has no node yet, so its log is empty; the container is the main one, found on the pod.
        unplaced = await api.get(f"/api/deployments/huge/logs?namespace={namespace}&tailLines=10&timestamps=true")
        assert unplaced.status_code == 200, unplaced.text
        assert unplaced.json() == {"logs": "", "podName": "huge-0", "container": "main"}
        missing = await api.get(f"/api/deployments/huge/logs?namespace={namespace}&container=sidecar")
        assert missing.status_code == 500
        assert missing.json()["error"]["message"].startswith("Failed to get logs for pod 'huge-0': ")
        assert "sidecar" in missing.json()["error"]["message"]
        assert (await api.get(f"/api/deployments/huge/logs?namespace={namespace}&tailLines=0")).status_code == 400
        assert other["metadata"]["name"] == "someone-else"

        await kube.delete(PODS, "huge-0", namespace)

        async def pod_gone_from_list():
            entry = await listed(api, f"/api/deployments?namespace={namespace}", "huge")
            return entry["pods"] == []

        await until(pod_gone_from_list, what="the deleted pod out of the list")


@pytest.fixture
async def provider(kube):
    """A provider that runs vLLM, aggregated only, from Hugging Face only."""
    name = f"dash-{uuid.uuid4().hex[:8]}"
    await kube.create(INFERENCE_PROVIDER_CONFIGS, {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {
            "name": name, "annotations": {"airunway.ai/capabilities": json.dumps(
                {"engines": [{"name": "vllm", "servingModes": ["aggregated"]}], "modelSources": ["huggingface"]})}},
        "spec": {"capabilities": {"engines": [{"name": "vllm", "servingModes": ["aggregated"]}]}},
    })
    try:
        yield name
    finally:
        await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)


async def test_create_checks_the_request_and_the_provider(sandbox, namespace, provider, kube):
    async with DashboardAPI(sandbox) as api:
        unknown = await api.post("/api/deployments", json=body("a", namespace, provider="no-such-provider"))
        assert unknown.status_code == 404
        assert unknown.json()["error"]["message"] == "Provider not found: no-such-provider"
        engine = await api.post("/api/deployments", json=body("a", namespace, provider=provider, engine="sglang"))
        assert engine.status_code == 422
        assert engine.json()["error"]["message"] == (
            f'Provider "{provider}" does not support engine "sglang". Supported engine values: vllm')
        mode = await api.post("/api/deployments", json=body("a", namespace, provider=provider, mode="disaggregated"))
        assert mode.status_code == 422 and "mode for engine vllm" in mode.json()["error"]["message"]
        source = await api.post("/api/deployments", json=body("a", namespace, provider=provider, modelSource="vllm"))
        assert source.status_code == 422 and 'modelSource "vllm"' in source.json()["error"]["message"]

        storage = await api.post("/api/deployments", json=body("a", namespace, storage={"volumes": [
            {"name": "cache", "purpose": "modelCache", "size": "10Gi", "readOnly": True}]}))
        assert storage.status_code == 400
        assert storage.json()["error"]["issues"][0]["path"] == ["storage", "volumes", 0, "readOnly"]

        preview = await api.post("/api/deployments/preview", json=body("a", namespace, provider=provider, storage={
            "volumes": [{"name": "cache", "purpose": "modelCache", "size": "10Gi"}]}))
        assert preview.status_code == 200, preview.text
        volume = preview.json()["resources"][0]["manifest"]["spec"]["model"]["storage"]["volumes"][0]
        assert volume["mountPath"] == "/model-cache" and volume["claimName"] == "a-cache"
        assert await kube.get_or_none(MODEL_DEPLOYMENTS, "a", namespace) is None  # a preview writes nothing

        fine = await api.post("/api/deployments", json=body("a", namespace, provider=provider))
        assert fine.status_code == 201, fine.text
        assert (await kube.get(MODEL_DEPLOYMENTS, "a", namespace))["spec"]["provider"] == {"name": provider}


class VllmMetrics(BaseHTTPRequestHandler):
    """Serves vLLM's Prometheus text, as a stand-in when the inference simulator is not built."""

    TEXT = ('# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="Qwen/Qwen3-0.6B"} 2\n'
            'vllm:kv_cache_usage_perc{model_name="Qwen/Qwen3-0.6B"} 0.25\n')

    def do_GET(self):  # noqa: N802 - http.server's name
        data = self.TEXT.encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def metrics_server(sandbox, tmp_path):
    """A vLLM-format /metrics on 127.0.0.1: llm-d-inference-sim when the sandbox build has it, else a stand-in."""
    port = free_port()
    sim = sandbox.bin_dir / "llm-d-inference-sim"
    if sim.is_file():
        log = open(tmp_path / "sim.log", "wb")
        proc = subprocess.Popen([str(sim), "--port", str(port), "--model", "Qwen/Qwen3-0.6B",
                                 "--force-dummy-tokenizer"], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(port)
            yield f"http://127.0.0.1:{port}/metrics"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
        return
    server = ThreadingHTTPServer(("127.0.0.1", port), VllmMetrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        server.shutdown()


def _wait_for_port(port: int) -> None:
    from support import eventually

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    eventually(listening, timeout=60, what=f"the inference simulator on port {port}")


async def test_metrics_are_scraped_from_the_inference_server(sandbox, namespace, metrics_server):
    async with DashboardAPI(sandbox, Settings(metrics_url=metrics_server)) as api:
        assert (await api.post("/api/deployments", json=body("qwen", namespace))).status_code == 201
        answer = (await api.get(f"/api/deployments/qwen/metrics?namespace={namespace}")).json()
    assert answer["available"] is True and answer["timestamp"].endswith("Z")
    running = next(m for m in answer["metrics"] if m["name"] == "vllm:num_requests_running")
    assert running["labels"]["model_name"] == "Qwen/Qwen3-0.6B" and isinstance(running["value"], (int, float))


async def test_metrics_of_an_unreachable_server(sandbox, namespace):
    closed = free_port()  # nothing listens there
    async with DashboardAPI(sandbox, Settings(metrics_url=f"http://127.0.0.1:{closed}/metrics")) as api:
        assert (await api.post("/api/deployments", json=body("qwen", namespace))).status_code == 201
        answer = (await api.get(f"/api/deployments/qwen/metrics?namespace={namespace}")).json()
    assert answer["available"] is False and answer["metrics"] == []
    assert answer["error"] == "Connection refused. The deployment may not be ready yet."


async def test_selection_explains_the_controllers_choice(sandbox, namespace):
    """With the five shipped provider configs registered and ready, the answer names the provider the seed's rules
    give (KubeRay for vLLM on 2 GPUs) and why each other one was not chosen."""
    body = {"name": "auto", "namespace": namespace, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm",
            "resources": {"gpu": 2}}
    with contextmanager(installed_providers)(sandbox):
        async with DashboardAPI(sandbox, Settings(auth_enabled=False)) as api:
            chosen = (await api.post("/api/deployments/selection", json=body)).json()
            pinned = (await api.post("/api/deployments/selection", json={**body, "provider": "vllm"})).json()
            bad = await api.post("/api/deployments/selection", json={**body, "name": "Bad"})
    assert chosen["failure"] is None and chosen["engine"]["type"] == "vllm"
    assert chosen["provider"] == {"name": "kuberay", "reason": "matched capabilities: engine=vllm, gpu=true, "
                                                               "mode=aggregated"}
    outcomes = {v["name"]: v["outcome"] for v in chosen["verdicts"]}
    assert outcomes["kuberay"] == "selected" and set(outcomes) >= {"dynamo", "kaito", "kuberay", "llmd", "vllm"}
    assert all(v["explanation"] for v in chosen["verdicts"])
    assert pinned["provider"]["name"] == "vllm"
    assert bad.status_code == 400
