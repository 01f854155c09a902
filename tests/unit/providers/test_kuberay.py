"""KubeRay provider: registration, compatibility, the RayService transformation and the status mapping (no cluster)."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import pytest
import yaml

from airunway.api.modeldeployment import EngineStatus, ModelDeployment
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.kube.errors import NotFound
from airunway.kube.informer import CacheNotSynced
from airunway.kube.resources import Key
from airunway.providers import registry
from airunway.providers.descriptor import ProviderFlags
from airunway.providers.kuberay import PROVIDER, KubeRayReconciler, config
from airunway.providers.kuberay.config import rayservice_crd_served
from airunway.providers.kuberay.reconciler import compatibility_problem, config_changed
from airunway.providers.kuberay.status import (
    error_message,
    is_ready,
    string_value,
    translate,
)
from airunway.providers.kuberay.transform import (
    DEFAULT_IMAGE,
    engine_args,
    head_group,
    image,
    rayservice,
    serve_config,
    worker_groups,
)
from airunway.providers.registration import provider_version

from support import DATA

EXAMPLES = DATA / "modeldeployments"


def deployment(spec: dict, name: str = "llm", namespace: str = "ns", **meta) -> tuple[ModelDeployment, dict]:
    raw = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
           "metadata": {"name": name, "namespace": namespace, "uid": "uid-1", **meta}, "spec": spec}
    return ModelDeployment.model_validate(raw), raw


def vllm(gpu: int = 2, **spec) -> dict:
    return {"model": {"id": "org/model"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": gpu}}, **spec}


def example(name: str) -> tuple[ModelDeployment, dict]:
    raw = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    raw["metadata"].update(namespace="default", uid="uid-1")
    return ModelDeployment.model_validate(raw), raw


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# --------------------------------------------------------------------------------------------- registration


def test_config_spec_matches_the_shipped_copy():
    shipped = yaml.safe_load(
        (resources.files("airunway.policy") / "default_providers" / "kuberay.yaml").read_text(encoding="utf-8"))
    cfg = config()
    assert cfg.name == "kuberay" == shipped["metadata"]["name"]
    assert cfg.spec == shipped["spec"]
    InferenceProviderConfig.model_validate({"metadata": {"name": "kuberay"}, "spec": cfg.spec})


def test_config_capabilities_rules_and_status_facts():
    cfg = config()
    assert cfg.spec["capabilities"]["engines"] == [
        {"name": "vllm", "servingModes": ["aggregated", "disaggregated"], "gpuSupport": True}]
    assert cfg.spec["selectionRules"] == [{
        "condition": "has(spec.resources.gpu) && spec.resources.gpu.count > 1 && spec.engine.type == 'vllm'",
        "priority": 80}]
    assert cfg.upstream_crd_version == "ray.io/v1"
    assert cfg.readiness is rayservice_crd_served
    assert provider_version(cfg.name).startswith("kuberay-provider:")


def test_annotations_carry_discovery_metadata_and_installation():
    annotations = config().annotations
    assert annotations["airunway.ai/display-name"] == "KubeRay"
    assert annotations["airunway.ai/default-namespace"] == "ray-system"
    assert annotations["airunway.ai/documentation-url"].endswith("/docs/providers/kuberay.md")
    assert annotations["airunway.ai/documentation"] == annotations["airunway.ai/documentation-url"]
    assert json.loads(annotations["airunway.ai/capabilities"]) == config().spec["capabilities"]
    health = json.loads(annotations["airunway.ai/health"])
    assert health["crds"] == [{"name": "rayservices.ray.io", "displayName": "KubeRay RayService CRD"}]
    assert health["operatorPods"][0]["namespace"] == "ray-system"
    assert health["operatorPods"][1] == {"selectors": ["app.kubernetes.io/name=kuberay-operator"]}

    ipc = InferenceProviderConfig.model_validate({"metadata": {"name": "kuberay", "annotations": annotations}})
    install = ipc.installation()
    assert install.description == annotations["airunway.ai/description"] == (
        "Ray Serve via KubeRay for distributed Ray-based model serving with vLLM")
    assert install.default_namespace == "ray-system"
    assert [(r.name, r.url) for r in install.helm_repos] == [("kuberay", "https://ray-project.github.io/kuberay-helm/")]
    chart = install.helm_charts[0]
    assert (chart.name, chart.chart, chart.version, chart.namespace, chart.create_namespace) == (
        "kuberay-operator", "kuberay/kuberay-operator", "1.3.0", "ray-system", True)
    assert [s.command for s in install.steps] == [
        "helm repo add kuberay https://ray-project.github.io/kuberay-helm/",
        "helm repo update",
        "helm upgrade --install kuberay-operator kuberay/kuberay-operator --version 1.3.0 -n ray-system "
        "--create-namespace --wait",
    ]


class DiscoveryClient:
    """Answers discovery of ray.io/v1 from a list that the test changes between calls."""

    def __init__(self, plurals):
        self.plurals = plurals
        self.calls = 0

    async def request(self, method, path, **_):
        assert (method, path) == ("GET", "/apis/ray.io/v1")
        self.calls += 1
        if self.plurals is None:
            raise NotFound(404, "NotFound", "the server could not find the requested resource")
        return {"resources": [{"name": p} for p in self.plurals]}


def test_readiness_is_fresh_discovery_of_rayservices():
    client = DiscoveryClient(None)
    check = rayservice_crd_served
    assert asyncio.run(check(client)) is False
    client.plurals = ["rayclusters", "rayservices", "rayservices/status"]
    assert asyncio.run(check(client)) is True
    client.plurals = ["rayclusters"]
    assert asyncio.run(check(client)) is False
    assert client.calls == 3


def test_the_provider_is_found_by_name():
    assert registry.provider("kuberay") is PROVIDER and PROVIDER.config().name == "kuberay"
    assert isinstance(PROVIDER.build(object(), object(), ProviderFlags()), KubeRayReconciler)


# --------------------------------------------------------------------------------------------- compatibility


@pytest.mark.parametrize(("spec", "problem"), [
    (vllm(gpu=1), None),
    (vllm(gpu=8), None),
    ({**vllm(gpu=1), "engine": {"type": "sglang"}}, "KubeRay only supports vllm engine, got sglang"),
    ({**vllm(gpu=1), "engine": {"type": "trtllm"}}, "KubeRay only supports vllm engine, got trtllm"),
    ({**vllm(gpu=0), "engine": {"type": "llamacpp"}}, "KubeRay only supports vllm engine, got llamacpp"),
    (vllm(gpu=0), "KubeRay requires GPU (set resources.gpu.count > 0)"),
    ({"model": {"id": "org/model"}, "engine": {"type": "vllm"}}, "KubeRay requires GPU (set resources.gpu.count > 0)"),
    ({**vllm(gpu=0), "serving": {"mode": "disaggregated"},
      "scaling": {"prefill": {"gpu": {"count": 1}}, "decode": {"gpu": {"count": 1}}}}, None),
    ({**vllm(gpu=0), "serving": {"mode": "disaggregated"}, "scaling": {"decode": {"gpu": {"count": 1}}}},
     "KubeRay requires GPU (set resources.gpu.count > 0)"),
    ({**vllm(gpu=0), "scaling": {"prefill": {"gpu": {"count": 1}}}},
     "KubeRay requires GPU (set resources.gpu.count > 0)"),  # prefill GPUs only count when disaggregated
])
def test_compatibility(spec, problem):
    md, _ = deployment(spec)
    assert compatibility_problem(md) == problem


def test_compatibility_uses_the_engine_the_controller_selected():
    md, _ = deployment({"model": {"id": "org/model"}, "resources": {"gpu": {"count": 2}}})
    assert compatibility_problem(md) == "KubeRay only supports vllm engine, got "
    md.status.engine = EngineStatus(type="vllm")
    assert compatibility_problem(md) is None


# --------------------------------------------------------------------------------------------- transformation


def test_aggregated_rayservice():
    md, raw = deployment(vllm(gpu=2))
    rs = rayservice(md)
    assert (rs["apiVersion"], rs["kind"]) == ("ray.io/v1", "RayService")
    assert rs["metadata"]["name"] == "llm" and rs["metadata"]["namespace"] == "ns"
    assert rs["metadata"]["ownerReferences"] == [{
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "name": "llm", "uid": "uid-1",
        "controller": True, "blockOwnerDeletion": True}]
    assert rs["metadata"]["labels"] == {
        "airunway.ai/managed-by": "airunway", "airunway.ai/deployment": "llm",
        "airunway.ai/model-source": "huggingface", "airunway.ai/engine-type": "vllm"}
    assert "annotations" not in rs["metadata"]
    assert yaml.safe_load(rs["spec"]["serveConfigV2"]) == {"applications": [{
        "name": "llm", "route_prefix": "/", "import_path": "vllm_serve:deployment",
        "deployments": [{"name": "VLLMDeployment", "num_replicas": 1}]}]}
    cluster = rs["spec"]["rayClusterConfig"]
    assert cluster["headGroupSpec"] == head_group(md)
    [group] = cluster["workerGroupSpecs"]
    assert group == {
        "groupName": "gpu-workers", "replicas": 1, "minReplicas": 1, "maxReplicas": 1, "rayStartParams": {},
        "template": {"metadata": {"labels": {"airunway.ai/model-deployment": "llm"}},
                     "spec": {"containers": [{"name": "ray-worker", "image": DEFAULT_IMAGE,
                                              "resources": {"limits": {"nvidia.com/gpu": "2", "memory": "32Gi"}}}]}},
    }


def test_serve_config_is_written_like_go_yaml():
    md, _ = deployment(vllm(scaling={"replicas": 3}))
    assert serve_config(md) == (
        "applications:\n"
        "- deployments:\n"
        "  - name: VLLMDeployment\n"
        "    num_replicas: 3\n"
        "  import_path: vllm_serve:deployment\n"
        "  name: llm\n"
        "  route_prefix: /\n"
    )


@pytest.mark.parametrize(("replicas", "expected"), [(3, 3), (1, 1), (0, 1)])
def test_scaling_sets_serve_replicas_and_the_worker_group(replicas, expected):
    md, _ = deployment(vllm(scaling={"replicas": replicas}))
    [group] = worker_groups(md)
    assert (group["replicas"], group["minReplicas"], group["maxReplicas"]) == (expected,) * 3
    assert f"num_replicas: {expected}\n" in serve_config(md)


def test_disaggregated_worker_groups():
    md, _ = deployment({**vllm(gpu=0), "serving": {"mode": "disaggregated"}, "scaling": {
        "prefill": {"replicas": 2, "gpu": {"count": 4}, "memory": "128Gi"},
        "decode": {"replicas": 3, "gpu": {"count": 2, "type": "amd.com/gpu"}}}})
    prefill, decode = worker_groups(md)
    assert (prefill["groupName"], prefill["replicas"], prefill["minReplicas"], prefill["maxReplicas"]) == (
        "prefill-workers", 2, 2, 2)
    assert prefill["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "nvidia.com/gpu": "4", "memory": "128Gi"}
    assert (decode["groupName"], decode["replicas"]) == ("decode-workers", 3)
    assert decode["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "amd.com/gpu": "2", "memory": "32Gi"}
    for group in (prefill, decode):
        container = group["template"]["spec"]["containers"][0]
        assert "env" not in container and container["name"] == "ray-worker"


def test_disaggregated_groups_only_for_the_components_given():
    md, _ = deployment({**vllm(gpu=0), "serving": {"mode": "disaggregated"},
                        "scaling": {"decode": {"replicas": 1, "gpu": {"count": 1}}}})
    assert [g["groupName"] for g in worker_groups(md)] == ["decode-workers"]


def test_seed_disaggregated_example_renders_six_gpu_workers():
    md, raw = example("llama-70b-pd")
    groups = rayservice(md)["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    assert [(g["groupName"], g["replicas"], g["template"]["spec"]["containers"][0]["resources"]["limits"])
            for g in groups] == [
        ("prefill-workers", 2, {"nvidia.com/gpu": "4", "memory": "128Gi"}),
        ("decode-workers", 4, {"nvidia.com/gpu": "2", "memory": "64Gi"}),
    ]
    # the Dynamo-specific overrides are not KubeRay's business
    assert "routerMode" not in json.dumps(rayservice(md))


def test_pod_template_labels_and_annotations_go_on_the_rayservice():
    md, raw = deployment(vllm(podTemplate={"metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}}}),
                         labels={"airunway.ai/tier": "gold", "other": "no"})
    meta = rayservice(md)["metadata"]
    assert meta["labels"]["team"] == "a"
    assert meta["labels"]["airunway.ai/tier"] == "gold"
    assert "other" not in meta["labels"]
    assert meta["annotations"] == {"note": "x"}


def test_engine_args_string():
    md, _ = deployment({**vllm(), "model": {"id": "org/model", "servedName": "m"},
                        "engine": {"type": "vllm", "contextLength": 8192, "trustRemoteCode": True}})
    assert engine_args(md) == "--model org/model --max-model-len 8192 --served-model-name m --trust-remote-code"


def test_engine_args_custom_flags_sorted_and_unchecked():
    md, _ = deployment({**vllm(), "engine": {"type": "vllm", "args": {
        "tensor-parallel-size": "2", "enforce-eager": "", "block_size": "16"}}})
    assert engine_args(md) == "--model org/model --block_size 16 --enforce-eager --tensor-parallel-size 2"
    assert engine_args(md) == engine_args(md)
    # prefix caching, eager mode and extraArgs are not rendered by KubeRay
    md, _ = deployment({**vllm(), "engine": {"type": "vllm", "enforceEager": True, "extraArgs": ["--x"]}})
    assert engine_args(md) == "--model org/model"


def test_head_group():
    md, _ = deployment({**vllm(), "env": [
        {"name": "A", "value": "1"},
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ], "secrets": {"huggingFaceToken": "hf"}})
    head = head_group(md)
    assert head["rayStartParams"] == {"dashboard-host": "0.0.0.0"}
    assert head["template"]["metadata"] == {"labels": {"airunway.ai/model-deployment": "llm"}}
    [container] = head["template"]["spec"]["containers"]
    assert container["name"] == "ray-head"
    assert container["resources"] == {"limits": {"cpu": "4", "memory": "16Gi"}}
    assert container["env"] == [
        {"name": "MODEL_ID", "value": "org/model"},
        {"name": "VLLM_ENGINE_ARGS", "value": "--model org/model"},
        {"name": "A", "value": "1"},
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        {"name": "C"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "HF_TOKEN"}}},
    ]


def test_custom_memory_applies_to_head_and_workers():
    md, _ = deployment({**vllm(), "resources": {"gpu": {"count": 2, "type": "intel.com/gpu"}, "memory": "64Gi"}})
    assert head_group(md)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "64Gi"
    [group] = worker_groups(md)
    assert group["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "intel.com/gpu": "2", "memory": "64Gi"}


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, DEFAULT_IMAGE),
    ({"image": "legacy:1"}, "legacy:1"),
    ({"image": "legacy:1", "engine": {"type": "vllm", "image": "preferred:2"}}, "preferred:2"),
])
def test_image(spec, expected):
    md, raw = deployment({**vllm(), **spec})
    assert image(md) == expected
    cluster = rayservice(md)["spec"]["rayClusterConfig"]
    images = {c["image"] for g in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
              for c in g["template"]["spec"]["containers"]}
    assert images == {expected}


def test_ignored_fields_leave_the_rayservice_unchanged():
    md, raw = deployment(vllm())
    plain = rayservice(md)
    md, raw = deployment({**vllm(), "nodeSelector": {"pool": "gpu"},
                          "tolerations": [{"key": "gpu", "operator": "Exists"}],
                          "provider": {"name": "kuberay", "overrides": {"spec": {"serveConfigV2": "x"}}},
                          "model": {"id": "org/model", "storage": {"volumes": [{"name": "c", "claimName": "c"}]}}})
    assert rayservice(md) == plain


# --------------------------------------------------------------------------------------------- status


def rs_with(status=None, groups=(2,), name="llm") -> dict:
    obj = {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": name},
           "spec": {"rayClusterConfig": {"workerGroupSpecs": [{"groupName": f"g{i}", "replicas": r}
                                                               for i, r in enumerate(groups)]}}}
    if status is not None:
        obj["status"] = status
    return obj


def cond(type_, status, message="", reason=""):
    return {"type": type_, "status": status, "message": message, "reason": reason}


def apps(**statuses):
    return {"activeServiceStatus": {"applicationStatuses": {
        name: ({"status": s} if isinstance(s, str) else s) for name, s in statuses.items()}}}


def test_no_status_is_pending_with_endpoint_and_replicas():
    observed = translate(rs_with())
    assert (observed.phase, observed.message) == ("Pending", "")
    assert observed.endpoint.to_dict() == {"service": "llm-serve-svc", "port": 8000}
    assert observed.replicas.to_dict() == {"desired": 2, "ready": 0, "available": 0}


@pytest.mark.parametrize("type_", ["RayServiceReady", "Ready"])
def test_ready_condition(type_):
    assert translate(rs_with({"conditions": [cond(type_, "True")]})).phase == "Running"
    observed = translate(rs_with({"conditions": [cond(type_, "False", "waiting for pods")]}))
    assert (observed.phase, observed.message) == ("Deploying", "waiting for pods")
    assert translate(rs_with({"conditions": [cond(type_, "Unknown")]})).phase == "Pending"


def test_upstream_condition_type_wins_over_kuberays():
    status = {"conditions": [cond("Ready", "False", "no"), cond("RayServiceReady", "True")]}
    assert translate(rs_with(status)).phase == "Running"


@pytest.mark.parametrize("reason", ["InitializingTimeout", "ValidationFailed"])
def test_final_kuberay_reasons_fail(reason):
    observed = translate(rs_with({"conditions": [cond("Ready", "False", "gave up", reason)]}))
    assert (observed.phase, observed.message) == ("Failed", "gave up")
    observed = translate(rs_with({"conditions": [cond("Ready", "False", "", reason)]}))
    assert (observed.phase, observed.message) == ("Failed", reason)


def test_application_statuses_override_the_condition():
    running = translate(rs_with({"conditions": [cond("Ready", "False", "old news")], **apps(llm="RUNNING")},
                                groups=(2, 4)))
    assert (running.phase, running.message) == ("Running", "")
    assert running.replicas.to_dict() == {"desired": 6, "ready": 6, "available": 6}

    failed = translate(rs_with({"conditions": [cond("Ready", "True")],
                                **apps(llm={"status": "DEPLOY_FAILED", "message": "vllm crashed"})}))
    assert (failed.phase, failed.message) == ("Failed", "vllm crashed")
    assert failed.replicas.ready == 0

    deploying = translate(rs_with({"conditions": [cond("Ready", "True")], **apps(llm="DEPLOYING")}))
    assert deploying.phase == "Deploying"


def test_mixed_and_empty_application_statuses():
    assert translate(rs_with(apps(a="RUNNING", b="DEPLOYING"))).phase == "Deploying"
    mixed = translate(rs_with(apps(a="RUNNING", b="DEPLOY_FAILED")))
    assert (mixed.phase, mixed.message) == ("Failed", "deployment failed")
    empty = translate(rs_with({"activeServiceStatus": {"applicationStatuses": {}}}))
    assert empty.phase == "Pending" and empty.replicas.ready == 0


def test_malformed_status_entries_are_skipped():
    status = {"conditions": ["junk", {"type": "Ready"}, {"status": "True"}, cond("Ready", "True")],
              "activeServiceStatus": {"applicationStatuses": {"bad": "RUNNING"}}}
    assert translate(rs_with(status)).phase == "Running"
    assert translate(rs_with({"conditions": "junk", "activeServiceStatus": []})).phase == "Pending"
    broken = {"metadata": {"name": "x"}, "spec": {"rayClusterConfig": {"workerGroupSpecs": [
        {"replicas": 2}, {"replicas": "3"}, "junk", {"replicas": True}]}}, "status": "junk"}
    observed = translate(broken)
    assert (observed.phase, observed.replicas.desired) == ("Pending", 2)


@pytest.mark.parametrize(("status", "ready"), [
    (None, False),
    ({"conditions": [cond("RayServiceReady", "True")]}, True),
    ({"conditions": [cond("Ready", "True")]}, True),
    ({"conditions": [cond("Ready", "False")], **apps(llm="RUNNING")}, False),
    (apps(llm="RUNNING"), True),
    (apps(llm="RUNNING", other="DEPLOYING"), False),
    (apps(), False),
])
def test_is_ready(status, ready):
    assert is_ready(rs_with(status)) is ready


@pytest.mark.parametrize(("obj", "message"), [
    (None, "resource not found"),
    (rs_with(), "deployment failed"),
    (rs_with(apps(llm={"status": "DEPLOY_FAILED", "message": "boom"})), "boom"),
    (rs_with({"conditions": [cond("Ready", "False", "not yet")]}), "not yet"),
    (rs_with({"conditions": [cond("Ready", "False", "not yet")],
              **apps(llm={"status": "DEPLOY_FAILED", "message": "boom"})}), "boom"),
    (rs_with({"conditions": [cond("Ready", "True", "fine")]}), "deployment failed"),
])
def test_error_message(obj, message):
    assert error_message(obj) == message


def test_string_value():
    assert string_value({"a": "x"}, "a") == "x"
    assert string_value({"a": 1}, "a") == ""
    assert string_value({}, "a") == ""
    assert string_value(None, "a") == ""


# --------------------------------------------------------------------------------------------- reconciler pieces


class FakeCache:
    def __init__(self, items=None):
        self.items = items

    def list(self, resource, copy=True):
        if self.items is None:
            raise CacheNotSynced("not yet")
        return self.items


def md_obj(name, status_provider=None, spec_provider=None):
    obj = {"metadata": {"name": name, "namespace": "ns"}, "spec": {}}
    if spec_provider:
        obj["spec"]["provider"] = {"name": spec_provider}
    if status_provider:
        obj["status"] = {"provider": {"name": status_provider}}
    return obj


def test_a_config_change_requeues_the_deployments_bound_to_kuberay():
    cache = FakeCache([md_obj("a", status_provider="kuberay"), md_obj("b", spec_provider="kuberay"),
                       md_obj("c", status_provider="dynamo"), md_obj("d")])
    reconciler = KubeRayReconciler(object(), cache)
    assert reconciler.deployments_for_config({"metadata": {"name": "kuberay"}}) == [Key("ns", "a"), Key("ns", "b")]
    assert reconciler.deployments_for_config({"metadata": {"name": "dynamo"}}) == []
    assert KubeRayReconciler(object(), FakeCache()).deployments_for_config({"metadata": {"name": "kuberay"}}) == []


def test_only_readiness_or_spec_changes_of_the_config_count():
    base = {"spec": {"x": 1}, "status": {"ready": True, "lastHeartbeat": "t1"}}
    assert not config_changed(base, {**base, "status": {"ready": True, "lastHeartbeat": "t2"}})
    assert config_changed(base, {**base, "status": {"ready": False}})
    assert config_changed(base, {**base, "spec": {"x": 2}})


class FakeController:
    def __init__(self):
        self.owned, self.watched = [], []

    def owns(self, resource, **_):
        self.owned.append(resource)
        return self

    def watches(self, resource, map_fn, **kwargs):
        self.watched.append((resource, map_fn, kwargs))
        return self


def test_the_rayservice_watch_starts_once_the_crd_is_served():
    client = DiscoveryClient(None)
    reconciler = KubeRayReconciler(client, FakeCache([]))
    controller = FakeController()
    reconciler.setup(controller)
    assert controller.owned == []
    assert [r.plural for r, _, _ in controller.watched] == ["inferenceproviderconfigs"]

    asyncio.run(reconciler.watch_rayservices())
    assert controller.owned == [] and not reconciler.watching_rayservices
    client.plurals = ["rayservices"]
    asyncio.run(reconciler.watch_rayservices())
    asyncio.run(reconciler.watch_rayservices())
    assert [r.plural for r in controller.owned] == ["rayservices"]
    assert client.calls == 2, "no discovery once the watch runs"


def test_a_failed_write_names_the_rayservice():
    reconciler = KubeRayReconciler(object(), FakeCache([]))
    assert reconciler.create_failed_message(RuntimeError("forbidden")) == "Failed to create RayService: forbidden"
