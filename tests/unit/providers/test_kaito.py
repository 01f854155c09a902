"""The KAITO provider's pure parts: its registered config, the Workspace it renders, compatibility, status."""

from __future__ import annotations

import importlib
from importlib import resources

import pytest
import yaml

from airunway.api.modeldeployment import ModelDeployment
from airunway.providers.kaito.reconciler import compatibility_problem
from airunway.providers.kaito.status import workspace_status
from airunway.providers.kaito.transform import transform
from airunway.providers.objects import TransformError

kaito_config = importlib.import_module("airunway.providers.kaito.config")  # the package's config() hides it


def deployment(**spec) -> tuple[ModelDeployment, dict]:
    doc = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
           "metadata": {"name": "m", "namespace": "ns", "uid": "u"},
           "spec": {"model": {"id": "microsoft/phi-4"}, **spec}}
    return ModelDeployment.model_validate(doc), doc


def test_registered_config_equals_the_shipped_copy():
    shipped = yaml.safe_load((resources.files("airunway.policy") / "default_providers" / "kaito.yaml").read_text())
    assert kaito_config.spec() == shipped["spec"]


def test_vllm_preset_on_gpu_nodes():
    md, raw = deployment(engine={"type": "vllm"}, resources={"gpu": {"count": 1}}, scaling={"replicas": 2},
                         nodeSelector={"pool": "a100", "nvidia.com/gpu.present": "false"})
    ws = transform(md)[0]
    assert ws["inference"] == {"preset": {"name": "microsoft/phi-4"}}
    assert ws["resource"] == {"count": 2, "labelSelector": {"matchLabels": {
        "kubernetes.io/os": "linux", "pool": "a100", "nvidia.com/gpu.present": "true"}}}


def test_llamacpp_needs_an_image_and_uses_gguf_url():
    md, raw = deployment(engine={"type": "llamacpp"})
    with pytest.raises(TransformError, match="image is required for llamacpp engine type"):
        transform(md)
    md, raw = deployment(engine={"type": "llamacpp", "image": "runner:1", "args": {"ggufUrl": "https://x/m.gguf"}})
    container = transform(md)[0]["inference"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["https://x/m.gguf", "--address=:5000"]


def test_overrides_merge_and_null_deletes():
    md, raw = deployment(engine={"type": "vllm"}, resources={"gpu": {"count": 1}}, provider={"name": "kaito", "overrides": {
        "resource": {"count": 10, "labelSelector": {"matchLabels": {"nvidia.com/gpu.present": None, "vendor": "x"}}},
        "inference": {"preset": {"accessMode": "private"}}}})
    ws = transform(md)[0]
    assert ws["resource"]["count"] == 10
    assert ws["resource"]["labelSelector"]["matchLabels"] == {"kubernetes.io/os": "linux", "vendor": "x"}
    assert ws["inference"]["preset"] == {"name": "microsoft/phi-4", "accessMode": "private"}


def test_node_auto_provisioning_instance_type(monkeypatch):
    monkeypatch.setenv("AIRUNWAY_KAITO_NODE_AUTO_PROVISIONING", " Yes ")
    monkeypatch.setenv("AIRUNWAY_KAITO_GPU_INSTANCE_TYPE", "Standard_NC24ads_A100_v4")
    md, raw = deployment(engine={"type": "vllm"}, resources={"gpu": {"count": 1}})
    assert transform(md)[0]["resource"]["instanceType"] == "Standard_NC24ads_A100_v4"


@pytest.mark.parametrize(("spec", "problem"), [
    ({"engine": {"type": "sglang"}}, "KAITO does not support sglang engine"),
    ({"engine": {"type": "trtllm"}}, "KAITO does not support trtllm engine"),
    ({"engine": {"type": "vllm"}, "serving": {"mode": "disaggregated"}},
     "KAITO does not support disaggregated serving mode"),
    ({"engine": {"type": "llamacpp", "image": "runner:1"}}, "llamacpp engine requires spec.image to be set"),
    ({"engine": {"type": "llamacpp"}, "image": "runner:1"}, None),
])
def test_compatibility(spec, problem):
    md, _ = deployment(**spec)
    assert compatibility_problem(md) == problem


def test_status_mapping():
    base = {"metadata": {"name": "m"}, "resource": {"count": 3}}
    assert workspace_status(base).phase == "Pending"
    ready = workspace_status({**base, "status": {"state": "Ready"}})
    assert (ready.phase, ready.replicas.ready, ready.endpoint.port) == ("Running", 3, 80)
    assert workspace_status({**base, "status": {"state": "Running"}}).message == "fine-tuning in progress"
    assert workspace_status({**base, "status": {"state": "Weird"}}).message == "unknown state: Weird"
    progressing = workspace_status({**base, "status": {"conditions": [{"type": "ResourceReady", "status": "True"}]}})
    assert progressing.phase == "Deploying" and progressing.replicas.ready == 0
    failed = workspace_status({**base, "status": {"conditions": [
        {"type": "WorkspaceSucceeded", "status": "False", "message": "no nodes"}]}})
    assert (failed.phase, failed.message) == ("Failed", "no nodes")
