"""Direct vLLM provider: registration, compatibility, image resolution, the Deployment + Service transformation and
the Deployment → ModelDeployment status mapping (no cluster; the registry is a stand-in on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import pytest
import yaml

from airunway.api.modeldeployment import ModelDeployment
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.providers import workloads
from airunway.providers.objects import TransformError
from airunway.providers.registration import provider_version
from airunway.providers.vllm import VLLMFlags, build, config, registry_endpoints
from airunway.providers.vllm.config import DEFAULT_IMAGE
from airunway.providers.vllm.image import (
    RegistryResolver,
    Resolved,
    ResolveError,
    age_of,
    parse,
    resolve_image_status,
    source_of,
)
from airunway.providers.vllm.reconciler import VLLMReconciler, compatibility_problem
from airunway.providers.vllm.transform import transform

from fakes.registry import Registry

DIGEST = "sha256:" + "ab" * 32


def deployment(spec: dict, name: str = "llm", namespace: str = "ns", status: dict | None = None,
               **meta) -> tuple[ModelDeployment, dict]:
    raw = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
           "metadata": {"name": name, "namespace": namespace, "uid": "uid-1", "generation": 3, **meta},
           "spec": spec, "status": status or {}}
    return ModelDeployment.model_validate(raw), raw


def vllm(gpu: int = 1, **spec) -> dict:
    return {"model": {"id": "org/model"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": gpu}}, **spec}


def render(spec: dict, **kw) -> list[dict]:
    md, raw = deployment(spec, **kw)
    return transform(md)


def container_of(spec: dict, **kw) -> dict:
    return render(spec, **kw)[0]["spec"]["template"]["spec"]["containers"][0]


def args_of(spec: dict) -> list[str]:
    return container_of(spec)["args"]


def conditions(md: ModelDeployment) -> dict:
    return {c.type: (c.status, c.reason) for c in md.status.conditions or []}


# --------------------------------------------------------------------------------------------- registration


def test_config_spec_matches_the_shipped_copy():
    shipped = yaml.safe_load(
        (resources.files("airunway.policy") / "default_providers" / "vllm.yaml").read_text(encoding="utf-8"))
    cfg = config()
    assert cfg.name == "vllm" == shipped["metadata"]["name"]
    assert cfg.spec == shipped["spec"]
    assert "selectionRules" not in cfg.spec  # explicit selection only
    InferenceProviderConfig.model_validate({"metadata": {"name": "vllm"}, "spec": cfg.spec})


def test_config_is_gpu_only_aggregated_and_always_ready():
    cfg = config()
    assert cfg.spec["capabilities"]["engines"] == [
        {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True, "cpuSupport": False}]
    assert cfg.upstream_crd_version == "apps/v1"
    assert cfg.readiness is None  # no upstream operator: ready while the process runs
    assert provider_version(cfg.name).startswith("vllm-provider:")
    assert DEFAULT_IMAGE == "vllm/vllm-openai:cu130-nightly"


def test_annotations_are_only_installation_and_documentation():
    annotations = config().annotations
    assert set(annotations) == {"airunway.ai/installation", "airunway.ai/documentation"}
    assert annotations["airunway.ai/documentation"] == (
        "https://github.com/kaito-project/airunway/tree/main/docs/providers/vllm.md")
    install = json.loads(annotations["airunway.ai/installation"])
    assert install["description"].startswith("vLLM provider: deploys vLLM Deployments + Services directly.")
    commands = [s["command"] for s in install["steps"]]
    assert commands[0].endswith("/v0.17.0/deployments/static/nvidia-device-plugin.yml")
    assert commands[1] == ("kubectl create secret generic vllm-hf-token --from-literal=HF_TOKEN=<your-token> "
                           "-n <model-namespace>")


def test_registry_endpoints_from_the_environment(monkeypatch):
    assert registry_endpoints("") == {}
    assert registry_endpoints(" default=http://127.0.0.1:5000 , mirror.test=https://m.test/ ") == {
        "default": "http://127.0.0.1:5000", "mirror.test": "https://m.test/"}
    with pytest.raises(ValueError, match="REGISTRY=http"):
        registry_endpoints("default=ftp://x")
    monkeypatch.setenv("AIRUNWAY_VLLM_REGISTRY_ENDPOINTS", "default=http://127.0.0.1:1")
    reconciler = build(None, None, VLLMFlags())
    assert isinstance(reconciler, VLLMReconciler)
    assert reconciler.resolver.endpoints == {"default": "http://127.0.0.1:1"}


# --------------------------------------------------------------------------------------------- compatibility


@pytest.mark.parametrize("spec, problem", [
    (vllm(), None),
    (vllm(4), None),
    (vllm(engine={"type": "sglang"}), "vLLM provider only supports vllm engine, got sglang"),
    (vllm(engine={"type": "trtllm"}), "vLLM provider only supports vllm engine, got trtllm"),
    (vllm(0), "vLLM provider requires GPU resources (spec.resources.gpu.count > 0)"),
    ({"model": {"id": "org/model"}, "engine": {"type": "vllm"}},
     "vLLM provider requires GPU resources (spec.resources.gpu.count > 0)"),
    (vllm(serving={"mode": "disaggregated"}, scaling={
        "prefill": {"replicas": 1, "gpu": {"count": 1}}, "decode": {"replicas": 1, "gpu": {"count": 1}}}),
     "vLLM provider does not support disaggregated serving mode; use spec.serving.mode: aggregated"),
    ({"model": {"id": "org/model"}, "engine": {"type": "vllm"}, "serving": {"mode": "disaggregated"}},
     "vLLM provider does not support disaggregated serving mode; use spec.serving.mode: aggregated"),
])
def test_compatibility(spec, problem):
    md, _ = deployment(spec)
    assert compatibility_problem(md) == problem


# --------------------------------------------------------------------------------------------- transformation


def test_aggregated_renders_a_deployment_and_a_service():
    dep, svc = render(vllm(), status={"image": {"resolved": f"vllm/vllm-openai@{DIGEST}"}})
    assert (dep["apiVersion"], dep["kind"], dep["metadata"]["name"], dep["metadata"]["namespace"]) == (
        "apps/v1", "Deployment", "llm", "ns")
    owner = dep["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"], owner["blockOwnerDeletion"]) == (
        "ModelDeployment", "llm", "uid-1", True, True)
    assert dep["metadata"]["labels"] == {
        "airunway.ai/managed-by": "airunway", "airunway.ai/deployment": "llm",
        "airunway.ai/model-source": "huggingface", "airunway.ai/engine-type": "vllm"}
    assert dep["spec"]["replicas"] == 1
    assert dep["spec"]["selector"] == {"matchLabels": {"airunway.ai/deployment": "llm", "app": "llm"}}
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["name"] == "vllm" and "command" not in c
    assert c["image"] == f"vllm/vllm-openai@{DIGEST}"
    assert c["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert c["resources"] == {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}}
    assert "volumes" not in dep["spec"]["template"]["spec"]
    assert (svc["kind"], svc["metadata"]["name"], svc["spec"]["type"]) == ("Service", "llm", "ClusterIP")
    assert svc["spec"]["selector"] == {"airunway.ai/deployment": "llm", "app": "llm"}
    assert svc["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": 8000, "protocol": "TCP"}]
    assert svc["metadata"]["ownerReferences"] == dep["metadata"]["ownerReferences"]


def test_images():
    assert container_of(vllm())["image"] == DEFAULT_IMAGE
    assert container_of(vllm(engine={"type": "vllm", "image": "me/vllm:1"}, image="legacy:2"))["image"] == "me/vllm:1"
    assert container_of(vllm(image="legacy:2"))["image"] == "legacy:2"
    # The user's image stays as written even when a resolved digest is recorded.
    kept = container_of(vllm(engine={"type": "vllm", "image": "me/vllm:1"}),
                        status={"image": {"resolved": f"me/vllm@{DIGEST}"}})
    assert kept["image"] == "me/vllm:1"


def test_args_start_with_networking_then_derived_flags_then_sorted_args_then_extra_args():
    spec = vllm(2, model={"id": "org/model", "servedName": "m"},
                engine={"type": "vllm", "contextLength": 4096, "trustRemoteCode": True, "enforceEager": True,
                        "enablePrefixCaching": True, "args": {"zeta": "1", "alpha": "", "gpu-memory-utilization": "0.9"},
                        "extraArgs": ["--raw-flag", "raw-value"]})
    assert args_of(spec) == [
        "--host", "0.0.0.0", "--port", "8000", "--model", "org/model", "--served-model-name", "m",
        "--max-model-len", "4096", "--trust-remote-code", "--enforce-eager", "--enable-prefix-caching",
        "--tensor-parallel-size", "2", "--alpha", "--gpu-memory-utilization", "0.9", "--zeta", "1",
        "--raw-flag", "raw-value"]


def test_optional_flags_are_omitted_when_off():
    args = args_of(vllm(engine={"type": "vllm", "enforceEager": False, "enablePrefixCaching": False}))
    assert args == ["--host", "0.0.0.0", "--port", "8000", "--model", "org/model"]


def test_derived_flags_yield_to_explicit_ones():
    args = args_of(vllm(2, model={"id": "org/model", "servedName": "m"},
                        engine={"type": "vllm", "contextLength": 4096,
                                "args": {"tensor-parallel-size": "4", "model": "other/model"}}))
    assert args.count("--tensor-parallel-size") == 1 and args[args.index("--tensor-parallel-size") + 1] == "4"
    assert args.count("--model") == 1 and args[args.index("--model") + 1] == "other/model"
    assert args.count("--served-model-name") == 1 and args.count("--max-model-len") == 1
    for extra in (["--tensor-parallel-size=4"], ["--tensor-parallel-size", "4"]):
        args = args_of(vllm(2, engine={"type": "vllm", "extraArgs": extra}))
        assert [a for a in args if a.startswith("--tensor-parallel-size")] == [extra[0]]


def test_extra_args_only_flag_is_allowed_but_a_flag_in_both_places_is_not():
    assert args_of(vllm(engine={"type": "vllm", "extraArgs": ["--max-num-seqs=8"]}))[-1] == "--max-num-seqs=8"
    with pytest.raises(TransformError) as err:
        render(vllm(engine={"type": "vllm", "args": {"max-num-seqs": "4"}, "extraArgs": ["--max-num-seqs=8"]}))
    assert "max-num-seqs" in str(err.value) and "spec.engine.args" in str(err.value)
    assert "spec.engine.extraArgs" in str(err.value)


@pytest.mark.parametrize("engine, message", [
    ({"args": {"port": "9000"}}, 'engine arg "port" conflicts with Direct vLLM generated networking'),
    ({"args": {"host": "::"}}, 'engine arg "host" conflicts'),
    ({"extraArgs": ["--host", "::"]}, 'engine extraArg "--host" conflicts'),
    ({"extraArgs": ["--port=9000"]}, 'engine extraArg "--port=9000" conflicts'),
    ({"extraArgs": ["-port"]}, 'engine extraArg "-port" conflicts'),
])
def test_host_and_port_are_reserved(engine, message):
    with pytest.raises(TransformError, match=message) as err:
        render(vllm(engine={"type": "vllm", **engine}))
    assert "requires host 0.0.0.0 and port 8000" in str(err.value)


def test_invalid_engine_arg_key_and_unsupported_engine():
    with pytest.raises(TransformError, match='invalid engine arg key "-bad-key"'):
        render(vllm(engine={"type": "vllm", "args": {"-bad-key": "x"}}))
    with pytest.raises(TransformError, match="vLLM provider only supports vllm engine, got sglang"):
        render(vllm(engine={"type": "sglang"}))


def test_probes_on_the_health_endpoint():
    c = container_of(vllm())
    health = {"path": "/health", "port": 8000}
    assert c["startupProbe"] == {"httpGet": health, "initialDelaySeconds": 15, "periodSeconds": 10,
                                 "failureThreshold": 60}
    assert c["livenessProbe"] == {"httpGet": health, "initialDelaySeconds": 15, "periodSeconds": 10,
                                  "failureThreshold": 3}
    assert c["readinessProbe"] == {"httpGet": health, "initialDelaySeconds": 15, "periodSeconds": 5,
                                   "failureThreshold": 3}


def test_shared_memory_only_for_tensor_parallelism():
    dep = render(vllm(4))[0]
    pod = dep["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "20Gi"}}]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "shm", "mountPath": "/dev/shm"}]
    assert "--tensor-parallel-size" in pod["containers"][0]["args"]
    single = render(vllm(1))[0]["spec"]["template"]["spec"]
    assert "volumes" not in single and "volumeMounts" not in single["containers"][0]
    assert "--tensor-parallel-size" not in single["containers"][0]["args"]


def test_model_storage_volumes_are_mounted():
    spec = vllm(model={"id": "org/model", "storage": {"volumes": [
        {"name": "cache", "purpose": "modelCache", "readOnly": True},
        {"name": "compile", "purpose": "compilationCache", "claimName": "shared-compile"},
        {"name": "data", "purpose": "custom", "claimName": "data"},
        {"name": "extra", "purpose": "custom", "claimName": "extra", "mountPath": "/extra"},
    ]}})
    pod = render(spec)[0]["spec"]["template"]["spec"]
    assert pod["volumes"] == [
        {"name": "cache", "persistentVolumeClaim": {"claimName": "llm-cache"}},
        {"name": "compile", "persistentVolumeClaim": {"claimName": "shared-compile"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "extra", "persistentVolumeClaim": {"claimName": "extra"}},
    ]
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "cache", "mountPath": "/model-cache", "readOnly": True},
        {"name": "compile", "mountPath": "/compilation-cache"},
        {"name": "extra", "mountPath": "/extra"},
    ]


def test_env_keeps_any_value_source_and_the_token_secret_replaces_a_user_hf_token():
    spec = vllm(env=[
        {"name": "PLAIN", "value": "1"},
        {"name": "BOTH", "value": "ignored", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "HF_TOKEN", "value": "inline"},
    ], secrets={"huggingFaceToken": "hf"})
    assert container_of(spec)["env"] == [
        {"name": "PLAIN", "value": "1"},
        {"name": "BOTH", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "HF_TOKEN"}}},
    ]
    assert "env" not in container_of(vllm())


def test_resources_scheduling_and_pod_template_metadata():
    spec = vllm(2, resources={"gpu": {"count": 2, "type": "a100"}, "memory": "64Gi", "cpu": "8"},
                nodeSelector={"pool": "gpu"},
                tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                podTemplate={"metadata": {"labels": {"team": "ml", "app": "clobber", "airunway.ai/deployment": "x"},
                                          "annotations": {"note": "yes"}}},
                scaling={"replicas": 3})
    dep = render(spec)[0]
    pod = dep["spec"]["template"]
    assert pod["spec"]["containers"][0]["resources"] == {
        "limits": {"nvidia.com/gpu": "2", "memory": "64Gi"},
        "requests": {"nvidia.com/gpu": "2", "memory": "64Gi", "cpu": "8"}}
    assert pod["spec"]["nodeSelector"] == {"pool": "gpu"}
    assert pod["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["metadata"]["labels"] == {"team": "ml", "app": "llm", "airunway.ai/deployment": "llm"}
    assert pod["metadata"]["annotations"] == dep["metadata"]["annotations"] == {"note": "yes"}
    assert dep["metadata"]["labels"]["team"] == "ml"
    assert dep["spec"]["replicas"] == 3
    assert render(vllm())[0]["spec"]["template"]["metadata"]["annotations"] == {}


def test_overrides_merge_anywhere_but_the_blocked_keys():
    spec = vllm(provider={"name": "vllm", "overrides": {
        "spec": {"replicas": 5, "template": {"spec": {"priorityClassName": "high"}}}}})
    dep, svc = render(spec)
    assert dep["spec"]["replicas"] == 5
    assert dep["spec"]["template"]["spec"]["priorityClassName"] == "high"
    assert dep["spec"]["template"]["spec"]["containers"][0]["name"] == "vllm"
    assert "replicas" not in svc["spec"]
    with pytest.raises(TransformError, match='overriding "metadata" is not allowed'):
        render(vllm(provider={"name": "vllm", "overrides": {"metadata": {"name": "x"}}}))


def test_disaggregated_rendering_exists_though_the_controller_refuses_it():
    spec = vllm(serving={"mode": "disaggregated"}, scaling={
        "prefill": {"replicas": 2, "gpu": {"count": 4}}, "decode": {"replicas": 4, "gpu": {"count": 1}}})
    objs = render(spec)
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("Deployment", "llm-decode"), ("Deployment", "llm-prefill"),
        ("Service", "llm-decode"), ("Service", "llm-prefill")]
    decode, prefill = objs[0], objs[1]
    assert (decode["spec"]["replicas"], prefill["spec"]["replicas"]) == (4, 2)
    d_args = decode["spec"]["template"]["spec"]["containers"][0]["args"]
    p_args = prefill["spec"]["template"]["spec"]["containers"][0]["args"]
    assert d_args[d_args.index("--kv-transfer-config") + 1] == workloads.KV_CONSUMER
    assert p_args[p_args.index("--kv-transfer-config") + 1] == workloads.KV_PRODUCER
    assert p_args[p_args.index("--tensor-parallel-size") + 1] == "4" and "--tensor-parallel-size" not in d_args
    assert "volumes" in prefill["spec"]["template"]["spec"] and "volumes" not in decode["spec"]["template"]["spec"]
    for missing, message in (({}, "spec.scaling is required"),
                             ({"scaling": {"prefill": {"replicas": 1, "gpu": {"count": 1}}}},
                              "spec.scaling.decode is required"),
                             ({"scaling": {"decode": {"replicas": 1}, "prefill": {"replicas": 1}}},
                              "spec.scaling.decode.gpu is required")):
        with pytest.raises(TransformError, match=message):
            render({**vllm(serving={"mode": "disaggregated"}), **missing})


# --------------------------------------------------------------------------------------------- status mapping


def dep_with(conditions=None, replicas=2, ready=None, available=None, name="llm") -> dict:
    status = {}
    if conditions is not None:
        status["conditions"] = [{"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in conditions]
    if ready is not None:
        status["readyReplicas"] = ready
    if available is not None:
        status["availableReplicas"] = available
    return {"metadata": {"name": name}, "spec": {"replicas": replicas}, "status": status}


@pytest.mark.parametrize("conds, phase, message", [
    (None, "Pending", ""),
    ([("Available", "True", "MinimumReplicasAvailable", "ok")], "Running", ""),
    ([("Progressing", "False", "ProgressDeadlineExceeded", "too slow")], "Failed", "too slow"),
    ([("Progressing", "False", "ProgressDeadlineExceeded", "")], "Failed",
     "deployment timed out waiting for rollout"),
    ([("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
      ("Progressing", "True", "ReplicaSetUpdated", "progressing")], "Deploying", ""),
    ([("Available", "False", "MinimumReplicasUnavailable", "no minimum")], "Failed", "no minimum"),
    ([("Available", "False", "MinimumReplicasUnavailable", "")], "Pending", ""),
])
def test_deployment_conditions_map_to_a_phase(conds, phase, message):
    observed = workloads.deployment_status(dep_with(conds))
    assert (observed.phase, observed.message) == (phase, message)


def test_replicas_and_endpoint():
    observed = workloads.deployment_status(dep_with([], replicas=3, ready=2, available=1, name="llm-decode"))
    assert observed.replicas.to_dict() == {"desired": 3, "ready": 2, "available": 1}
    assert observed.endpoint.to_dict() == {"service": "llm-decode", "port": 8000}


def pod(scheduled: str | None, message: str = "", app: str = "llm") -> dict:
    conditions = [] if scheduled is None else [
        {"type": "PodScheduled", "status": scheduled, "reason": "Unschedulable" if scheduled == "False" else "",
         "message": message}]
    return {"metadata": {"name": f"p-{len(message)}", "namespace": "ns",
                         "labels": {"airunway.ai/deployment": "llm", "app": app}}, "status": {"conditions": conditions}}


def test_unschedulable_message_only_when_no_pod_could_be_placed():
    msg = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    assert workloads.unschedulable_message([]) == ""
    assert workloads.unschedulable_message([pod("False", msg)]) == msg
    assert workloads.unschedulable_message([pod("False", msg), pod("False", msg)]) == msg
    assert workloads.unschedulable_message([pod("False", msg), pod("True")]) == ""
    assert workloads.unschedulable_message([pod(None)]) == ""
    assert workloads.pod_deployment(pod("False")) == [("ns", "llm")]
    assert workloads.pod_deployment({"metadata": {"namespace": "ns", "labels": {}}}) == []
    changed = workloads.SCHEDULING_CHANGED
    assert changed.update(pod(None), pod("False", msg)) and not changed.update(pod("False", msg), pod("False", msg))


class PodCache:
    """Enough of an informer for WorkloadReconciler.observe_extra."""

    def __init__(self, pods):
        from airunway.kube.store import Store

        self.store = Store()
        self.store.add_indexer(workloads.POD_INDEX, lambda p: [str(k) for k in workloads.pod_deployment(p)])
        for p in pods:
            self.store.upsert(p)

    def has_synced(self):
        return True


def test_unschedulable_pods_hold_the_deployment_pending_with_the_schedulers_reason():
    msg = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    reconciler = VLLMReconciler(None, None)
    md, _ = deployment(vllm())
    primary = dep_with([("Progressing", "True", "ReplicaSetUpdated", "")])
    reconciler.pods = PodCache([pod("False", msg), pod("False", msg + " ", app="other")])
    observed = workloads.deployment_status(primary)
    asyncio.run(reconciler.observe_extra(md, primary, observed))
    assert (observed.phase, observed.message, observed.hold_phase) == (
        "Pending", f"Pods cannot be scheduled: {msg}", True)

    reconciler.pods = PodCache([pod("True")])
    observed = workloads.deployment_status(primary)
    asyncio.run(reconciler.observe_extra(md, primary, observed))
    assert (observed.phase, observed.hold_phase) == ("Deploying", False)


# --------------------------------------------------------------------------------------------- image resolution


class FakeResolver(RegistryResolver):
    def __init__(self, result: Resolved | Exception | None = None):
        super().__init__({"default": "http://127.0.0.1:1"})
        self.result = result or Resolved(DIGEST, "2026-11-01T08:00:00Z", "abc123")
        self.calls = []

    async def resolve(self, ref):
        self.calls.append(ref)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def resolve(spec: dict, resolver: RegistryResolver, status: dict | None = None, **meta):
    md, _ = deployment(spec, status=status, **meta)
    error = asyncio.run(resolve_image_status(md, resolver))
    return md, error


def test_default_image_is_pinned_to_its_digest():
    resolver = FakeResolver()
    md, error = resolve(vllm(), resolver)
    assert error is None and len(resolver.calls) == 1
    image = md.status.image
    assert image.resolved == f"vllm/vllm-openai@{DIGEST}"
    assert (image.requested, image.repository, image.tag, image.digest) == (
        DEFAULT_IMAGE, "vllm/vllm-openai", "cu130-nightly", DIGEST)
    assert (image.created_at, image.revision, image.source, image.in_nightly, image.verified) == (
        "2026-11-01T08:00:00Z", "abc123", "nightly", True, False)
    assert image.message == (f'Resolved Direct vLLM image "{DEFAULT_IMAGE}" to "vllm/vllm-openai@{DIGEST}" '
                             "from nightly selection.")
    conds = conditions(md)
    assert conds["ImageResolved"] == ("True", "ImageResolved")
    assert conds["ImageVerified"] == ("Unknown", "VerificationNotImplemented")
    assert conds["UnsupportedImage"] == ("False", "SupportedImage")
    assert "RecipeResolved" not in conds
    assert all(c.observed_generation == 3 for c in md.status.conditions)
    assert container_of(vllm(), status=md.status.to_dict())["image"] == f"vllm/vllm-openai@{DIGEST}"


def test_a_resolved_digest_is_reused_while_the_requested_image_is_unchanged():
    first, _ = resolve(vllm(), FakeResolver())
    resolver = FakeResolver()
    md, error = resolve(vllm(), resolver, status=first.status.to_dict())
    assert error is None and resolver.calls == []
    assert md.status.image.resolved == f"vllm/vllm-openai@{DIGEST}"
    assert md.status.image.created_at == "2026-11-01T08:00:00Z"
    assert conditions(md)["ImageResolved"] == ("True", "ImageResolutionReused")
    assert md.status.image.message.startswith(f'Reused resolved Direct vLLM image "{DEFAULT_IMAGE}"')
    # A different image is resolved afresh.
    md, _ = resolve(vllm(engine={"type": "vllm", "image": "vllm/vllm-openai:latest"}), resolver,
                    status=first.status.to_dict())
    assert len(resolver.calls) == 1 and md.status.image.source == "stable"


@pytest.mark.parametrize("image, source", [
    ("vllm/vllm-openai:latest", "stable"),
    ("docker.io/vllm/vllm-openai:latest", "stable"),
    ("vllm/vllm-openai:v0.10-nightly", "nightly"),
    ("index.docker.io/vllm/vllm-openai:nightly", "nightly"),
    ("vllm/vllm-openai:launch-day", "launch"),
    ("me/vllm:latest", "custom"),
    ("vllm/vllm-openai:v0.9.1", "custom"),
])
def test_source_classification(image, source):
    assert source_of(image, parse(image)) == source


def test_parse_references():
    ref = parse("registry.test:5000/team/vllm:v1@sha256:00")
    assert (ref.registry, ref.repository, ref.tag, ref.digest, ref.path) == (
        "registry.test:5000", "registry.test:5000/team/vllm", "v1", "sha256:00", "team/vllm")
    ref = parse("localhost:5000/vllm")
    assert (ref.registry, ref.tag, ref.path) == ("localhost:5000", "", "vllm")
    assert parse("ubuntu:22.04").path == "library/ubuntu"
    assert parse("vllm/vllm-openai:cu130-nightly").registry == ""


def test_a_custom_digest_image_is_not_resolved():
    resolver = FakeResolver()
    image = f"me/vllm@{DIGEST}"
    md, error = resolve(vllm(engine={"type": "vllm", "image": image}), resolver)
    assert error is None and resolver.calls == []
    assert (md.status.image.resolved, md.status.image.source, md.status.image.digest) == (image, "custom", DIGEST)
    assert conditions(md)["UnsupportedImage"] == ("True", "CustomImage")
    assert conditions(md)["ImageResolved"] == ("True", "ImageResolved")


def test_default_resolution_failure_is_an_error():
    md, error = resolve(vllm(), FakeResolver(ResolveError("HTTP 503")))
    assert error == f'failed to resolve default vLLM image "{DEFAULT_IMAGE}": HTTP 503'
    assert md.status.image.resolved is None
    assert conditions(md)["ImageResolved"] == ("False", "ImageResolutionFailed")
    assert md.status.image.message == (
        f'Failed to resolve Direct vLLM image "{DEFAULT_IMAGE}" from nightly selection: HTTP 503.')


def test_user_image_resolution_failure_is_not_an_error():
    md, error = resolve(vllm(engine={"type": "vllm", "image": "me/vllm:1"}), FakeResolver(ResolveError("nope")))
    assert error is None
    assert md.status.image.message.endswith("Continuing with the user-specified image reference.")
    assert conditions(md)["ImageResolved"] == ("False", "ImageResolutionFailed")
    assert container_of(vllm(engine={"type": "vllm", "image": "me/vllm:1"}), status=md.status.to_dict())[
        "image"] == "me/vllm:1"


def test_images_without_a_configured_registry_run_as_written():
    md, error = resolve(vllm(), RegistryResolver())
    assert error is None
    assert md.status.image.resolved == DEFAULT_IMAGE
    assert md.status.image.message == f'Resolved Direct vLLM image "{DEFAULT_IMAGE}" from nightly selection.'


def test_recipe_provenance_is_reported_but_not_verification():
    md, _ = resolve(vllm(), FakeResolver(), annotations={
        "airunway.ai/generated-by": "vllm-recipe-resolver", "airunway.ai/recipe.source": "recipes",
        "airunway.ai/recipe.id": "qwen", "airunway.ai/recipe.strategy": "tp", "airunway.ai/recipe.hardware": "h100",
        "airunway.ai/recipe.variant": "fast", "airunway.ai/recipe.precision": "fp8",
        "airunway.ai/recipe.revision": "r1", "airunway.ai/recipe.features": "spec-decode"})
    summary = ("generated-by=vllm-recipe-resolver, source=recipes, id=qwen, strategy=tp, hardware=h100, "
               "variant=fast, precision=fp8, revision=r1, features=spec-decode")
    assert md.status.image.message.endswith(f" Recipe provenance: {summary}.")
    assert conditions(md)["RecipeResolved"] == ("True", "RecipeProvenanceResolved")
    assert md.status.image.verified is False


def test_age():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 3, 9, 30, tzinfo=timezone.utc)
    assert age_of("2026-11-01T08:00:00Z", now) == "2d"
    assert age_of("2026-11-03T07:00:00Z", now) == "2h"
    assert age_of("2026-11-03T09:05:00Z", now) == "25m"
    assert age_of("2026-11-03T10:00:00Z", now) == "0m"
    assert age_of(None, now) is None and age_of("garbage", now) is None


def test_registry_resolver_reads_digest_creation_and_revision_over_http():
    with Registry() as reg:
        digest = reg.add("vllm/vllm-openai", "cu130-nightly", "2026-11-01T08:00:00Z", "abc123")
        resolver = RegistryResolver({"default": reg.url})
        found = asyncio.run(resolver.resolve(parse(DEFAULT_IMAGE)))
        assert (found.digest, found.created_at, found.revision) == (digest, "2026-11-01T08:00:00Z", "abc123")
        assert any(r.startswith("/token") for r in reg.requests)  # anonymous bearer token fetched
        with pytest.raises(ResolveError, match="HTTP 404"):
            asyncio.run(resolver.resolve(parse("vllm/vllm-openai:missing")))
        with pytest.raises(ResolveError, match="no tag"):
            asyncio.run(resolver.resolve(parse("vllm/vllm-openai")))
    with pytest.raises(ResolveError, match="no registry endpoint"):
        asyncio.run(RegistryResolver().resolve(parse(DEFAULT_IMAGE)))


def test_covers_compares_only_the_rendered_fields():
    desired = {"spec": {"replicas": 1, "template": {"metadata": {"annotations": {}},
                                                    "spec": {"containers": [{"name": "vllm", "ports": [{"p": 1}]}]}}}}
    actual = {"spec": {"replicas": 1, "strategy": {"type": "RollingUpdate"}, "template": {
        "metadata": {"labels": {"a": "b"}},
        "spec": {"restartPolicy": "Always", "containers": [
            {"name": "vllm", "imagePullPolicy": "IfNotPresent", "ports": [{"p": 1, "protocol": "TCP"}]}]}}}}
    assert workloads.covers(actual, desired)
    edited = json.loads(json.dumps(actual))
    edited["spec"]["replicas"] = 4
    assert not workloads.covers(edited, desired)
    edited = json.loads(json.dumps(actual))
    edited["spec"]["template"]["spec"]["containers"].append({"name": "sidecar"})
    assert not workloads.covers(edited, desired)
    del edited["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert not workloads.covers(edited, desired)
    assert workloads.covers({"a": None}, {"a": []}) and not workloads.covers({"a": [1]}, {"a": []})


class Cache:
    """The watch cache a WorkloadReconciler reads: what the server has, as of the last sync()."""

    def __init__(self, server):
        self.server, self.objects = server, {}

    def sync(self):
        self.objects = json.loads(json.dumps(self.server.objects))

    def get(self, resource, key, copy=True):
        return self.objects.get(f"{resource.kind}/{key[0]}/{key[1]}")


class Server:
    """The API server calls apply and reads make."""

    def __init__(self):
        self.objects, self.applies, self.gets = {}, [], []

    async def resource_for(self, api_version, kind):
        return workloads.DEPLOYMENTS if kind == "Deployment" else workloads.SERVICES

    async def get_or_none(self, resource, name, namespace):
        self.gets.append((resource.kind, name))
        return self.objects.get(f"{resource.kind}/{namespace}/{name}")

    async def apply(self, obj, field_manager, force, resource):
        self.applies.append((obj["kind"], obj["metadata"]["name"], field_manager, force))
        stored = json.loads(json.dumps(obj))
        stored["spec"].setdefault("defaulted", True)  # server-side defaults
        self.objects[f"{obj['kind']}/{obj['metadata']['namespace']}/{obj['metadata']['name']}"] = stored
        return stored


def test_steady_objects_are_not_applied_again_but_changes_and_drift_are():
    server = Server()
    cache = Cache(server)
    reconciler = VLLMReconciler(server, cache)

    def apply_all(spec):
        md, raw = deployment(spec)

        async def run():
            for obj in transform(md):
                await reconciler.apply(md, obj)

        asyncio.run(run())

    apply_all(vllm())  # not in the cache: read from the server (absent), then applied
    assert server.applies == [("Deployment", "llm", "vllm-provider", True), ("Service", "llm", "vllm-provider", True)]
    assert server.gets == [("Deployment", "llm"), ("Service", "llm")]
    apply_all(vllm())  # the cache lags behind: read again, nothing applied
    assert len(server.applies) == 2 and len(server.gets) == 4
    cache.sync()
    apply_all(vllm())  # steady and cached: no request at all
    assert len(server.applies) == 2 and len(server.gets) == 4
    assert asyncio.run(reconciler.read(workloads.DEPLOYMENTS, "llm", "ns"))["kind"] == "Deployment"

    server.objects["Deployment/ns/llm"]["spec"]["replicas"] = 4  # a hand edit
    cache.sync()
    apply_all(vllm())
    assert server.applies[2:] == [("Deployment", "llm", "vllm-provider", True)]
    assert server.objects["Deployment/ns/llm"]["spec"]["replicas"] == 1

    cache.sync()
    apply_all(vllm(env=[{"name": "A", "value": "1"}]))  # the rendering changes
    assert [a[0] for a in server.applies[3:]] == ["Deployment"]
    cache.sync()
    apply_all(vllm())  # and back: the env var goes (a subset check alone would keep it)
    assert [a[0] for a in server.applies[4:]] == ["Deployment"]

    del server.objects["Service/ns/llm"]  # deleted by hand
    cache.sync()
    apply_all(vllm())
    assert server.applies[-1][:2] == ("Service", "llm") and len(server.applies) == 6
