"""Create requests to ModelDeployments and ModelDeployments to the UI's DeploymentStatus (no cluster)."""

from __future__ import annotations

import pytest

from airunway.api import ModelDeployment
from airunway.server.schemas import CreateDeployment
from airunway.server.services.conversions import (
    deployment_status,
    manifest_answer,
    parse_frontend_service,
    to_manifest,
    with_storage_defaults,
)
from airunway.server.services.pods import pod_status, select


def request(**fields) -> CreateDeployment:
    return CreateDeployment.model_validate({"name": "qwen", "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm", **fields})


def test_minimal_request_gives_the_upstream_manifest():
    manifest = to_manifest(request(), "models")
    assert manifest == {
        "apiVersion": "airunway.ai/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "qwen", "namespace": "models", "labels": {
            "app.kubernetes.io/name": "airunway", "app.kubernetes.io/instance": "qwen",
            "app.kubernetes.io/managed-by": "airunway"}},
        "spec": {
            "model": {"id": "Qwen/Qwen3-0.6B", "source": "huggingface"},
            "engine": {"type": "vllm", "trustRemoteCode": False, "enablePrefixCaching": True, "enforceEager": False},
            "serving": {"mode": "aggregated"},
            "scaling": {"replicas": 1},
        },
    }
    ModelDeployment.model_validate(manifest)  # our own CRD model accepts it


def test_full_request_maps_every_field():
    req = request(
        provider="vllm", servedModelName="qwen-small", routerMode="kv", replicas=2, hfTokenSecret="hf",
        contextLength=4096, maxModelLen=2048, enforceEager=True, trustRemoteCode=True,
        resources={"gpu": 2, "memory": "32Gi"}, engineArgs={"gpu-memory-utilization": 0.85, "quantization": "awq",
                                                             "flag": True, "skip": None, "obj": {"a": [1]}},
        engineExtraArgs=["--disable-log-requests"], env={"VLLM_LOGGING_LEVEL": "DEBUG"},
        providerOverrides={"frontend": {"replicas": 2}}, imageRef="vllm/vllm-openai:v0.11.0", gatewayEnabled=False,
        recipeProvenance={"source": " recipes ", "id": "qwen3", "features": ["fp8"], "variant": "  "},
        storage={"volumes": [{"name": "cache", "purpose": "modelCache", "size": "100Gi"}]},
    )
    spec = to_manifest(req, "ns")["spec"]
    assert spec["model"] == {"id": "Qwen/Qwen3-0.6B", "servedName": "qwen-small", "source": "huggingface",
                             "storage": {"volumes": [{"name": "cache", "purpose": "modelCache", "readOnly": False,
                                                      "size": "100Gi"}]}}
    assert spec["engine"]["contextLength"] == 4096  # contextLength wins over maxModelLen
    assert spec["engine"]["image"] == "vllm/vllm-openai:v0.11.0" and "image" not in spec  # vllm: engine.image
    assert spec["engine"]["args"] == {"gpu-memory-utilization": "0.85", "quantization": "awq", "flag": "true",
                                      "obj": '{"a":[1]}'}
    assert spec["engine"]["extraArgs"] == ["--disable-log-requests"]
    assert spec["env"] == [{"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"}]
    assert spec["provider"] == {"name": "vllm", "overrides": {"frontend": {"replicas": 2}, "routerMode": "kv"}}
    assert spec["scaling"] == {"replicas": 2}
    assert spec["resources"] == {"gpu": {"count": 2, "type": "nvidia.com/gpu"}, "memory": "32Gi"}
    assert spec["secrets"] == {"huggingFaceToken": "hf"}
    assert spec["gateway"] == {"enabled": False}
    annotations = to_manifest(req, "ns")["metadata"]["annotations"]
    assert annotations == {"airunway.ai/generated-by": "vllm-recipe-resolver", "airunway.ai/recipe.source": "recipes",
                           "airunway.ai/recipe.id": "qwen3", "airunway.ai/recipe.features": '["fp8"]'}
    ModelDeployment.model_validate(to_manifest(req, "ns"))


def test_image_of_other_providers_is_the_legacy_top_level_image():
    spec = to_manifest(request(provider="dynamo", imageRef="my/image:1"), "ns")["spec"]
    assert spec["image"] == "my/image:1" and "image" not in spec["engine"]


def test_cpu_and_disaggregated_shapes():
    cpu = to_manifest(request(computeType="cpu", resources={"gpu": 4, "memory": "8Gi"}), "ns")["spec"]
    assert cpu["resources"] == {"gpu": {"count": 0, "type": "nvidia.com/gpu"}, "memory": "8Gi"}
    no_gpu = to_manifest(request(resources={"gpu": 0}), "ns")["spec"]
    assert "resources" not in no_gpu
    pd = to_manifest(request(mode="disaggregated", prefillReplicas=2, prefillGpus=4, decodeGpus=2), "ns")["spec"]
    assert pd["scaling"] == {"prefill": {"replicas": 2, "gpu": {"count": 4, "type": "nvidia.com/gpu"}},
                             "decode": {"replicas": 1, "gpu": {"count": 2, "type": "nvidia.com/gpu"}}}
    assert "resources" not in pd


@pytest.mark.parametrize("source, engine", [("vllm", "vllm"), ("huggingface", "llamacpp"), ("premade", "llamacpp")])
def test_kaito_engine_follows_the_model_source(source, engine):
    spec = to_manifest(request(provider="kaito", modelSource=source), "ns")["spec"]
    assert spec["engine"]["type"] == engine


