"""The KubeRay provider on the sandbox: RayServices accepted by KubeRay's real CRD (ray.io/v1, pinned module).

There is no KubeRay operator in the sandbox: the tests play it by writing RayService status the way it does (the
``Ready`` condition with its reasons, the active cluster's Serve application statuses), and check that the
ModelDeployment's phase, replicas, endpoint and conditions follow. The provider runs in-process, wired exactly as
``airunway provider kuberay`` wires it (registration included); the core controller is not needed: the tests select
the provider with a status patch.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest
import yaml

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.kube import Client
from airunway.providers.app import ProviderOptions
from airunway.providers.kuberay.config import RAY_SERVICES

from support import DATA, DEPLOY, real_namespaces, running_provider, until

NAME = "kuberay"


@pytest.fixture(scope="module", autouse=True)
def remove_registration(sandbox):
    """The provider registers the cluster-wide config ``kuberay``; later tests must not find it."""
    yield
    sandbox.kubectl("delete", "inferenceproviderconfig", NAME, "--ignore-not-found", check=False)


# --------------------------------------------------------------------------------------------- objects


def deployment(namespace: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


MULTI_GPU = {
    "model": {"id": "meta-llama/Llama-3.1-70B-Instruct"},
    "engine": {"type": "vllm", "contextLength": 8192},
    "resources": {"gpu": {"count": 4}, "memory": "64Gi"},
    "scaling": {"replicas": 2},
    "secrets": {"huggingFaceToken": "hf-token"},
}


def seed_example(namespace: str, name: str) -> dict:
    obj = yaml.safe_load((DATA / "modeldeployments" / f"{name}.yaml").read_text())
    obj["metadata"]["namespace"] = namespace
    if "provider" in obj["spec"]:
        obj["spec"]["provider"]["name"] = NAME
    return obj


async def create_selected(client: Client, obj: dict) -> None:
    """Create the deployment and select KubeRay for it, as the core controller would."""
    meta = obj["metadata"]
    await client.create(MODEL_DEPLOYMENTS, obj)
    await client.patch_merge(MODEL_DEPLOYMENTS, meta["name"], {"status": {"provider": {"name": NAME}}},
                             meta["namespace"], subresource="status")


def kuberay_status(state: str, *, message: str = "") -> dict:
    """RayService status as the KubeRay operator (v1.6) writes it: initializing, running, or a failed application."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def condition(type_, status, reason, text):
        return {"type": type_, "status": status, "reason": reason, "message": text, "lastTransitionTime": stamp}

    def applications(app_status, app_message=""):
        app = {"status": app_status, "serveDeploymentStatuses": {"VLLMDeployment": {
            "status": "HEALTHY" if app_status == "RUNNING" else "UPDATING"}}}
        if app_message:
            app["message"] = app_message
        return {"rayClusterName": "cluster-x7k2p", "applicationStatuses": {"llm": app}}

    if state == "initializing":
        return {"conditions": [condition("Ready", "False", "Initializing", "RayService is initializing"),
                               condition("UpgradeInProgress", "False", "NoPendingCluster", "No pending cluster")],
                "activeServiceStatus": applications("DEPLOYING"), "numServeEndpoints": 0}
    if state == "running":
        return {"conditions": [condition("Ready", "True", "NonZeroServeEndpoints",
                                         "Number of serve endpoints is greater than 0"),
                               condition("UpgradeInProgress", "False", "NoPendingCluster", "No pending cluster")],
                "activeServiceStatus": applications("RUNNING"), "numServeEndpoints": 3, "serviceStatus": "Running"}
    if state == "failed":
        return {"conditions": [condition("Ready", "False", "ZeroServeEndpoints",
                                         "Number of serve endpoints dropped to 0")],
                "activeServiceStatus": applications("DEPLOY_FAILED", message), "numServeEndpoints": 0}
    raise ValueError(state)


async def write_rayservice_status(client: Client, namespace: str, name: str, status: dict) -> None:
    await client.patch_merge(RAY_SERVICES, name, {"status": status}, namespace, subresource="status")


# --------------------------------------------------------------------------------------------- reads


async def md_status(client, namespace, name) -> dict:
    obj = await client.get_or_none(MODEL_DEPLOYMENTS, name, namespace)
    return (obj or {}).get("status") or {}


def conditions(status: dict) -> dict:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status.get("conditions") or []}


async def phase_is(client, namespace, name, phase, message: str | None = None):
    async def check():
        status = await md_status(client, namespace, name)
        if status.get("phase") == phase and (message is None or status.get("message") == message):
            return status
        return None

    return await until(check, what=f"{name} to be {phase} ({message})")


