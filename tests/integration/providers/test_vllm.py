"""Direct vLLM end to end on the sandbox: the core controller and ``airunway provider vllm`` as child processes, kwok
running the pods on simulated GPU nodes, and a registry stand-in on 127.0.0.1 to pin the default image's digest.
"""

from __future__ import annotations

import pytest
import yaml

from fakes.registry import Registry
from support import (
    DEPLOY,
    SHIM_NAMESPACE,
    ControllerProcess,
    check_shim_manifest,
    eventually,
    granted_rules,
    kget,
    kget_or_none,
    service_account_kubeconfig,
    shim_namespace,
)

MODEL_ID = "Qwen/Qwen3-0.6B"
DEFAULT_TAG = "cu130-nightly"
CREATED = "2026-11-01T08:00:00Z"


@pytest.fixture(scope="module")
def registry():
    with Registry() as reg:
        reg.digest = reg.add("vllm/vllm-openai", DEFAULT_TAG, CREATED, "0123abcd")
        yield reg


@pytest.fixture(scope="module")
def controllers(sandbox, registry, tmp_path_factory):
    logs = tmp_path_factory.mktemp("vllm-e2e")
    state = {"core": ControllerProcess(sandbox, logs / "controller.log"),
             "provider": start_provider(sandbox, registry, logs / "provider.log"), "logs": logs}
    try:
        state["core"].wait_ready()
        state["provider"].wait_ready()
        yield state  # tests may replace the provider (restarts): the one there at the end is stopped
    finally:
        state["core"].stop()
        state["provider"].stop()


def start_provider(sandbox, registry, log_path) -> ControllerProcess:
    return ControllerProcess(sandbox, log_path, command=("provider", "vllm"),
                             env={"AIRUNWAY_VLLM_REGISTRY_ENDPOINTS": f"default={registry.url}"})


def create(sandbox, namespace: str, name: str, gpus: int = 1, replicas: int = 1, **spec) -> None:
    doc = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
           "metadata": {"name": name, "namespace": namespace},
           "spec": {"model": {"id": MODEL_ID}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"},
                    "resources": {"gpu": {"count": gpus}}, "scaling": {"replicas": replicas}, **spec}}
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(doc))


def md(sandbox, namespace: str, name: str) -> dict:
    return kget(sandbox, "modeldeployment", name, "-n", namespace)


def phase_is(sandbox, namespace: str, name: str, phase: str, timeout: float = 60) -> dict:
    def check():
        obj = md(sandbox, namespace, name)
        return obj if (obj.get("status") or {}).get("phase") == phase else None

    return eventually(check, timeout=timeout, what=f"{name} {phase}")


def test_one_gpu_model_runs_scales_and_is_deleted(sandbox, namespace, registry, controllers):
    create(sandbox, namespace, "qwen")
    obj = phase_is(sandbox, namespace, "qwen", "Running", timeout=90)
    status = obj["status"]
    assert status["endpoint"] == {"service": "qwen", "port": 8000}
    assert status["replicas"] == {"desired": 1, "ready": 1, "available": 1}
    assert status["provider"]["resourceKind"] == "Deployment" and status["provider"]["resourceName"] == "qwen"
    assert status["message"] == "Deployments created, pods are ready"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert "airunway.ai/vllm-provider" in obj["metadata"]["finalizers"]

    # The default image pinned to the digest the registry gave for its tag.
    image = status["image"]
    assert image["resolved"] == f"vllm/vllm-openai@{registry.digest}"
    assert (image["source"], image["tag"], image["createdAt"], image["revision"]) == (
        "nightly", DEFAULT_TAG, CREATED, "0123abcd")
    dep = kget_or_none(sandbox, "deployment", "qwen", namespace)
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == image["resolved"]
    assert container["args"][:6] == ["--host", "0.0.0.0", "--port", "8000", "--model", MODEL_ID]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    svc = kget_or_none(sandbox, "service", "qwen", namespace)
    assert svc["spec"]["ports"][0]["port"] == 8000
    pods = kget(sandbox, "pods", "-n", namespace, "-l", "app=qwen")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running"]
    assert pods[0]["spec"]["nodeName"].startswith("gpu-node-")

    # 1 → 3 replicas: the same Deployment, updated in place.
    uid = dep["metadata"]["uid"]
    sandbox.kubectl("patch", "modeldeployment", "qwen", "-n", namespace, "--type=merge",
                    "-p", '{"spec": {"scaling": {"replicas": 3}}}')
    eventually(lambda: (md(sandbox, namespace, "qwen")["status"].get("replicas") or {}).get("ready") == 3,
               timeout=60, what="3 ready replicas")
    dep = kget_or_none(sandbox, "deployment", "qwen", namespace)
    assert dep["metadata"]["uid"] == uid and dep["spec"]["replicas"] == 3

    # Deleting it removes what it created, then the finalizer lets it go.
    sandbox.kubectl("delete", "modeldeployment", "qwen", "-n", namespace, "--wait=false")
    eventually(lambda: kget_or_none(sandbox, "modeldeployment", "qwen", namespace) is None, timeout=60,
               what="the ModelDeployment gone")
    eventually(lambda: kget_or_none(sandbox, "deployment", "qwen", namespace) is None
               and kget_or_none(sandbox, "service", "qwen", namespace) is None, timeout=60, what="Deployment and Service gone")


