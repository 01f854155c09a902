"""The create-deployment schema, provider parsing and capability checks, Prometheus parsing and pending-reason
classification (no cluster)."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import ValidationError

from airunway.server.schemas import CreateDeployment, InvalidRequest
from airunway.server.services.deployments import DeploymentService, classify_event, pick_container, resolve_images
from airunway.server.services.gpus import Capacity, NodeGpus, fit_warnings
from airunway.server.services.metrics import (
    MetricsService,
    ScrapeFailed,
    find_metric,
    friendly_error,
    histogram_average,
    parse_prometheus,
    target_for,
)
from airunway.server.services.providers import capability_problem, provider_details, provider_info

BASE = {"name": "qwen", "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm"}


def problems(**fields) -> list[str]:
    """Every message the create schema gives for ``fields`` (an empty list when valid)."""
    try:
        CreateDeployment.model_validate({**BASE, **fields}).check()
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    except InvalidRequest as exc:
        return [f"{'.'.join(map(str, i.path))}: {i.message}" for i in exc.issues]
    return []


def test_defaults_and_unknown_keys():
    req = CreateDeployment.model_validate({**BASE, "surprise": 1})
    assert (req.mode, req.routerMode, req.replicas, req.hfTokenSecret, req.enablePrefixCaching) == \
        ("aggregated", "default", 1, "", True)
    assert not hasattr(req, "surprise")


@pytest.mark.parametrize("fields, where", [
    ({"name": "Bad_Name"}, "name"),
    ({"name": "a" * 254}, "name"),
    ({"modelId": ""}, "modelId"),
    ({"engine": "tgi"}, "engine"),
    ({"namespace": "-x"}, "namespace"),
    ({"replicas": -1}, "replicas"),
    ({"replicas": "2"}, "replicas"),
    ({"contextLength": 0}, "contextLength"),
    ({"routerMode": "fast"}, "routerMode"),
    ({"resources": {"gpu": 1.5}}, "resources.gpu"),
    ({"env": {"A": 1}}, "env.A"),
    ({"storage": {"volumes": [{"name": "v", "claimName": "c", "mountPath": "/v"}] * 9}}, "storage.volumes"),
    ({"storage": {"volumes": [{"name": "V", "claimName": "c", "mountPath": "/v"}]}}, "storage.volumes.0.name"),
    ({"storage": {"volumes": [{"name": "v", "size": "lots", "mountPath": "/v"}]}}, "storage.volumes.0.size"),
])
def test_schema_rejects_naming_the_field(fields, where):
    found = problems(**fields)
    assert found and any(p.startswith(where) for p in found), found


def vol(**fields) -> dict:
    return {"name": "v", "mountPath": "/data", "claimName": "existing", **fields}


@pytest.mark.parametrize("volumes, expected", [
    ([vol(), vol(claimName="other", mountPath="/other")], "storage.volumes.1.name: Duplicate volume name 'v'"),
    ([vol(), vol(name="w", claimName="w")], "storage.volumes.1.mountPath: Duplicate mount path '/data'"),
    ([vol(purpose="modelCache", mountPath=None), vol(name="w", claimName="w", mountPath="/model-cache")],
     "storage.volumes.1.mountPath: Duplicate mount path '/model-cache'"),
    ([vol(claimName=None, size="1Gi", mountPath="/a"), vol(name="w", claimName="qwen-v", mountPath="/b")],
     "storage.volumes.1.claimName: Duplicate claim name 'qwen-v'"),
    ([vol(mountPath="data")], "storage.volumes.0.mountPath: mountPath must be an absolute path"),
    ([vol(mountPath=None)], "storage.volumes.0.mountPath: mountPath is required when purpose is 'custom'"),
    ([vol(mountPath="/etc/models")], "storage.volumes.0.mountPath: mountPath '/etc/models' is a reserved"),
    ([vol(mountPath="/var/run")], "storage.volumes.0.mountPath: mountPath '/var/run' is a reserved"),
    ([vol(purpose="modelCache"), vol(name="w", claimName="w", purpose="modelCache", mountPath="/w")],
     "storage.volumes.1.purpose: Only one volume may have purpose 'modelCache'"),
    ([vol(claimName=None)], "storage.volumes.0.claimName: claimName is required when size is not set"),
    ([vol(claimName=None, size="1Gi", readOnly=True)], "storage.volumes.0.readOnly: readOnly cannot be used"),
    ([vol(size="1Gi")], "storage.volumes.0.claimName: claimName must be 'qwen-v'"),
    ([vol(accessMode="ReadWriteOnce")], "storage.volumes.0.accessMode: accessMode can only be set together"),
    ([vol(storageClassName="fast")], "storage.volumes.0.storageClassName: storageClassName can only be set"),
])
def test_storage_rules(volumes, expected):
    volumes = [{k: v for k, v in v.items() if v is not None} for v in volumes]
    found = problems(storage={"volumes": volumes})
    assert any(p.startswith(expected) for p in found), found


def test_valid_storage_passes():
    assert problems(storage={"volumes": [
        {"name": "cache", "purpose": "modelCache", "size": "100Gi", "storageClassName": "fast",
         "accessMode": "ReadWriteOnce"},
        {"name": "comp", "purpose": "compilationCache", "claimName": "shared", "readOnly": True},
        {"name": "data", "mountPath": "/mnt/data", "claimName": "qwen-data", "size": "1Gi"},
    ]}) == []


def test_long_generated_claim_name_is_refused():
    found = problems(name="a" * 200, storage={"volumes": [{"name": "b" * 60, "purpose": "modelCache", "size": "1Gi"}]})
    assert any("longer than 253" in p for p in found), found


def config(annotations: dict | None = None, capabilities: dict | None = None, name: str = "vllm") -> dict:
    obj = {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
           "metadata": {"name": name, "annotations": annotations or {}}, "spec": {}}
    if capabilities is not None:
        obj["spec"]["capabilities"] = capabilities
    return obj


def test_provider_from_spec_capabilities():
    info = provider_info(config(capabilities={"engines": [
        {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True, "cpuSupport": False}]}))
    assert info == {
        "id": "vllm", "name": "vLLM", "description": "No description available", "defaultNamespace": "default",
        "warnings": [], "installable": False, "requiresCRD": False,
        "capabilities": {"engines": ["vllm"], "engineCapabilities": [
            {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True, "cpuSupport": False}],
            "modes": ["aggregated"], "modelSources": [], "routerModes": [], "features": {"gpu": True}},
        "preference": 10, "modelStorage": True,  # from the built-in providers' table
    }


def test_provider_annotations_and_warnings():
    installation = {"description": "From the chart", "defaultNamespace": "dynamo-system",
                    "helmRepos": [{"name": "nvidia", "url": "https://helm.ngc.nvidia.com"}, {"name": "x"}],
                    "helmCharts": [{"name": "dynamo", "chart": "nvidia/dynamo", "namespace": "dynamo-system",
                                    "values": [1]}],
                    "steps": [{"title": "Install", "description": "run it", "command": "helm install"}]}
    details = provider_details(config({
        "airunway.ai/installation": json.dumps(installation),
        "airunway.ai/capabilities": json.dumps({"engines": ["vllm", "sglang"], "modes": ["aggregated", "disaggregated"],
                                                "routerModes": ["kv"], "features": {"gateway": True, "x": 1}}),
        "airunway.ai/health": "{not json",
        "airunway.ai/deployment-defaults": "[]",
        "airunway.ai/documentation": "https://docs",
        "airunway.ai/display-name": "NVIDIA Dynamo",
    }, name="dynamo"))
    assert details["name"] == "Dynamo"  # the known name beats the display-name annotation
    assert details["description"] == "From the chart" and details["defaultNamespace"] == "dynamo-system"
    assert details["documentationUrl"] == "https://docs" and details["installable"] is True
    assert details["requiresCRD"] is True
    assert details["capabilities"]["engines"] == ["vllm", "sglang"]
    assert details["capabilities"]["features"] == {"gateway": True}
    assert details["helmRepos"] == [{"name": "nvidia", "url": "https://helm.ngc.nvidia.com"}]
    assert details["helmCharts"] == [{"name": "dynamo", "chart": "nvidia/dynamo", "namespace": "dynamo-system"}]
    assert details["installationSteps"] == [{"title": "Install", "command": "helm install", "description": "run it"}]
    assert details["crdConfig"] == {"apiGroup": "airunway.ai", "apiVersion": "v1alpha1",
                                    "plural": "inferenceproviderconfigs", "kind": "InferenceProviderConfig"}
    warnings = details["warnings"]
    assert "Ignoring malformed Helm repo in airunway.ai/installation" in warnings
    assert "Ignoring malformed values for Helm chart dynamo" in warnings
    assert any(w.startswith("Invalid JSON in airunway.ai/health") for w in warnings)
    assert "airunway.ai/deployment-defaults must be a JSON object" in warnings


def test_provider_without_capabilities_is_listed_not_deployable():
    info = provider_info(config(name="acme"))
    assert info["name"] == "Acme" and info["requiresCRD"] is True
    assert info["preference"] == 0 and info["modelStorage"] is False
    assert info["warnings"] == ["Missing airunway.ai/capabilities; provider is listed but not deployable"]


def test_requires_crd_from_engines():
    explicit_false = {"engines": [{"name": "vllm", "requiresCRD": False}, {"name": "sglang", "requiresCRD": False}]}
    assert provider_info(config(capabilities=explicit_false, name="acme"))["requiresCRD"] is False
    one_true = {"engines": [{"name": "vllm", "requiresCRD": False}, {"name": "sglang", "requiresCRD": True}]}
    assert provider_info(config(capabilities=one_true, name="llmd"))["requiresCRD"] is True


CAPS = {"engines": ["vllm", "sglang"], "engineCapabilities": [
    {"name": "vllm", "servingModes": ["aggregated", "disaggregated"]}, {"name": "sglang", "servingModes": ["aggregated"]}],
    "modes": ["aggregated", "disaggregated"], "modelSources": ["huggingface"], "routerModes": ["kv"], "features": {}}


def check(**fields):
    args = {"engine": "vllm", "mode": "aggregated", "model_source": None, "router_mode": "default", "overrides": None,
            **fields}
    return capability_problem("dynamo", CAPS, **args)


def test_capability_checks():
    assert check() is None
    assert check(engine="llamacpp") == ('Provider "dynamo" does not support engine "llamacpp". '
                                        "Supported engine values: vllm, sglang")
    assert check(engine="sglang", mode="disaggregated") == (
        'Provider "dynamo" does not support mode for engine sglang "disaggregated". '
        "Supported mode for engine sglang values: aggregated")
    assert check(model_source="premade").startswith('Provider "dynamo" does not support modelSource "premade"')
    assert check(router_mode="round-robin").startswith('Provider "dynamo" does not support routerMode "round-robin"')
    assert check(overrides={"routerMode": "round-robin"}) is not None
    assert check(router_mode="kv") is None
    empty = {"engines": [], "modes": [], "modelSources": [], "routerModes": [], "features": {}}
    assert capability_problem("x", empty, engine="trtllm", mode="disaggregated", model_source="vllm",
                              router_mode="kv", overrides=None) is None


def test_prometheus_parsing_of_vllm_and_llamacpp_text():
    text = """
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="Qwen/Qwen3-0.6B",engine="0"} 3.0
vllm:gpu_cache_usage_perc{model_name="Qwen/Qwen3-0.6B"} 0.452
vllm:e2e_request_latency_seconds_sum{model_name="q"} 12.5
vllm:e2e_request_latency_seconds_count{model_name="q"} 5
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="q"} 5
llamacpp:prompt_tokens_total 1.2e3
llamacpp:tokens_predicted_seconds_total -0.5 1700000000000
weird NaN
other +Inf
"""
    samples = parse_prometheus(text)
    assert find_metric(samples, "vllm:num_requests_running") == {
        "name": "vllm:num_requests_running", "value": 3, "labels": {"model_name": "Qwen/Qwen3-0.6B", "engine": "0"}}
    assert find_metric(samples, "vllm:gpu_cache_usage_perc")["value"] == 0.452
    assert find_metric(samples, "llamacpp:prompt_tokens_total")["value"] == 1200
    assert find_metric(samples, "llamacpp:tokens_predicted_seconds_total")["value"] == -0.5
    assert find_metric(samples, "weird") is None and find_metric(samples, "other") is None
    assert histogram_average(samples, "vllm:e2e_request_latency_seconds") == 2.5
    assert find_metric(samples, "vllm:e2e_request_latency_seconds_bucket")["labels"]["le"] == "+Inf"


@pytest.mark.parametrize("raw, status, expected", [
    ("getaddrinfo ENOTFOUND qwen.ns.svc", None, "Cannot resolve service DNS."),
    ("fetch failed: [Errno 111] Connection refused", None, "Connection refused."),
    ("The operation was aborted", None, "Request timed out."),
    ("HTTP 404: Not Found", 404, "Metrics endpoint not found."),
    ("HTTP 503: no endpoints available for service", 503, "Service unavailable."),
    ("fetch failed: something", None, "Cannot connect to metrics endpoint."),
    ("strange", None, "strange"),
])
def test_scrape_errors_in_words(raw, status, expected):
    assert friendly_error(raw, status).startswith(expected)


def event(message, reason="FailedScheduling", kind="Warning"):
    return {"type": kind, "reason": reason, "message": message}


def test_pending_reasons():
    gpu = classify_event(event("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes"))
    assert gpu == {"reason": "FailedScheduling", "message": gpu["message"], "isResourceConstraint": True,
                   "resourceType": "gpu", "canAutoscalerHelp": True}
    assert classify_event(event("0/2 nodes are available: 2 Insufficient cpu."))["resourceType"] == "cpu"
    assert classify_event(event("Insufficient memory", reason="Other"))["resourceType"] == "memory"
    tainted = classify_event(event("0/3 nodes: 1 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint"))
    assert tainted["resourceType"] == "gpu" and tainted["canAutoscalerHelp"] is False
    selector = classify_event(event("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector"))
    assert "resourceType" not in selector and selector["canAutoscalerHelp"] is False
    other = classify_event(event("Back-off pulling image", reason="Failed"))
    assert other == {"reason": "Failed", "message": "Back-off pulling image", "isResourceConstraint": False,
                     "canAutoscalerHelp": False}


def test_log_container_choice():
    def pod(*names, ready=None):
        return {"spec": {"containers": [{"name": n} for n in names]},
                "status": {"containerStatuses": [{"name": n, "ready": n == ready} for n in names]}}

    assert pick_container(pod("sidecar", "vllm", "main")) == "main"
    assert pick_container(pod("sidecar", "frontend")) == "frontend"
    assert pick_container(pod("a", "b", ready="b")) == "b"
    assert pick_container(pod("a", "b")) == "a"


def test_kaito_images():
    premade = resolve_images(CreateDeployment.model_validate(
        {**BASE, "provider": "kaito", "modelSource": "premade", "premadeModel": "phi4:14b"}))
    assert premade.imageRef == "ghcr.io/kaito-project/aikit/phi4:14b"
    direct = resolve_images(CreateDeployment.model_validate(
        {**BASE, "modelId": "bartowski/gemma-3-1b-it-GGUF", "provider": "kaito", "modelSource": "huggingface",
         "ggufRunMode": "direct", "ggufFile": "gemma 3.Q8_0.gguf"}))
    assert direct.imageRef == "ghcr.io/kaito-project/aikit/runners/llama-cpp-cuda:latest"
    assert direct.engineArgs == {
        "ggufUrl": "https://huggingface.co/bartowski/gemma-3-1b-it-GGUF/resolve/main/gemma%203.Q8_0.gguf"}
    untouched = CreateDeployment.model_validate({**BASE, "provider": "vllm", "modelSource": "premade"})
    assert resolve_images(untouched) is untouched


def test_gpu_fit_warnings():
    capacity = Capacity([NodeGpus("a", 4, 3), NodeGpus("b", 2, 0)])  # 3 free: 1 on a, 2 on b
    req = CreateDeployment.model_validate({**BASE, "resources": {"gpu": 4}})
    assert fit_warnings(req, capacity) == [
        "⚠️ Insufficient cluster GPUs: Deployment requires 4 GPU(s) but only 3 are available in the cluster",
        "⚠️ Scheduling constraint: Each worker requires 4 GPU(s) but the largest available block on any node is "
        "2 GPU(s)"]
    assert fit_warnings(CreateDeployment.model_validate({**BASE, "resources": {"gpu": 2}}), capacity) == []
    assert fit_warnings(CreateDeployment.model_validate({**BASE, "resources": {"gpu": 1}}), capacity, 2) == [
        "⚠️ Model requirement: Model requires at least 2 GPU(s) per worker but configuration specifies 1"]
    assert fit_warnings(CreateDeployment.model_validate({**BASE, "computeType": "cpu"}), Capacity()) == []


class CountingScrapes(MetricsService):
    """Scrapes nothing: answers ``text`` (or fails) and counts how often it was asked."""

    def __init__(self, clock, fail: bool = False):
        super().__init__(None, clock=clock)
        self.calls = 0
        self.fail = fail
        self.release = asyncio.Event()

    async def _fetch(self, target, caller=None):
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise ScrapeFailed("HTTP 503: no endpoints available", 503)
        return "vllm:num_requests_running 1\n"


async def test_metrics_are_cached_and_shared():
    now = [1000.0]
    service = CountingScrapes(lambda: now[0])
    target = target_for("ns", "qwen", "vllm", None, None)
    assert (target.service, target.port) == ("qwen", 8000)
    assert target_for("ns", "g", "dynamo", None, 0).service == "g-frontend"
    first = [asyncio.create_task(service.deployment_metrics(target)) for _ in range(3)]
    await asyncio.sleep(0)
    service.release.set()
    answers = await asyncio.gather(*first)
    assert service.calls == 1 and all(a is answers[0] for a in answers)  # one scrape for simultaneous requests
    now[0] += 14.9
    assert await service.deployment_metrics(target) is answers[0] and service.calls == 1
    now[0] += 0.2
    await service.deployment_metrics(target)
    assert service.calls == 2  # a success is kept 15 s


async def test_failed_scrapes_are_cached_briefly():
    now = [0.0]
    service = CountingScrapes(lambda: now[0], fail=True)
    service.release.set()
    target = target_for("ns", "qwen", None, "svc", 9000)
    answer = await service.deployment_metrics(target)
    assert answer["available"] is False and answer["metrics"] == []
    assert answer["error"] == "Service unavailable. The deployment is starting up."
    now[0] += 4.9
    await service.deployment_metrics(target)
    assert service.calls == 1
    now[0] += 0.2
    await service.deployment_metrics(target)
    assert service.calls == 2  # a failure is kept 5 s


def test_scrape_url():
    target = target_for("team", "qwen", None, "qwen-svc", 8080)
    assert MetricsService(None, in_cluster=True).url(target) == "http://qwen-svc.team.svc.cluster.local:8080/metrics"
    assert MetricsService(None).url(target) is None  # through the API server's service proxy
    assert MetricsService(None, "http://127.0.0.1:9/{namespace}/{service}/{port}/{name}").url(target) == \
        "http://127.0.0.1:9/team/qwen-svc/8080/qwen"


class FakeCluster:
    """Just enough of a Client for the log path: one deployment with one pod whose log is colourful."""

    def __init__(self):
        self.log_queries = []

    async def get(self, resource, name, namespace=None):
        return {"metadata": {"name": name, "namespace": namespace}, "spec": {}}

    async def list_all(self, resource, namespace=None, *, label_selector=None, field_selector=None):
        pod = {"metadata": {"name": "qwen-0", "namespace": namespace, "labels": {"airunway.ai/deployment": "qwen"}},
               "spec": {"containers": [{"name": "sidecar"}, {"name": "vllm"}]}, "status": {"phase": "Running"}}
        matches = (label_selector or "").endswith("=qwen") or field_selector == "metadata.name=qwen-0"
        return type("Listed", (), {"items": [pod] if matches else []})()

    async def request_text(self, path, *, query=None, timeout=None):
        self.log_queries.append((path, query))
        return "\x1b[1;32mINFO\x1b[0m server ready\n\x1b[31mWARN\x1b[0m slow\n"


async def test_logs_strip_colours_and_pass_the_options():
    cluster = FakeCluster()
    service = DeploymentService(cluster, MetricsService(None))
    answer = await service.logs(None, "ns", "qwen", pod=None, container=None, tail_lines=50, timestamps=True)
    assert answer == {"logs": "INFO server ready\nWARN slow\n", "podName": "qwen-0", "container": "vllm"}
    assert cluster.log_queries == [("/api/v1/namespaces/ns/pods/qwen-0/log",
                                    {"tailLines": "50", "timestamps": "true", "container": "vllm"})]