async def gone(client, resource, namespace, name) -> bool:
    obj = await client.get_or_none(resource, name, namespace)
    return obj is None or bool(obj["metadata"].get("deletionTimestamp"))


def worker_replicas(rs: dict) -> list[tuple[str, int]]:
    return [(g["groupName"], g["replicas"]) for g in rs["spec"]["rayClusterConfig"]["workerGroupSpecs"]]


# --------------------------------------------------------------------------------------------- tests


async def test_multi_gpu_vllm_follows_the_rayservice(client, namespace):
    async with running_provider(client, NAME):
        async def registered():
            ipc = await client.get_or_none(INFERENCE_PROVIDER_CONFIGS, NAME)
            return ipc if ipc and (ipc.get("status") or {}).get("ready") is True else None

        ipc = await until(registered, what="the kuberay config to be registered ready")
        assert ipc["status"]["upstreamCRDVersion"] == "ray.io/v1"
        assert ipc["status"]["version"].startswith("kuberay-provider:")
        assert ipc["metadata"]["annotations"]["airunway.ai/display-name"] == "KubeRay"

        await create_selected(client, deployment(namespace, "llama", MULTI_GPU))
        status = await phase_is(client, namespace, "llama", "Deploying")
        md = await client.get(MODEL_DEPLOYMENTS, "llama", namespace)
        assert md["metadata"]["finalizers"] == ["airunway.ai/kuberay-provider"]
        assert status["message"] == "KubeRay created, waiting for pods to be ready"
        assert status["provider"] == {"name": NAME, "resourceName": "llama", "resourceKind": "RayService"}
        assert status["endpoint"] == {"service": "llama-serve-svc", "port": 8000}
        assert status["replicas"] == {"desired": 2, "ready": 0, "available": 0}
        assert {k: v[:2] for k, v in conditions(status).items()} == {
            "ProviderCompatible": ("True", "CompatibilityVerified"),
            "ResourceCreated": ("True", "ResourceCreated"),
            "Ready": ("False", "DeploymentInProgress"),
        }

        # the RayService as KubeRay's CRD stored it (its defaults filled in)
        rs = await client.get(RAY_SERVICES, "llama", namespace)
        assert rs["metadata"]["ownerReferences"][0]["uid"] == md["metadata"]["uid"]
        assert yaml.safe_load(rs["spec"]["serveConfigV2"])["applications"][0]["deployments"] == [
            {"name": "VLLMDeployment", "num_replicas": 2}]
        [workers] = rs["spec"]["rayClusterConfig"]["workerGroupSpecs"]
        assert (workers["groupName"], workers["replicas"], workers["numOfHosts"]) == ("gpu-workers", 2, 1)
        assert workers["template"]["spec"]["containers"][0]["resources"]["limits"] == {
            "nvidia.com/gpu": "4", "memory": "64Gi"}
        head = rs["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value", e.get("valueFrom")) for e in head["env"]}
        assert env["VLLM_ENGINE_ARGS"] == "--model meta-llama/Llama-3.1-70B-Instruct --max-model-len 8192"
        assert env["HF_TOKEN"] == {"secretKeyRef": {"name": "hf-token", "key": "HF_TOKEN"}}

        # the operator reports progress, then readiness, then a failed application, then recovery
        await write_rayservice_status(client, namespace, "llama", kuberay_status("initializing"))
        status = await phase_is(client, namespace, "llama", "Deploying", "RayService is initializing")
        assert status["replicas"]["ready"] == 0

        await write_rayservice_status(client, namespace, "llama", kuberay_status("running"))
        status = await phase_is(client, namespace, "llama", "Running", "KubeRay created, pods are ready")
        assert status["replicas"] == {"desired": 2, "ready": 2, "available": 2}
        assert conditions(status)["Ready"] == ("True", "DeploymentReady", "All replicas are ready")

        await write_rayservice_status(client, namespace, "llama", kuberay_status("failed", message="CUDA OOM"))
        status = await phase_is(client, namespace, "llama", "Failed", "CUDA OOM")
        assert status["replicas"] == {"desired": 2, "ready": 0, "available": 0}
        assert conditions(status)["Ready"] == ("False", "DeploymentFailed", "CUDA OOM")

        await write_rayservice_status(client, namespace, "llama", kuberay_status("running"))
        await phase_is(client, namespace, "llama", "Running")

        # hand edits of our fields are put back
        await client.patch_json(RAY_SERVICES, "llama", [
            {"op": "replace", "path": "/spec/rayClusterConfig/workerGroupSpecs/0/replicas", "value": 7},
            {"op": "replace", "path": "/spec/serveConfigV2", "value": "applications: []\n"},
        ], namespace)

        async def reverted():
            rs = await client.get(RAY_SERVICES, "llama", namespace)
            return worker_replicas(rs) == [("gpu-workers", 2)] and "VLLMDeployment" in rs["spec"]["serveConfigV2"]

        await until(reverted, what="the hand edit to be reverted")

        # a deleted RayService is created again; with no status yet the deployment is back to Deploying
        uid = rs["metadata"]["uid"]
        await client.delete(RAY_SERVICES, "llama", namespace)

        async def recreated():
            rs = await client.get_or_none(RAY_SERVICES, "llama", namespace)
            return rs if rs and rs["metadata"]["uid"] != uid else None

        await until(recreated, what="the RayService to be recreated")
        status = await phase_is(client, namespace, "llama", "Deploying")
        assert status["replicas"]["ready"] == 0

        # deleting the deployment deletes its RayService, then the finalizer goes
        await client.delete(MODEL_DEPLOYMENTS, "llama", namespace)
        await until(lambda: gone(client, MODEL_DEPLOYMENTS, namespace, "llama"), what="the deployment to go")
        await until(lambda: gone(client, RAY_SERVICES, namespace, "llama"), what="the RayService to go")
        assert await client.get_or_none(MODEL_DEPLOYMENTS, "llama", namespace) is None


