"""Our CRDs and the upstream target CRDs, installed in the real API server, accept what they should
and reject what they should with messages that name the field."""

from __future__ import annotations

import json

import pytest
import yaml

from support import DATA, kget

EXAMPLES = sorted((DATA / "modeldeployments").glob("*.yaml"))
PROVIDER_CONFIGS = sorted((DATA / "providerconfigs").glob("*.yaml"))
UPSTREAM_OBJECTS = sorted((DATA / "upstream").glob("*.yaml"))


def _load(path) -> dict:
    obj = yaml.safe_load(path.read_text())
    obj["metadata"].pop("namespace", None)
    return obj


def _apply(sandbox, namespace, obj, check=True):
    return sandbox.kubectl(
        "apply", "--server-side", "--field-manager=test", "-n", namespace, "-f", "-",
        input=yaml.safe_dump(obj), check=check,
    )


def test_both_crds_are_installed(sandbox):
    names = sandbox.kubectl("get", "crd", "-o", "name").stdout.split()
    assert "customresourcedefinition.apiextensions.k8s.io/modeldeployments.airunway.ai" in names
    assert "customresourcedefinition.apiextensions.k8s.io/inferenceproviderconfigs.airunway.ai" in names
    md = kget(sandbox, "crd", "modeldeployments.airunway.ai")
    ipc = kget(sandbox, "crd", "inferenceproviderconfigs.airunway.ai")
    assert md["spec"]["scope"] == "Namespaced" and ipc["spec"]["scope"] == "Cluster"
    assert md["spec"]["versions"][0]["subresources"] == {"status": {}}


def test_kubectl_get_shows_the_upstream_printer_columns(sandbox, namespace):
    _apply(sandbox, namespace, _load(DATA / "modeldeployments" / "qwen-demo.yaml"))
    # Status is written by the controllers; set it here the way they do, through the subresource.
    status = {"phase": "Running", "provider": {"name": "dynamo"}, "engine": {"type": "vllm"}, "replicas": {"ready": 1}}
    sandbox.kubectl(
        "patch", "modeldeployment", "qwen-demo", "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}),
    )
    out = sandbox.kubectl("get", "modeldeployments", "-n", namespace).stdout.splitlines()
    assert out[0].split() == ["NAME", "PHASE", "PROVIDER", "ENGINE", "REPLICAS", "AGE"]
    assert out[1].split()[:5] == ["qwen-demo", "Running", "dynamo", "vllm", "1"]


def test_provider_config_printer_columns(sandbox):
    obj = yaml.safe_load((DATA / "providerconfigs" / "kaito.yaml").read_text())
    obj["metadata"]["name"] = "printer-columns"
    sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump(obj))
    try:
        sandbox.kubectl(
            "patch", "inferenceproviderconfig", "printer-columns", "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": {"ready": True, "version": "kaito-provider:v0.1.0"}}),
        )
        out = sandbox.kubectl("get", "inferenceproviderconfig", "printer-columns").stdout.splitlines()
        assert out[0].split() == ["NAME", "READY", "VERSION", "AGE"]
        assert out[1].split()[:3] == ["printer-columns", "true", "kaito-provider:v0.1.0"]
    finally:
        sandbox.kubectl("delete", "inferenceproviderconfig", "printer-columns", "--wait=false", check=False)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_seed_examples_are_accepted_with_defaults_filled_in(sandbox, namespace, path):
    obj = _load(path)
    _apply(sandbox, namespace, obj)
    spec = kget(sandbox, "modeldeployment", obj["metadata"]["name"], "-n", namespace)["spec"]
    assert spec["model"]["source"] == "huggingface"
    assert spec["engine"]["enablePrefixCaching"] is True
    assert spec["engine"]["trustRemoteCode"] is False
    assert spec["engine"]["enforceEager"] is False
    if "serving" in obj["spec"]:
        assert spec["serving"]["mode"] == obj["spec"]["serving"].get("mode", "aggregated")
    if "scaling" in obj["spec"] and "prefill" not in obj["spec"]["scaling"]:
        assert spec["scaling"]["replicas"] == obj["spec"]["scaling"].get("replicas", 1)
    if "resources" in obj["spec"]:
        assert spec["resources"]["gpu"]["type"] == "nvidia.com/gpu"
    if path.stem == "llama-70b-pd":
        assert spec["scaling"]["prefill"] == {"replicas": 2, "gpu": {"count": 4, "type": "nvidia.com/gpu"}, "memory": "128Gi"}
        assert spec["scaling"]["decode"]["replicas"] == 4
        assert spec["provider"]["overrides"] == {"routerMode": "kv", "frontend": {"replicas": 2}}
    if path.stem == "gemma-cpu":
        assert spec["resources"]["gpu"]["count"] == 0