def test_values_outside_the_basic_multilingual_plane_reach_running(sandbox, namespace, controllers):
    """An emoji (U+1F680, a surrogate pair in UTF-16) in an env value goes through every write as itself."""
    value = "launch 🚀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓"
    create(sandbox, namespace, "emoji", env=[{"name": "GREETING", "value": value}])
    phase_is(sandbox, namespace, "emoji", "Running", timeout=90)
    container = kget_or_none(sandbox, "deployment", "emoji", namespace)["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "GREETING", "value": value} in container["env"]


def test_a_hundred_gpus_stay_pending_with_the_schedulers_reason(sandbox, namespace, controllers):
    create(sandbox, namespace, "huge", gpus=100)

    seen = {}

    def pending_with_reason():
        seen.update(md(sandbox, namespace, "huge").get("status") or {})
        return seen if seen.get("phase") == "Pending" and "nvidia.com/gpu" in (seen.get("message") or "") else None

    try:
        status = eventually(pending_with_reason, timeout=60, what="Pending with the scheduler's message")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; status: {seen}") from None
    assert "Insufficient nvidia.com/gpu" in status["message"], status["message"]
    assert kget_or_none(sandbox, "deployment", "huge", namespace) is not None


def test_hand_edits_and_deletions_are_put_back(sandbox, namespace, controllers):
    create(sandbox, namespace, "drift")
    phase_is(sandbox, namespace, "drift", "Running", timeout=90)
    sandbox.kubectl("scale", "deployment", "drift", "-n", namespace, "--replicas=4")
    eventually(lambda: kget_or_none(sandbox, "deployment", "drift", namespace)["spec"]["replicas"] == 1, timeout=60,
               what="the replica count put back")
    sandbox.kubectl("delete", "service", "drift", "-n", namespace)
    eventually(lambda: kget_or_none(sandbox, "service", "drift", namespace), timeout=60, what="the Service recreated")
    sandbox.kubectl("delete", "deployment", "drift", "-n", namespace)
    eventually(lambda: kget_or_none(sandbox, "deployment", "drift", namespace), timeout=60, what="the Deployment recreated")


def test_a_provider_restart_loses_nothing(sandbox, namespace, registry, controllers):
    create(sandbox, namespace, "steady")
    phase_is(sandbox, namespace, "steady", "Running", timeout=90)
    controllers["provider"].stop()
    try:
        sandbox.kubectl("patch", "modeldeployment", "steady", "-n", namespace, "--type=merge",
                        "-p", '{"spec": {"scaling": {"replicas": 2}}}')
        create(sandbox, namespace, "newcomer")
        config = kget(sandbox, "inferenceproviderconfig", "vllm")
        assert config["status"]["ready"] is False, "a stopped provider must say it is not ready"
    finally:
        controllers["provider"] = start_provider(sandbox, registry, controllers["logs"] / "provider-2.log")
        controllers["provider"].wait_ready()
    eventually(lambda: kget_or_none(sandbox, "deployment", "steady", namespace)["spec"]["replicas"] == 2, timeout=60,
               what="the change made while stopped")
    phase_is(sandbox, namespace, "newcomer", "Running", timeout=90)


# --------------------------------------------------------------------------------------------- the shim manifest

MANIFEST = DEPLOY / "providers" / "vllm.yaml"
SHIM = "airunway-vllm-provider"


def test_the_shim_manifest_is_accepted_by_the_api_server(sandbox):
    docs = check_shim_manifest(sandbox, MANIFEST, "vllm")
    assert len(docs) == 5  # the InferenceProviderConfig, ServiceAccount, ClusterRole, binding, Deployment
    granted = granted_rules(docs)
    assert granted[("apps", "deployments")] == granted[("", "services")] == {
        "get", "list", "watch", "create", "update", "patch", "delete"}
    assert granted[("", "pods")] == {"get", "list", "watch"}
    assert not any(group in ("ray.io", "kaito.sh", "nvidia.com") for group, _ in granted)


def test_the_provider_runs_with_only_the_shim_permissions(sandbox, namespace, registry, controllers, tmp_path):
    """``airunway provider vllm --leader-elect`` as the shim's ServiceAccount: registers, leads, runs a model to
    Running and cleans it up."""
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    rbac = [d for d in docs if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")]
    with shim_namespace(sandbox):
        sandbox.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rbac))
        controllers["provider"].stop()
        shim = None
        try:
            path = service_account_kubeconfig(sandbox, SHIM, SHIM_NAMESPACE, tmp_path / "shim.kubeconfig")
            shim = ControllerProcess(sandbox, tmp_path / "shim.log", "--leader-elect", command=("provider", "vllm"),
                                     env={"KUBECONFIG": str(path), "POD_NAMESPACE": SHIM_NAMESPACE})
            shim.wait_ready()
            create(sandbox, namespace, "rbac")
            phase_is(sandbox, namespace, "rbac", "Running", timeout=90)
            assert kget(sandbox, "inferenceproviderconfig", "vllm")["status"]["ready"] is True
            lease = kget(sandbox, "lease", SHIM, "-n", SHIM_NAMESPACE)
            assert lease["spec"]["holderIdentity"]
            sandbox.kubectl("delete", "modeldeployment", "rbac", "-n", namespace, "--wait=false")
            eventually(lambda: kget_or_none(sandbox, "modeldeployment", "rbac", namespace) is None, timeout=60,
                       what="the ModelDeployment gone")
            # RBAC refusals only (writes into namespaces other tests are deleting are refused too, harmlessly).
            refused = [line for line in shim.log_tail(200).splitlines()
                       if "forbidden" in line.lower() and "being terminated" not in line]
            assert not refused, "\n".join(refused)
        finally:
            if shim is not None:
                shim.stop()
            sandbox.kubectl("delete", "-f", "-", "--ignore-not-found", "--wait=false",
                            input=yaml.safe_dump_all(rbac), check=False)
            controllers["provider"] = start_provider(sandbox, registry, controllers["logs"] / "provider-3.log")
            controllers["provider"].wait_ready()
