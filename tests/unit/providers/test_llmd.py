"""llm-d provider: registration, compatibility, the Deployment + Service transformation in both serving modes
(no cluster; the status mapping it shares with Direct vLLM is covered in test_vllm.py)."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import yaml

from airunway.api.modeldeployment import ModelDeployment
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.providers import registry, workloads
from airunway.providers.descriptor import ProviderFlags
from airunway.providers.llmd import PROVIDER, LLMDReconciler, config
from airunway.providers.llmd.config import DEFAULT_IMAGE, SCHEDULER_IMAGE
from airunway.providers.llmd.reconciler import compatibility_problem
from airunway.providers.llmd.transform import transform
from airunway.providers.objects import TransformError
from airunway.providers.registration import provider_version


def deployment(spec: dict, name: str = "llm", namespace: str = "ns") -> tuple[ModelDeployment, dict]:
    raw = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
           "metadata": {"name": name, "namespace": namespace, "uid": "uid-1"}, "spec": spec}
    return ModelDeployment.model_validate(raw), raw


def vllm(gpu: int = 1, **spec) -> dict:
    return {"model": {"id": "org/model"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": gpu}}, **spec}


def disagg(prefill: dict | None = None, decode: dict | None = None, **spec) -> dict:
    scaling = {}
    if prefill is not None:
        scaling["prefill"] = prefill
    if decode is not None:
        scaling["decode"] = decode
    return {"model": {"id": "org/model"}, "engine": {"type": "vllm"}, "serving": {"mode": "disaggregated"},
            "scaling": scaling, **spec}


def render(spec: dict) -> list[dict]:
    md, raw = deployment(spec)
    return transform(md)


def container_of(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][0]


# --------------------------------------------------------------------------------------------- registration


def test_config_spec_matches_the_shipped_copy():
    shipped = yaml.safe_load(
        (resources.files("airunway.policy") / "default_providers" / "llmd.yaml").read_text(encoding="utf-8"))
    cfg = config()
    assert cfg.name == "llmd" == shipped["metadata"]["name"]
    assert cfg.spec == shipped["spec"]
    InferenceProviderConfig.model_validate({"metadata": {"name": "llmd"}, "spec": cfg.spec})


def test_config_capabilities_and_endpoint_picker():
    cfg = config()
    [engine] = cfg.spec["capabilities"]["engines"]
    assert (engine["name"], engine["servingModes"], engine["gpuSupport"], engine["requiresCRD"]) == (
        "vllm", ["aggregated", "disaggregated"], True, False)
    assert "cpuSupport" not in engine
    gateway = engine["gateway"]
    assert "managesInferencePool" not in gateway and "inferencePoolNamePattern" not in gateway
    assert gateway["endpointPicker"]["image"] == SCHEDULER_IMAGE == "ghcr.io/llm-d/llm-d-inference-scheduler:v0.6.0"
    picker = yaml.safe_load(gateway["endpointPicker"]["configData"])
    assert picker["kind"] == "EndpointPickerConfig"
    assert [p["type"] for p in picker["plugins"]] == [
        "prefix-cache-scorer", "decode-filter", "max-score-picker", "single-profile-handler"]
    assert picker["schedulingProfiles"][0]["plugins"][2] == {"pluginRef": "prefix-cache-scorer", "weight": 2}
    assert cfg.spec["selectionRules"] == []
    assert cfg.upstream_crd_version == "apps/v1" and cfg.readiness is None
    assert provider_version(cfg.name).startswith("llmd-provider:")
    assert DEFAULT_IMAGE == "vllm/vllm-openai:v0.9.1"


def test_annotations():
    annotations = config().annotations
    assert annotations["airunway.ai/display-name"] == "llm-d"
    assert annotations["airunway.ai/default-namespace"] == "default"
    assert annotations["airunway.ai/documentation-url"] == annotations["airunway.ai/documentation"] == (
        "https://github.com/kaito-project/airunway/tree/main/docs/providers/llmd.md")
    assert json.loads(annotations["airunway.ai/health"]) == {"status": {"readyPath": "ready"}}
    assert json.loads(annotations["airunway.ai/capabilities"]) == config().spec["capabilities"]
    install = json.loads(annotations["airunway.ai/installation"])
    assert install["description"] == annotations["airunway.ai/description"] == (
        "llm-d provider: deploys vLLM Deployments + Services directly. Requires GPU nodes with the NVIDIA device "
        "plugin.")
    assert "helmCharts" not in install and "defaultNamespace" not in install
    assert [s["title"] for s in install["steps"]] == ["Install NVIDIA GPU Device Plugin",
                                                      "Create HuggingFace Token Secret"]
    assert install["steps"][1]["command"] == (
        "kubectl create secret generic llm-d-hf-token --from-literal=HF_TOKEN=<your-token> -n <model-namespace>")


def test_the_provider_is_wired():
    assert registry.provider("llmd") is PROVIDER and PROVIDER.config().name == "llmd"
    assert isinstance(PROVIDER.build(None, None, ProviderFlags()), LLMDReconciler)


# --------------------------------------------------------------------------------------------- compatibility


GPU1 = {"replicas": 1, "gpu": {"count": 1}}


@pytest.mark.parametrize("spec, problem", [
    (vllm(), None),
    (vllm(engine={"type": "sglang"}), "llm-d provider only supports vllm engine, got sglang"),
    (vllm(engine={"type": "trtllm"}), "llm-d provider only supports vllm engine, got trtllm"),
    (vllm(0), "llm-d provider requires GPU resources (spec.resources.gpu.count > 0)"),
    ({"model": {"id": "org/model"}, "engine": {"type": "vllm"}},
     "llm-d provider requires GPU resources (spec.resources.gpu.count > 0)"),
    (disagg(), "spec.scaling.prefill is required for disaggregated serving mode"),
    (disagg(prefill=GPU1), "spec.scaling.decode is required for disaggregated serving mode"),
    (disagg(prefill={"replicas": 1}, decode=GPU1),
     "llm-d provider requires GPU resources for prefill (spec.scaling.prefill.gpu.count > 0)"),
    (disagg(prefill=GPU1, decode={"replicas": 1, "gpu": {"count": 0}}),
     "llm-d provider requires GPU resources for decode (spec.scaling.decode.gpu.count > 0)"),
    (disagg(prefill=GPU1, decode=GPU1), None),  # no top-level resources needed
])
def test_compatibility(spec, problem):
    md, _ = deployment(spec)
    assert compatibility_problem(md) == problem


def test_primary_and_deletion_targets_follow_the_mode():
    reconciler = LLMDReconciler(None, None)
    md, _ = deployment(vllm())
    assert reconciler.primary_name(md) == "llm"
    assert [t.name for t in reconciler.deletion_targets(md)] == ["llm"]
    md, _ = deployment(disagg(prefill=GPU1, decode=GPU1))
    assert reconciler.primary_name(md) == "llm-decode"
    assert [(t.resource.kind, t.name, t.namespace) for t in reconciler.deletion_targets(md)] == [
        ("Deployment", "llm-decode", "ns"), ("Deployment", "llm-prefill", "ns")]


# --------------------------------------------------------------------------------------------- transformation


def test_aggregated_basics():
    dep, svc = render(vllm())
    assert [(o["kind"], o["metadata"]["name"]) for o in (dep, svc)] == [("Deployment", "llm"), ("Service", "llm")]
    owner = dep["metadata"]["ownerReferences"][0]
    assert (owner["apiVersion"], owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "airunway.ai/v1alpha1", "ModelDeployment", "llm", "uid-1", True)
    assert dep["metadata"]["labels"] == {
        "airunway.ai/managed-by": "airunway", "airunway.ai/deployment": "llm",
        "airunway.ai/model-source": "huggingface", "airunway.ai/engine-type": "vllm"}
    assert dep["spec"]["replicas"] == 1
    c = container_of(dep)
    assert (c["name"], c["image"]) == ("vllm", DEFAULT_IMAGE)
    assert "command" not in c and "startupProbe" not in c and "readinessProbe" not in c
    assert "volumes" not in dep["spec"]["template"]["spec"] and "volumeMounts" not in c
    assert c["args"] == ["--model", "org/model", "--enable-prefix-caching"]  # the API's default
    off = render(vllm(engine={"type": "vllm", "enablePrefixCaching": False}))[0]
    assert container_of(off)["args"] == ["--model", "org/model", "--no-enable-prefix-caching"]
    assert c["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert c["resources"] == {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}}
    assert svc["spec"] == {"type": "ClusterIP", "selector": {"airunway.ai/deployment": "llm", "app": "llm"},
                           "ports": [{"name": "http", "port": 8000, "targetPort": 8000, "protocol": "TCP"}]}
    assert render(vllm(scaling={"replicas": 3}))[0]["spec"]["replicas"] == 3


def test_args_in_order():
    spec = vllm(4, model={"id": "org/model", "servedName": "m"},
                engine={"type": "vllm", "contextLength": 8192, "trustRemoteCode": True, "enablePrefixCaching": True,
                        "enforceEager": True, "args": {"zeta": "last", "alpha": "first"},
                        "extraArgs": ["--raw-flag", "raw-value", "--second-raw"]})
    assert container_of(render(spec)[0])["args"] == [
        "--model", "org/model", "--served-model-name", "m", "--max-model-len", "8192", "--trust-remote-code",
        "--enable-prefix-caching", "--enforce-eager", "--tensor-parallel-size", "4",
        "--alpha", "first", "--zeta", "last", "--raw-flag", "raw-value", "--second-raw"]


def test_engine_errors():
    with pytest.raises(TransformError, match='invalid engine arg key "-bad-key"'):
        render(vllm(engine={"type": "vllm", "args": {"-bad-key": "x"}}))
    with pytest.raises(TransformError, match="llm-d provider only supports vllm engine, got sglang"):
        render(vllm(engine={"type": "sglang"}))


def test_images_env_scheduling_and_resources():
    spec = vllm(2, engine={"type": "vllm", "image": "me/vllm:2"}, image="legacy:1",
                resources={"gpu": {"count": 2}, "memory": "32Gi", "cpu": "4"},
                env=[{"name": "A", "value": "1"},
                     {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                     {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                secrets={"huggingFaceToken": "hf"}, nodeSelector={"gpu": "a100"},
                tolerations=[{"key": "gpu", "operator": "Exists"}],
                podTemplate={"metadata": {"labels": {"team": "x", "app": "clobber"}}})
    dep = render(spec)[0]
    c = container_of(dep)
    assert c["image"] == "me/vllm:2"
    assert container_of(render(vllm(image="legacy:1"))[0])["image"] == "legacy:1"
    assert c["env"] == [{"name": "A", "value": "1"},
                        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                        {"name": "F"},
                        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "HF_TOKEN"}}}]
    assert c["resources"] == {"limits": {"nvidia.com/gpu": "2", "memory": "32Gi"},
                              "requests": {"nvidia.com/gpu": "2", "memory": "32Gi", "cpu": "4"}}
    pod = dep["spec"]["template"]
    assert pod["spec"]["nodeSelector"] == {"gpu": "a100"}
    assert pod["spec"]["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert pod["metadata"]["labels"] == {"team": "x", "app": "llm", "airunway.ai/deployment": "llm"}
    assert dep["spec"]["selector"]["matchLabels"] == {"airunway.ai/deployment": "llm", "app": "llm"}


def test_disaggregated_renders_decode_and_prefill():
    spec = disagg(prefill={"replicas": 2, "gpu": {"count": 4}, "memory": "64Gi"},
                  decode={"replicas": 4, "gpu": {"count": 2}})
    objs = render(spec)
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("Deployment", "llm-decode"), ("Deployment", "llm-prefill"),
        ("Service", "llm-decode"), ("Service", "llm-prefill")]
    decode, prefill, decode_svc, _ = objs
    assert (decode["spec"]["replicas"], prefill["spec"]["replicas"]) == (4, 2)
    d, p = container_of(decode)["args"], container_of(prefill)["args"]
    assert d[d.index("--kv-transfer-config") + 1] == workloads.KV_CONSUMER
    assert p[p.index("--kv-transfer-config") + 1] == workloads.KV_PRODUCER
    assert d[d.index("--tensor-parallel-size") + 1] == "2" and p[p.index("--tensor-parallel-size") + 1] == "4"
    assert container_of(prefill)["resources"] == {"limits": {"nvidia.com/gpu": "4", "memory": "64Gi"},
                                                  "requests": {"nvidia.com/gpu": "4", "memory": "64Gi"}}
    assert decode_svc["spec"]["selector"] == {"airunway.ai/deployment": "llm", "app": "llm-decode"}
    with pytest.raises(TransformError, match="spec.scaling is required"):
        render({"model": {"id": "m"}, "engine": {"type": "vllm"}, "serving": {"mode": "disaggregated"}})
    with pytest.raises(TransformError, match="spec.scaling.decode is required"):
        render(disagg(prefill=GPU1))


def test_overrides_reach_deployments_only_and_not_the_pod_spec():
    dep, svc = render(vllm(provider={"name": "llmd", "overrides": {"spec": {"replicas": 5}}}))
    assert dep["spec"]["replicas"] == 5 and "replicas" not in svc["spec"]
    objs = render(disagg(prefill=GPU1, decode=GPU1, provider={"name": "llmd", "overrides": {"spec": {"replicas": 7}}}))
    assert [o["spec"].get("replicas") for o in objs] == [7, 7, None, None]
    dep = render(vllm(provider={"name": "llmd", "overrides": {
        "spec": {"template": {"metadata": {"annotations": {"a": "b"}}}}}}))[0]
    assert dep["spec"]["template"]["metadata"]["annotations"] == {"a": "b"}
    with pytest.raises(TransformError, match='overriding "metadata" is not allowed'):
        render(vllm(provider={"name": "llmd", "overrides": {"metadata": {"labels": {}}}}))
    with pytest.raises(TransformError, match='overriding "spec.template.spec" is not allowed'):
        render(vllm(provider={"name": "llmd", "overrides": {"spec": {"template": {"spec": {"hostNetwork": True}}}}}))