async def test_seed_examples_on_kuberay(client, namespace):
    async with running_provider(client, NAME):
        for name in ("llama-70b-pd", "llama-8b", "qwen-demo", "gemma-cpu"):
            await create_selected(client, seed_example(namespace, name))

        # disaggregated: 2 prefill workers × 4 GPUs and 4 decode workers × 2 GPUs
        status = await phase_is(client, namespace, "llama-70b-pd", "Deploying")
        assert status["replicas"] == {"desired": 6, "ready": 0, "available": 0}
        assert status["endpoint"] == {"service": "llama-70b-pd-serve-svc", "port": 8000}
        rs = await client.get(RAY_SERVICES, "llama-70b-pd", namespace)
        assert [(g["groupName"], g["replicas"], g["template"]["spec"]["containers"][0]["resources"]["limits"])
                for g in rs["spec"]["rayClusterConfig"]["workerGroupSpecs"]] == [
            ("prefill-workers", 2, {"nvidia.com/gpu": "4", "memory": "128Gi"}),
            ("decode-workers", 4, {"nvidia.com/gpu": "2", "memory": "64Gi"}),
        ]

        for name in ("llama-8b", "qwen-demo"):
            status = await phase_is(client, namespace, name, "Deploying")
            assert status["endpoint"] == {"service": f"{name}-serve-svc", "port": 8000}
            rs = await client.get(RAY_SERVICES, name, namespace)
            assert worker_replicas(rs) == [("gpu-workers", 1)]

        # llama.cpp on CPUs is not KubeRay's: refused, nothing created
        status = await phase_is(client, namespace, "gemma-cpu", "Failed")
        assert status["message"] == "KubeRay only supports vllm engine, got llamacpp"
        assert conditions(status)["ProviderCompatible"] == (
            "False", "IncompatibleConfiguration", "KubeRay only supports vllm engine, got llamacpp")
        assert await client.get_or_none(RAY_SERVICES, "gemma-cpu", namespace) is None


async def test_a_provider_restart_loses_nothing(client, namespace):
    async with running_provider(client, NAME):
        for name in ("ready-later", "edited", "deleted"):
            await create_selected(client, deployment(namespace, name, copy.deepcopy(MULTI_GPU)))
        for name in ("ready-later", "edited", "deleted"):
            await phase_is(client, namespace, name, "Deploying")

    ipc = await client.get(INFERENCE_PROVIDER_CONFIGS, NAME)
    assert ipc["status"]["ready"] is False, "a stopped provider is not ready"

    # while the provider is down: the operator reports readiness, someone edits a RayService, a deployment is
    # deleted (its finalizer holds it) and another one is selected
    await write_rayservice_status(client, namespace, "ready-later", kuberay_status("running"))
    await client.patch_json(RAY_SERVICES, "edited", [
        {"op": "replace", "path": "/spec/rayClusterConfig/workerGroupSpecs/0/replicas", "value": 9}], namespace)
    await client.delete(MODEL_DEPLOYMENTS, "deleted", namespace)
    await create_selected(client, deployment(namespace, "new", copy.deepcopy(MULTI_GPU)))
    assert (await client.get(MODEL_DEPLOYMENTS, "deleted", namespace))["metadata"]["deletionTimestamp"]

    async with running_provider(client, NAME):
        await phase_is(client, namespace, "ready-later", "Running")

        async def edit_reverted():
            return worker_replicas(await client.get(RAY_SERVICES, "edited", namespace)) == [("gpu-workers", 2)]

        await until(edit_reverted, what="the edit made while down to be reverted")
        await until(lambda: gone(client, MODEL_DEPLOYMENTS, namespace, "deleted"), what="the deleted deployment")
        await until(lambda: gone(client, RAY_SERVICES, namespace, "deleted"), what="its RayService")
        await phase_is(client, namespace, "new", "Deploying")
        assert await client.get_or_none(RAY_SERVICES, "new", namespace) is not None

        async def ready_again():
            ipc = await client.get(INFERENCE_PROVIDER_CONFIGS, NAME)
            return ipc["status"]["ready"] is True

        await until(ready_again, what="the config to be ready again")