BASE = {
    "apiVersion": "airunway.ai/v1alpha1",
    "kind": "ModelDeployment",
    "metadata": {"name": "bad"},
    "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}},
}


def _with(path: str, value) -> dict:
    obj = json.loads(json.dumps(BASE))
    node = obj["spec"]
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return obj


@pytest.mark.parametrize(
    "path,value,expected",
    [
        ("engine.type", "foo", ['spec.engine.type: Unsupported value: "foo"', '"vllm"']),
        ("serving.mode", "both", ['spec.serving.mode: Unsupported value: "both"', '"aggregated"', '"disaggregated"']),
        ("resources.gpu.count", -1, ["spec.resources.gpu.count", "should be greater than or equal to 0"]),
        ("scaling.replicas", -2, ["spec.scaling.replicas", "should be greater than or equal to 0"]),
        ("scaling.replicas", "three", ["spec.scaling.replicas in body must be of type integer"]),
        ("model.source", "s3", ['spec.model.source: Unsupported value: "s3"']),
        ("engine.args", ["--x"], ["spec.engine.args in body must be of type object"]),
    ],
    ids=["engine-enum", "serving-enum", "negative-gpu", "negative-replicas", "wrong-type", "source-enum", "args-type"],
)
def test_invalid_objects_are_rejected_naming_the_field(sandbox, namespace, path, value, expected):
    proc = sandbox.kubectl("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(_with(path, value)), check=False)
    assert proc.returncode != 0
    for fragment in expected:
        assert fragment in proc.stderr, proc.stderr
    assert sandbox.kubectl("get", "modeldeployment", "bad", "-n", namespace, check=False).returncode != 0


def test_spec_is_required(sandbox, namespace):
    obj = {k: v for k, v in BASE.items() if k != "spec"}
    proc = _apply(sandbox, namespace, obj, check=False)
    assert proc.returncode != 0 and "spec: Required value" in proc.stderr


@pytest.mark.parametrize("path", PROVIDER_CONFIGS, ids=lambda p: p.stem)
def test_provider_configs_are_accepted(sandbox, path):
    obj = yaml.safe_load(path.read_text())
    name = obj["metadata"]["name"]
    sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump(obj))
    try:
        stored = kget(sandbox, "inferenceproviderconfig", name)
        assert stored["spec"].get("selectionRules", []) == [
            {"condition": r["condition"], "priority": r.get("priority", 0)} for r in obj["spec"].get("selectionRules", [])
        ]
        engines = [e["name"] for e in stored["spec"]["capabilities"]["engines"]]
        assert engines == [e["name"] for e in obj["spec"]["capabilities"]["engines"]]
    finally:
        sandbox.kubectl("delete", "inferenceproviderconfig", name, "--wait=false", check=False)


def test_upstream_target_crds_are_installed(sandbox):
    names = set(sandbox.kubectl("get", "crd", "-o", "name").stdout.split())
    for crd in (
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "inferencepools.inference.networking.k8s.io",
        "rayservices.ray.io",
        "workspaces.kaito.sh",
        "dynamographdeployments.nvidia.com",
    ):
        assert f"customresourcedefinition.apiextensions.k8s.io/{crd}" in names


@pytest.mark.parametrize("path", UPSTREAM_OBJECTS, ids=lambda p: p.stem)
def test_a_minimal_object_of_each_upstream_kind_is_accepted(sandbox, namespace, path):
    obj = _load(path)
    proc = sandbox.kubectl(
        "apply", "--server-side", "--validate=strict", "--field-manager=test", "-n", namespace, "-f", "-",
        input=yaml.safe_dump(obj),
    )
    assert "serverside-applied" in proc.stdout
    stored = kget(sandbox, obj["kind"].lower() + "." + obj["apiVersion"].split("/")[0], obj["metadata"]["name"], "-n", namespace)
    assert stored["metadata"]["uid"]
