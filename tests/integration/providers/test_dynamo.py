"""The Dynamo provider on the sandbox (``airunway provider dynamo`` as a child process): the seed examples become
DynamoGraphDeployments the CRD accepts, and the graph's status as Dynamo's operator writes it moves the
ModelDeployment. The deployments are handed to the provider as the core controller would (status.provider)."""

from __future__ import annotations

import json

import pytest
import yaml

from support import (
    DATA,
    DEPLOY,
    ControllerProcess,
    check_shim_manifest,
    eventually,
    granted_rules,
    kget,
    kget_or_none,
    real_namespaces,
)


@pytest.fixture(scope="module")
def provider(sandbox, tmp_path_factory):
    proc = ControllerProcess(sandbox, tmp_path_factory.mktemp("dynamo") / "provider.log",
                             command=("provider", "dynamo"))
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def hand_over(sandbox, namespace: str, example: str) -> str:
    doc = yaml.safe_load((DATA / "modeldeployments" / f"{example}.yaml").read_text())
    doc["metadata"]["namespace"] = namespace
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(doc))
    name = doc["metadata"]["name"]
    sandbox.kubectl("patch", "modeldeployment", name, "-n", namespace, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"provider": {"name": "dynamo",
                                                              "selectedReason": "explicit provider selection"}}}))
    return name


def service_status(name: str, component: str, replicas: int, ready: int) -> dict:
    """One entry of ``status.services`` as Dynamo's operator writes it (Grove PodCliques)."""
    return {"componentKind": "PodClique", "componentName": f"{name}-{component.lower()}", "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": ready, "availableReplicas": ready}


def operator_writes(sandbox, namespace: str, name: str, status: dict) -> None:
    sandbox.kubectl("patch", "dynamographdeployment", name, "-n", namespace, "--subresource=status",
                    "--type=merge", "-p", json.dumps({"status": status}))


def md_status(sandbox, namespace: str, name: str) -> dict:
    return kget(sandbox, "modeldeployment", name, "-n", namespace).get("status") or {}


def test_llama_8b_becomes_a_graph_and_follows_its_status(sandbox, namespace, provider):
    name = hand_over(sandbox, namespace, "llama-8b")
    dgd = eventually(lambda: kget_or_none(sandbox, "dynamographdeployment", name, namespace), timeout=30, what="the DGD")
    spec = dgd["spec"]
    assert spec["backendFramework"] == "vllm" and set(spec["services"]) == {"Epp", "VllmWorker"}
    worker = spec["services"]["VllmWorker"]
    assert worker["resources"]["limits"] == {"gpu": "1", "memory": "32Gi"}
    assert worker["extraPodSpec"]["mainContainer"]["args"][:4] == [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "8192"]
    assert worker["envFromSecret"] == "hf-token"
    status = eventually(lambda: (s := md_status(sandbox, namespace, name)).get("phase") == "Deploying" and s,
                        what="Deploying")
    assert status["provider"]["resourceKind"] == "DynamoGraphDeployment"

    operator_writes(sandbox, namespace, name, {"state": "initializing", "services": {
        "VllmWorker": service_status(name, "VllmWorker", 1, 0)}})
    status = eventually(lambda: (s := md_status(sandbox, namespace, name)).get("replicas", {}).get("desired") == 1
                        and s, timeout=60, what="progress")
    assert status["phase"] == "Deploying" and status["replicas"]["ready"] == 0
    operator_writes(sandbox, namespace, name, {"state": "successful", "services": {
        "VllmWorker": service_status(name, "VllmWorker", 1, 1)}})
    status = eventually(lambda: (s := md_status(sandbox, namespace, name)).get("phase") == "Running" and s,
                        timeout=60, what="Running")
    assert status["endpoint"] == {"service": f"{name}-frontend", "port": 8000}
    assert status["replicas"] == {"desired": 1, "ready": 1, "available": 1}

    operator_writes(sandbox, namespace, name, {"state": "failed", "conditions": [{
        "type": "Ready", "status": "False", "reason": "ServicesNotReady", "message": "worker crashed: CUDA OOM",
        "lastTransitionTime": "2026-11-23T05:00:00Z"}]})
    status = eventually(lambda: (s := md_status(sandbox, namespace, name)).get("phase") == "Failed" and s,
                        timeout=60, what="Failed")
    assert status["message"] == "worker crashed: CUDA OOM"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "DeploymentFailed")

    sandbox.kubectl("delete", "dynamographdeployment", name, "-n", namespace)
    eventually(lambda: kget_or_none(sandbox, "dynamographdeployment", name, namespace), timeout=60,
               what="the deleted DGD put back")


def test_llama_70b_disaggregated(sandbox, namespace, provider):
    name = hand_over(sandbox, namespace, "llama-70b-pd")
    dgd = eventually(lambda: kget_or_none(sandbox, "dynamographdeployment", name, namespace), timeout=30, what="the DGD")
    services = dgd["spec"]["services"]
    prefill, decode = services["VllmPrefillWorker"], services["VllmDecodeWorker"]
    assert (prefill["replicas"], prefill["resources"]["limits"]["gpu"]) == (2, "4")
    assert (decode["replicas"], decode["resources"]["limits"]["gpu"]) == (4, "2")
    assert prefill["subComponentType"] == "prefill" and decode["subComponentType"] == "decode"
    assert "--disaggregation-mode" in prefill["extraPodSpec"]["mainContainer"]["args"]

    operator_writes(sandbox, namespace, name, {"state": "successful", "services": {
        "VllmPrefillWorker": service_status(name, "VllmPrefillWorker", 2, 2),
        "VllmDecodeWorker": service_status(name, "VllmDecodeWorker", 4, 4)}})
    status = eventually(lambda: (s := md_status(sandbox, namespace, name)).get("phase") == "Running" and s,
                        timeout=60, what="Running")
    assert status["replicas"] == {"desired": 6, "ready": 6, "available": 6}
    assert status["endpoint"] == {"service": f"{name}-frontend", "port": 8000}