# --------------------------------------------------------------------------------------------- the shim manifest

MANIFEST = DEPLOY / "providers" / "kuberay.yaml"
SHIM_NAMESPACE = "airunway-system"
SHIM = "airunway-kuberay-provider"


def test_the_shim_manifest_is_accepted_by_the_api_server(sandbox):
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert kinds == {
        ("InferenceProviderConfig", "kuberay"), ("ServiceAccount", SHIM), ("ClusterRole", f"{SHIM}-role"), ("ClusterRoleBinding", f"{SHIM}-rolebinding"),
        ("Namespace", "kuberay-system"), ("Role", "airunway-hf-secret"), ("RoleBinding", "airunway-hf-secret"),
        ("Deployment", SHIM),
    }
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == SHIM_NAMESPACE
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == SHIM
    [container] = pod["containers"]
    assert container["image"] == "airunway:0.1.0"
    assert container["command"] + container["args"] == [
        "airunway", "provider", "kuberay", "--leader-elect", "--health-probe-bind-address=:8081"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True

    with real_namespaces(sandbox, SHIM_NAMESPACE, "kuberay-system"):
        out = sandbox.kubectl("apply", "--dry-run=server", "-f", str(MANIFEST)).stdout
        assert out.count("(server dry run)") == len(docs), out


async def test_the_provider_runs_with_only_the_shim_permissions(sandbox, client, namespace, tmp_path):
    """The provider, authenticated as the shim's ServiceAccount, registers, leads and reconciles end to end."""
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    rbac = [d for d in docs if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")]
    with real_namespaces(sandbox, SHIM_NAMESPACE):
        sandbox.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rbac))
        try:
            token = sandbox.kubectl("create", "token", SHIM, "-n", SHIM_NAMESPACE).stdout.strip()
            kubeconfig = yaml.safe_load(sandbox.kubeconfig.read_text())
            kubeconfig["users"] = [{"name": SHIM, "user": {"token": token}}]
            for context in kubeconfig["contexts"]:
                context["context"]["user"] = SHIM
            path = tmp_path / "shim.kubeconfig"
            path.write_text(yaml.safe_dump(kubeconfig))
            await client.delete(INFERENCE_PROVIDER_CONFIGS, NAME, ignore_not_found=True)

            shim = await Client.connect(str(path), field_manager="kuberay-provider")
            try:
                options = ProviderOptions(leader_elect=True, leader_election_namespace=SHIM_NAMESPACE)
                async with running_provider(shim, NAME, options):
                    await create_selected(client, deployment(namespace, "rbac", MULTI_GPU))
                    await phase_is(client, namespace, "rbac", "Deploying")
                    await write_rayservice_status(client, namespace, "rbac", kuberay_status("running"))
                    await phase_is(client, namespace, "rbac", "Running")
                    ipc = await client.get(INFERENCE_PROVIDER_CONFIGS, NAME)
                    assert ipc["status"]["ready"] is True
                    await client.delete(MODEL_DEPLOYMENTS, "rbac", namespace)
                    await until(lambda: gone(client, MODEL_DEPLOYMENTS, namespace, "rbac"), what="the deletion")
                    lease = sandbox.kubectl("get", "lease", SHIM, "-n", SHIM_NAMESPACE, "-o", "json").stdout
                    assert json.loads(lease)["spec"]["holderIdentity"]
            finally:
                await shim.close()
        finally:
            sandbox.kubectl("delete", "-f", "-", "--ignore-not-found", "--wait=false", input=yaml.safe_dump_all(rbac),
                            check=False)
