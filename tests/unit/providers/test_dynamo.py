"""The Dynamo provider's pure parts: its registered config, the graph it renders, compatibility, status mapping."""

from __future__ import annotations

import copy
import importlib
from importlib import resources

import pytest
import yaml

from airunway.api.modeldeployment import ModelDeployment
from airunway.providers.dynamo.reconciler import compatibility_problem
from airunway.providers.dynamo.status import dgd_status
from airunway.providers.dynamo.transform import sanitize_label, transform

from support import DATA

dynamo_config = importlib.import_module("airunway.providers.dynamo.config")  # the package's config() hides it


def example(name: str, **changes) -> tuple[ModelDeployment, dict]:
    doc = yaml.safe_load((DATA / "modeldeployments" / f"{name}.yaml").read_text())
    doc["metadata"].update(namespace="ns", uid="uid-1")
    for key, value in changes.items():
        doc["spec"][key] = value
    return ModelDeployment.model_validate(doc), doc


def services_of(md) -> dict:
    return transform(md)[0]["spec"]["services"]


def test_registered_config_equals_the_shipped_copy():
    shipped = yaml.safe_load((resources.files("airunway.policy") / "default_providers" / "dynamo.yaml").read_text())
    assert dynamo_config.spec() == shipped["spec"]


def test_gateway_off_gives_a_frontend_with_the_typed_overrides():
    md, raw = example("llama-70b-pd", gateway={"enabled": False})
    services = services_of(md)
    assert set(services) == {"Frontend", "VllmPrefillWorker", "VllmDecodeWorker"}
    frontend = services["Frontend"]
    assert frontend["replicas"] == 2
    assert frontend["extraPodSpec"]["mainContainer"]["env"] == [{"name": "DYN_ROUTER_MODE", "value": "kv"}]
    assert "frontendSidecar" not in services["VllmDecodeWorker"]
    dgd = transform(md)[0]
    assert "routerMode" not in dgd and "frontend" not in dgd


def test_gateway_on_gives_the_endpoint_picker_and_sidecars():
    md, raw = example("llama-8b")
    services = services_of(md)
    epp = services["Epp"]
    assert [e["value"] for e in epp["extraPodSpec"]["mainContainer"]["env"]] == ["true", "false"]
    assert services["VllmWorker"]["frontendSidecar"]["args"] == ["-m", "dynamo.frontend", "--router-mode", "direct"]


def test_sglang_and_trtllm_arguments():
    md, raw = example("llama-8b", engine={"type": "sglang", "contextLength": 4096})
    args = services_of(md)["VllmWorker"]["extraPodSpec"]["mainContainer"]
    assert args["command"] == ["python3", "-m", "dynamo.sglang"]
    assert args["args"][:4] == ["--model-path", "meta-llama/Llama-3.1-8B-Instruct", "--context-length", "4096"]
    md, raw = example("llama-8b", engine={"type": "trtllm", "contextLength": 4096})
    container = services_of(md)["VllmWorker"]["extraPodSpec"]["mainContainer"]
    assert "--context-length" not in container["args"] and container["image"].endswith("tensorrtllm-runtime:1.1.1")


def test_raw_overrides_merge_into_the_graph():
    md, raw = example("llama-8b", provider={"name": "dynamo", "overrides": {
        "spec": {"services": {"VllmWorker": {"replicas": 3}}}}})
    worker = services_of(md)["VllmWorker"]
    assert worker["replicas"] == 3 and worker["componentType"] == "worker"


def test_mocker_mode():
    md, raw = example("llama-8b")
    raw = copy.deepcopy(raw)
    raw["metadata"]["annotations"] = {"airunway.ai/dynamo-test-backend": "mocker"}
    md = ModelDeployment.model_validate(raw)
    services = services_of(md)
    assert set(services) == {"Frontend", "VllmWorker"}
    worker = services["VllmWorker"]
    assert worker["extraPodSpec"]["mainContainer"]["command"] == ["python3", "-m", "dynamo.mocker"]
    assert worker["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}


@pytest.mark.parametrize(("changes", "problem"), [
    ({"engine": {"type": "llamacpp"}}, "Dynamo does not support llamacpp engine"),
    ({"resources": {"gpu": {"count": 0}}}, "Dynamo requires GPU (set resources.gpu.count > 0)"),
    ({}, None),
])
def test_compatibility(changes, problem):
    md, _ = example("llama-8b", **changes)
    assert compatibility_problem(md) == problem


def test_status_mapping():
    assert dgd_status({"metadata": {"name": "m"}}).phase == "Pending"
    observed = dgd_status({"metadata": {"name": "m"}, "status": {"state": "successful", "services": {
        "a": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 1}, "b": {"replicas": 4, "readyReplicas": 3}}}})
    assert observed.phase == "Running"
    assert (observed.replicas.desired, observed.replicas.ready, observed.replicas.available) == (6, 5, 4)
    assert observed.endpoint.service == "m-frontend" and observed.endpoint.port == 8000
    failed = dgd_status({"metadata": {"name": "m"}, "status": {"state": "failed", "conditions": [
        {"type": "Ready", "status": "False", "message": "boom"}]}})
    assert (failed.phase, failed.message) == ("Failed", "boom")


def test_label_sanitizer():
    assert sanitize_label("meta-llama/Llama-3.1-8B-Instruct") == "meta-llama-Llama-3.1-8B-Instruct"
    assert sanitize_label("-" + "x" * 70) == "x" * 62


def test_storage_volumes_become_claims_and_mounts():
    md, raw = example("llama-8b", model={"id": "m/x", "storage": {"volumes": [
        {"name": "cache", "purpose": "modelCache", "claimName": "shared", "readOnly": True},
        {"name": "comp", "purpose": "compilationCache", "size": "10Gi"}]}})
    dgd = transform(md)[0]
    assert dgd["spec"]["pvcs"] == [{"name": "shared", "create": False}, {"name": "llama-8b-comp", "create": False}]
    worker = dgd["spec"]["services"]["VllmWorker"]
    assert worker["volumeMounts"] == [{"name": "shared", "mountPoint": "/model-cache"},
                                      {"name": "llama-8b-comp", "mountPoint": "/compilation-cache",
                                       "useAsCompilationCache": True}]
    assert {"name": "HF_HOME", "value": "/model-cache"} in worker["extraPodSpec"]["mainContainer"]["env"]


def test_download_job_outcomes():
    from airunway.providers.storage import StorageError, download_outcome

    job = {"metadata": {"name": "m-model-download"}, "spec": {"backoffLimit": 2}}
    assert download_outcome({**job, "status": {"active": 1}}) is False
    assert download_outcome({**job, "status": {"succeeded": 1}}) is True
    assert download_outcome({**job, "status": {"conditions": [{"type": "Complete", "status": "True"}]}}) is True
    with pytest.raises(StorageError, match="failed permanently: out of disk"):
        download_outcome({**job, "status": {"conditions": [
            {"type": "Failed", "status": "True", "message": "out of disk"}]}})
    with pytest.raises(StorageError, match=r"failed=2, backoffLimit=2"):
        download_outcome({**job, "status": {"failed": 2}})