def test_llamacpp_is_refused(sandbox, namespace, provider):
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": "gguf", "namespace": namespace},
        "spec": {"model": {"id": "org/m"}, "engine": {"type": "llamacpp"}}}))
    sandbox.kubectl("patch", "modeldeployment", "gguf", "-n", namespace, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"provider": {"name": "dynamo"}}}))
    status = eventually(lambda: (s := md_status(sandbox, namespace, "gguf")).get("phase") == "Failed" and s,
                        what="Failed")
    assert status["message"] == "Dynamo does not support llamacpp engine"
    assert kget_or_none(sandbox, "dynamographdeployment", "gguf", namespace) is None


MANIFEST = DEPLOY / "providers" / "dynamo.yaml"


def test_the_shim_manifest_is_accepted_by_the_api_server(sandbox):
    with real_namespaces(sandbox, "dynamo-system"):
        docs = check_shim_manifest(sandbox, MANIFEST, "dynamo")
    granted = granted_rules(docs)
    assert granted[("nvidia.com", "dynamographdeployments")] >= {"get", "list", "watch", "create", "update", "delete"}
    assert granted[("", "persistentvolumeclaims")] == {"get", "list", "watch", "create", "delete"}
    assert not any(group in ("ray.io", "kaito.sh") for group, _ in granted)


def test_hand_edits_are_put_back_and_a_restart_loses_nothing(sandbox, namespace, provider, tmp_path):
    name = hand_over(sandbox, namespace, "llama-8b")
    eventually(lambda: kget_or_none(sandbox, "dynamographdeployment", name, namespace), timeout=30, what="the DGD")
    sandbox.kubectl("patch", "dynamographdeployment", name, "-n", namespace, "--type=merge",
                    "-p", json.dumps({"spec": {"services": {"VllmWorker": {"replicas": 5}}}}))
    eventually(lambda: kget_or_none(sandbox, "dynamographdeployment", name, namespace)["spec"]["services"]["VllmWorker"]
               ["replicas"] == 1, timeout=60, what="the hand edit put back")

    provider.stop()
    try:
        sandbox.kubectl("patch", "modeldeployment", name, "-n", namespace, "--type=merge",
                        "-p", json.dumps({"spec": {"scaling": {"replicas": 3}}}))
    finally:
        restarted = ControllerProcess(sandbox, tmp_path / "restarted.log", command=("provider", "dynamo"))
    try:
        restarted.wait_ready()
        eventually(lambda: kget_or_none(sandbox, "dynamographdeployment", name, namespace)["spec"]["services"]["VllmWorker"]
                   ["replicas"] == 3, timeout=60, what="the change made while stopped")
    finally:
        restarted.stop()


def test_model_storage_claims_and_download_come_first(sandbox, namespace, tmp_path):
    proc = ControllerProcess(sandbox, tmp_path / "storage.log", "--download-job-image=downloader:test",
                             command=("provider", "dynamo"))
    try:
        proc.wait_ready()
        doc = yaml.safe_load((DATA / "modeldeployments" / "llama-8b.yaml").read_text())
        doc["metadata"].update(namespace=namespace, name="cached")
        doc["spec"]["model"]["storage"] = {"volumes": [
            {"name": "models", "purpose": "modelCache", "size": "50Gi", "claimName": "cached-models",
             "accessMode": "ReadWriteOnce"}]}
        sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(doc))
        sandbox.kubectl("patch", "modeldeployment", "cached", "-n", namespace, "--subresource=status",
                        "--type=merge", "-p", json.dumps({"status": {"provider": {"name": "dynamo"}}}))

        status = eventually(lambda: (s := md_status(sandbox, namespace, "cached")).get("message")
                            == "Model download in progress" and s, timeout=60, what="the download started")
        assert status["phase"] == "Pending"
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["StorageReady"]["status"] == "True"
        assert conditions["ModelDownloaded"]["reason"] == "DownloadInProgress"
        pvc = kget_or_none(sandbox, "persistentvolumeclaim", "cached-models", namespace)
        assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert pvc["spec"]["resources"]["requests"]["storage"] == "50Gi"
        job = kget_or_none(sandbox, "job", "cached-model-download", namespace)
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert (container["image"], container["args"]) == (
            "downloader:test", ["download", "meta-llama/Llama-3.1-8B-Instruct"])
        assert container["envFrom"] == [{"secretRef": {"name": "hf-token"}}]
        assert kget_or_none(sandbox, "dynamographdeployment", "cached", namespace) is None, "no graph before the model"

        sandbox.kubectl("delete", "modeldeployment", "cached", "-n", namespace, "--wait=false")
        eventually(lambda: kget_or_none(sandbox, "modeldeployment", "cached", namespace) is None, timeout=60,
                   what="the deployment gone")
        assert kget_or_none(sandbox, "job", "cached-model-download", namespace) is None or \
            kget_or_none(sandbox, "job", "cached-model-download", namespace)["metadata"].get("deletionTimestamp")
        claim = kget_or_none(sandbox, "persistentvolumeclaim", "cached-models", namespace)
        assert claim is None or claim["metadata"].get("deletionTimestamp"), "the managed claim is deleted"
    finally:
        proc.stop()