def test_preview_fills_in_the_storage_defaults_without_overwriting():
    req = request(storage={"volumes": [
        {"name": "cache", "purpose": "modelCache", "size": "10Gi"},
        {"name": "comp", "purpose": "compilationCache", "claimName": "existing", "mountPath": "/cc"},
        {"name": "data", "mountPath": "/data", "claimName": "data", "accessMode": None},
    ]})
    volumes = with_storage_defaults(to_manifest(req, "ns"))["spec"]["model"]["storage"]["volumes"]
    assert volumes[0] == {"name": "cache", "purpose": "modelCache", "readOnly": False, "size": "10Gi",
                          "mountPath": "/model-cache", "claimName": "qwen-cache", "accessMode": "ReadWriteMany"}
    assert volumes[1]["mountPath"] == "/cc" and volumes[1]["claimName"] == "existing"
    assert volumes[2]["purpose"] == "custom" and "accessMode" not in volumes[2]
    answer = manifest_answer(to_manifest(req, "ns"))
    assert answer["primaryResource"] == {"kind": "ModelDeployment", "apiVersion": "airunway.ai/v1alpha1"}
    assert answer["resources"][0]["name"] == "qwen"


def pod(name, phase="Running", ready=True, node="gpu-node-0", waiting=None, restarts=0, labels=None):
    state = {"waiting": {"reason": waiting, "message": f"{waiting}!"}} if waiting else {"running": {}}
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels or {}},
            "spec": {"nodeName": node} if node else {},
            "status": {"phase": phase, "containerStatuses": [{"name": "main", "ready": ready, "restartCount": restarts,
                                                              "state": state}],
                       "initContainerStatuses": [{"name": "init", "restartCount": 1}]}}


def md(status=None, **spec):
    return {"metadata": {"name": "qwen", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}, **spec}, "status": status or {}}


def test_pod_status_fields():
    shown = pod_status(pod("p", waiting="ImagePullBackOff", ready=False, restarts=3))
    assert shown == {"name": "p", "phase": "Running", "ready": False, "restarts": 4, "node": "gpu-node-0",
                     "reason": "ImagePullBackOff", "message": "ImagePullBackOff!"}
    bare = pod_status({"metadata": {"name": "q"}, "status": {"reason": "Evicted", "message": "low memory"}})
    assert bare == {"name": "q", "phase": "Unknown", "ready": False, "restarts": 0, "reason": "Evicted",
                    "message": "low memory"}


def test_reported_status_wins():
    shown = deployment_status(md({"phase": "Running", "replicas": {"desired": 2, "ready": 1},
                                  "provider": {"name": "vllm"}, "endpoint": {"service": "qwen-svc", "port": 8000}}),
                              [])
    assert shown["replicas"] == {"desired": 2, "ready": 1, "available": 0}
    assert shown["phase"] == "Running"  # no pods to say otherwise: the reported phase stands
    assert shown["provider"] == "vllm" and shown["frontendService"] == "qwen-svc:8000"
    assert shown["createdAt"] == "2026-01-01T00:00:00Z" and shown["mode"] == "aggregated"


def test_phase_from_pods():
    statuses = lambda *pods: [pod_status(p) for p in pods]  # noqa: E731
    assert deployment_status(md(), statuses(pod("a")))["phase"] == "Running"
    assert deployment_status(md(scaling={"replicas": 2}), statuses(pod("a", ready=False)))["phase"] == "Deploying"
    assert deployment_status(md(), statuses(pod("a", phase="Pending", ready=False, node=None)))["phase"] == "Pending"
    assert deployment_status(md(), statuses(pod("a", ready=False, waiting="CrashLoopBackOff")))["phase"] == "Failed"
    assert deployment_status(md({"phase": "Terminating"}), statuses(pod("a")))["phase"] == "Terminating"
    assert deployment_status(md({"phase": "Failed"}), [])["phase"] == "Failed"
    shown = deployment_status(md(scaling={"replicas": 3}, status=None), statuses(pod("a"), pod("b")))
    assert shown["replicas"] == {"desired": 3, "ready": 3, "available": 3}  # all pods ready: desired counts as ready
    assert shown["frontendService"] == "qwen" and shown["provider"] == "unknown"


def test_disaggregated_replicas_add_up():
    shown = deployment_status(md(serving={"mode": "disaggregated"}, scaling={"prefill": {"replicas": 2},
                                                                            "decode": {"replicas": 4}}), [])
    assert shown["replicas"] == {"desired": 6, "ready": 0, "available": 0} and shown["mode"] == "disaggregated"


def test_frontend_service_parsing():
    assert parse_frontend_service("svc:8080") == ("svc", 8080)
    assert parse_frontend_service("svc") == ("svc", None)
    assert parse_frontend_service("svc:http") == ("svc", None)
    assert parse_frontend_service("svc:0") == ("svc", None)
    assert parse_frontend_service("") is None


def test_pod_selection_by_provider_labels():
    pods = [
        pod("a", labels={"airunway.ai/deployment": "qwen"}),
        pod("b", labels={"ray.io/cluster": "qwen-raycluster-x7"}),
        pod("c", labels={"ray.io/cluster": "qwen2"}),
        pod("d", labels={"app": "qwen"}),
        pod("e", labels={"kaito.sh/workspace": "other"}),
    ]
    assert [p["metadata"]["name"] for p in select(pods, "qwen")] == ["a", "b"]
    assert [p["metadata"]["name"] for p in select(pods[3:], "qwen")] == ["d"]  # app= only when nothing else
