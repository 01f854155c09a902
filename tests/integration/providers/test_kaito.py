"""The KAITO provider on the sandbox (``airunway provider kaito`` as a child process): it waits for KAITO's
workspace controller, turns the seed's gemma-cpu example into a Workspace the CRD accepts, and follows the
Workspace's status as KAITO writes it. Deployments are handed over as the core controller would (status.provider).
"""

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

CONDITION_TIME = "2026-11-23T05:00:00Z"


@pytest.fixture(scope="module")
def provider(sandbox, tmp_path_factory):
    proc = ControllerProcess(sandbox, tmp_path_factory.mktemp("kaito") / "provider.log", "--heartbeat-seconds=1",
                             command=("provider", "kaito"))
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def kaito_controller(sandbox, namespace: str) -> None:
    """A stand-in for KAITO's workspace controller Deployment (kwok runs its pod, so it becomes ready)."""
    labels = {"app.kubernetes.io/name": "workspace", "app.kubernetes.io/instance": "kaito-workspace"}
    sandbox.kubectl("apply", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "kaito-workspace", "namespace": namespace, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "manager", "image": "kaito/workspace:0.10.0"}]}}},
    }))


def md_status(sandbox, namespace: str, name: str) -> dict:
    return kget(sandbox, "modeldeployment", name, "-n", namespace).get("status") or {}


def kaito_writes(sandbox, namespace: str, name: str, status: dict) -> None:
    sandbox.kubectl("patch", "workspace", name, "-n", namespace, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": status}))


def condition(type_: str, status: str, message: str = "") -> dict:
    return {"type": type_, "status": status, "reason": type_ + status, "message": message,
            "lastTransitionTime": CONDITION_TIME}


def test_gemma_cpu_waits_for_kaito_then_runs_as_a_workspace(sandbox, namespace, provider):
    doc = yaml.safe_load((DATA / "modeldeployments" / "gemma-cpu.yaml").read_text())
    doc["metadata"]["namespace"] = namespace
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(doc))
    sandbox.kubectl("patch", "modeldeployment", "gemma-cpu", "-n", namespace, "--subresource=status",
                    "--type=merge", "-p", json.dumps({"status": {"provider": {"name": "kaito"}}}))

    # No KAITO controller yet: told why, nothing created.
    def waiting():
        ready = [c for c in md_status(sandbox, namespace, "gemma-cpu").get("conditions") or [] if c["type"] == "Ready"]
        return ready and ready[0]["reason"] == "UpstreamControllerMissing" and ready[0]
    assert "not running" in eventually(waiting, timeout=30, what="UpstreamControllerMissing")["message"]
    assert kget_or_none(sandbox, "workspace", "gemma-cpu", namespace) is None

    kaito_controller(sandbox, namespace)
    eventually(lambda: kget(sandbox, "inferenceproviderconfig", "kaito").get("status", {}).get("ready"),
               timeout=60, what="kaito registered ready once its controller runs")
    ws = eventually(lambda: kget_or_none(sandbox, "workspace", "gemma-cpu", namespace), timeout=60, what="the Workspace")
    container = ws["inference"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/sozercan/llama-cpp-runner:latest"
    assert container["args"] == ["huggingface://google/gemma-3-1b-it-qat-q8_0-gguf", "--address=:5000"]
    assert container["resources"] == {"requests": {"memory": "16Gi", "cpu": "8"}}
    assert ws["resource"]["labelSelector"]["matchLabels"] == {"kubernetes.io/os": "linux"}

    kaito_writes(sandbox, namespace, "gemma-cpu", {"conditions": [
        condition("ResourceReady", "True"), condition("InferenceReady", "False", "pulling the image")]})
    eventually(lambda: md_status(sandbox, namespace, "gemma-cpu").get("phase") == "Deploying", timeout=60,
               what="Deploying")
    kaito_writes(sandbox, namespace, "gemma-cpu", {"state": "Ready", "conditions": [
        condition("ResourceReady", "True"), condition("InferenceReady", "True"),
        condition("WorkspaceSucceeded", "True")]})
    status = eventually(lambda: (s := md_status(sandbox, namespace, "gemma-cpu")).get("phase") == "Running" and s,
                        timeout=60, what="Running")
    assert status["endpoint"] == {"service": "gemma-cpu", "port": 80}
    assert status["replicas"] == {"desired": 1, "ready": 1, "available": 1}
    sandbox.kubectl("delete", "workspace", "gemma-cpu", "-n", namespace)
    eventually(lambda: kget_or_none(sandbox, "workspace", "gemma-cpu", namespace), timeout=60,
               what="the deleted Workspace put back")
    kaito_writes(sandbox, namespace, "gemma-cpu", {"state": "Failed", "conditions": [
        condition("WorkspaceSucceeded", "False", "inference pod crash-looping")]})
    status = eventually(lambda: (s := md_status(sandbox, namespace, "gemma-cpu")).get("phase") == "Failed" and s,
                        timeout=60, what="Failed")
    assert status["message"] == "inference pod crash-looping"

    sandbox.kubectl("delete", "modeldeployment", "gemma-cpu", "-n", namespace, "--wait=false")
    eventually(lambda: kget_or_none(sandbox, "modeldeployment", "gemma-cpu", namespace) is None, timeout=60,
               what="the deployment and its finalizer gone")


MANIFEST = DEPLOY / "providers" / "kaito.yaml"


def test_the_shim_manifest_is_accepted_by_the_api_server(sandbox):
    with real_namespaces(sandbox, "kaito-workspace"):
        docs = check_shim_manifest(sandbox, MANIFEST, "kaito")
    granted = granted_rules(docs)
    assert granted[("kaito.sh", "workspaces")] >= {"get", "list", "watch", "create", "update", "delete"}
    assert granted[("apps", "deployments")] == {"get", "list"}
    assert not any(group in ("ray.io", "nvidia.com") for group, _ in granted)


def test_hand_edits_are_put_back_and_a_restart_loses_nothing(sandbox, namespace, provider, tmp_path):
    kaito_controller(sandbox, namespace)
    doc = yaml.safe_load((DATA / "modeldeployments" / "gemma-cpu.yaml").read_text())
    doc["metadata"].update(namespace=namespace, name="steady")
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(doc))
    sandbox.kubectl("patch", "modeldeployment", "steady", "-n", namespace, "--subresource=status",
                    "--type=merge", "-p", json.dumps({"status": {"provider": {"name": "kaito"}}}))
    eventually(lambda: kget_or_none(sandbox, "workspace", "steady", namespace), timeout=60, what="the Workspace")
    sandbox.kubectl("patch", "workspace", "steady", "-n", namespace, "--type=merge",
                    "-p", json.dumps({"resource": {"count": 7}}))
    eventually(lambda: kget_or_none(sandbox, "workspace", "steady", namespace)["resource"]["count"] == 1, timeout=60,
               what="the hand edit put back")

    provider.stop()
    try:
        sandbox.kubectl("patch", "modeldeployment", "steady", "-n", namespace, "--type=merge",
                        "-p", json.dumps({"spec": {"scaling": {"replicas": 2}}}))
    finally:
        restarted = ControllerProcess(sandbox, tmp_path / "restarted.log", command=("provider", "kaito"))
    try:
        restarted.wait_ready()
        eventually(lambda: kget_or_none(sandbox, "workspace", "steady", namespace)["resource"]["count"] == 2, timeout=60,
                   what="the change made while stopped")
    finally:
        restarted.stop()
