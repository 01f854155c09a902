"""The installation endpoints on the sandbox: a real ``helm`` installing and removing a chart served by a chart
repository on 127.0.0.1, the provider and runtime status that follows, the GPU Operator and GPU capacity."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import yaml

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.resources import CRDS, NAMESPACES, PODS
from airunway.policy.gateway import DEFAULT_EPP_IMAGE
from airunway.sandbox.cluster import GPU_MEMORY_MIB, GPU_PRODUCT, REGION
from airunway.server.app import Settings
from airunway.versions import GAIE_CRDS, GATEWAY_API_CRDS

from charts import CHART, CRD_NAME, provider_config
from support import DEPLOY, DashboardAPI, kget, until


def _settings(sandbox) -> Settings:
    return Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)


async def test_helm_install_and_uninstall_show_in_provider_status(sandbox, chart_repo, helm_env):
    name = f"demo-{uuid.uuid4().hex[:6]}"
    namespace = f"demo-op-{uuid.uuid4().hex[:6]}"
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, provider_config(name, chart_repo, namespace))
        try:
            helm = (await api.get("/api/installation/helm/status")).json()
            assert helm["available"] is True and helm["version"].startswith("v3.")

            before = (await api.get(f"/api/installation/providers/{name}/status")).json()
            assert before["installed"] is False and before["crdFound"] is False and before["installable"] is True
            assert before["message"] == "Demo widget CRD not found"
            assert before["helmCommands"] == [
                f"helm repo add demo {chart_repo}", "helm repo update",
                f"helm install {CHART} demo/{CHART} --namespace {namespace} --create-namespace --version 0.1.0 "
                "--set-json 'logLevel=\"debug\"'"]
            commands = (await api.get(f"/api/installation/providers/{name}/commands")).json()
            assert commands["commands"] == before["helmCommands"] and commands["providerName"] == "Demo"

            installed = await api.post(f"/api/installation/providers/{name}/install")
            assert installed.status_code == 200, installed.text
            body = installed.json()
            assert body["success"] is True and body["message"] == "Demo installed successfully"
            assert [r["step"] for r in body["results"]] == ["repo-add-demo", "repo-update", f"install-{CHART}"]
            assert all(r["success"] for r in body["results"])
            progress = (await api.get(f"/api/installation/providers/{name}/progress")).json()
            assert progress["operation"] == "install" and progress["running"] is False and progress["success"]
            assert [r["step"] for r in progress["results"]] == [r["step"] for r in body["results"]]

            # The release's objects are real: the CRD from crds/, the Deployment with the configured value.
            deployment = kget(sandbox, "deployment", CHART, "-n", namespace)
            assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == ["--log-level=debug"]
            assert await kube.get_or_none(CRDS, CRD_NAME) is not None

            async def ready():
                status = (await api.get(f"/api/installation/providers/{name}/status")).json()
                return status if status["installed"] else None

            status = await until(ready, timeout=90, what="the operator pod ready")
            assert status["crdFound"] is True and status["operatorRunning"] is True
            assert status["message"] == "Demo widget CRD found and Demo operator pods are ready"
            runtimes = (await api.get("/api/runtimes/status")).json()["runtimes"]
            mine = next(r for r in runtimes if r["id"] == name)
            assert mine["installed"] is True and mine["healthy"] is True and mine["name"] == "Demo"

            removed = await api.post(f"/api/installation/providers/{name}/uninstall")
            assert removed.status_code == 200 and removed.json()["success"] is True
            assert removed.json()["message"] == "Demo uninstalled successfully"
            assert [r["step"] for r in removed.json()["results"]] == [f"uninstall-{CHART}"]

            async def gone():
                status = (await api.get(f"/api/installation/providers/{name}/status")).json()
                return status if not status["installed"] else None

            status = await until(gone, timeout=90, what="the operator pod gone")
            # Helm leaves the CRDs of crds/ in place: found, but no operator.
            assert status["crdFound"] is True and status["operatorRunning"] is False
            assert status["message"] == (f"Demo widget CRD found, but no ready Demo operator pods were detected in "
                                         f"{namespace}")
            assert subprocess.run([str(sandbox.bin_dir / "helm"), "--kubeconfig", str(sandbox.kubeconfig), "status",
                                   CHART, "-n", namespace], capture_output=True).returncode != 0

            # Installing again with the chart's CRDs handled by us: the existing CRD is left alone.
            config = await kube.get(INFERENCE_PROVIDER_CONFIGS, name)
            config["metadata"]["annotations"] = provider_config(name, chart_repo, namespace, preInstallMissingCrds=True)[
                "metadata"]["annotations"]
            await kube.update(INFERENCE_PROVIDER_CONFIGS, config)
            again = await api.post(f"/api/installation/providers/{name}/install")
            assert again.status_code == 200, again.text
            steps = [r["step"] for r in again.json()["results"]]
            assert steps == ["repo-add-demo", "repo-update", "skip-crd-widgets-demo-airunway-test",
                             f"install-{CHART}"]
            await until(ready, timeout=90, what="the operator pod ready again")
            assert (await api.post(f"/api/installation/providers/{name}/uninstall")).json()["success"] is True

            removed_config = await api.post(f"/api/installation/providers/{name}/uninstall-crds")
            assert removed_config.json() == {"success": True, "message": f"{name} provider config removed successfully"}
            assert await kube.get_or_none(INFERENCE_PROVIDER_CONFIGS, name) is None
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)
            await kube.delete(CRDS, CRD_NAME, ignore_not_found=True)
            await kube.delete(NAMESPACES, namespace, ignore_not_found=True)


async def test_a_failed_install_names_its_step(sandbox, helm_env):
    """A repository nobody serves: the install stops at its first step, with helm's own words."""
    name = f"demo-{uuid.uuid4().hex[:6]}"
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, provider_config(name, "http://127.0.0.1:9", "demo-nowhere"))
        try:
            answer = await api.post(f"/api/installation/providers/{name}/install")
            unknown = await api.post("/api/installation/providers/no-such-provider/install")
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)
    assert answer.status_code == 500
    body = answer.json()
    assert body["error"]["message"].startswith('Installation failed at step "repo-add-demo": ')
    assert "127.0.0.1:9" in body["error"]["message"]
    assert [r["step"] for r in body["results"]] == ["repo-add-demo"] and body["results"][0]["success"] is False
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Provider not found: no-such-provider"


async def test_without_helm(sandbox, monkeypatch):
    monkeypatch.setenv("HELM_PATH", "/nonexistent/helm")
    name = f"demo-{uuid.uuid4().hex[:6]}"
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, provider_config(name, "http://127.0.0.1:9", "demo-nowhere"))
        try:
            status = (await api.get("/api/installation/helm/status")).json()
            install = await api.post(f"/api/installation/providers/{name}/install")
            gpu_operator = await api.post("/api/installation/gpu-operator/install")
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)
    assert status == {"available": False, "error": "Helm not found. Please install Helm CLI."}
    expected = ("Helm CLI not available: Helm not found. Please install Helm CLI.. Please install Helm or use the "
                "manual installation commands.")
    assert install.status_code == 400 and install.json()["error"]["message"] == expected
    assert gpu_operator.status_code == 400 and gpu_operator.json()["error"]["message"] == expected


async def test_providers_registered_without_a_crd_cannot_be_installed_here(sandbox):
    name = f"demo-{uuid.uuid4().hex[:6]}"
    config = provider_config(name, "http://127.0.0.1:9", "demo-nowhere")
    config["spec"]["capabilities"]["engines"][0]["requiresCRD"] = False
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, config)
        try:
            status = (await api.get(f"/api/installation/providers/{name}/status")).json()
            install = await api.post(f"/api/installation/providers/{name}/install")
            uninstall = await api.post(f"/api/installation/providers/{name}/uninstall")
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)
    assert status["requiresCRD"] is False and status["installable"] is False and status["helmCommands"] == []
    assert status["installed"] is False and status["message"] == "Provider is registered but not ready yet."
    assert install.status_code == 400 and install.json()["error"]["message"] == (
        "Demo is managed by provider registration and cannot be installed from this page.")
    assert uninstall.status_code == 400 and uninstall.json()["error"]["message"] == (
        "Demo is managed by provider registration and cannot be uninstalled from this page.")


async def test_runtime_status_follows_the_registeredprovider_config(sandbox):
    """A KubeRay config without health hints is judged by the hints KubeRay publishes (the built-in table); once it
    names its own CRD label and operator namespace, the status follows those; the namespace comes from the config, the
    deploy form's order from the table, and storage volumes from the table unless the config declares them."""
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    engines = [{"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True}]
    installation = {"airunway.ai/installation": json.dumps({"helmCharts": [
        {"name": "kuberay-operator", "chart": "kuberay/kuberay-operator", "namespace": "ray-system"}]})}
    bare = {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
            "metadata": {"name": "kuberay", "annotations": installation}, "spec": {"capabilities": {"engines": engines}}}
    own = {**installation, "airunway.ai/default-namespace": namespace,
           "airunway.ai/capabilities": json.dumps({"engines": engines, "features": {"modelStorage": True}}),
           "airunway.ai/health": json.dumps({
               "crds": [{"name": "rayservices.ray.io", "displayName": "RayService CRD"}],
               "operatorPods": [{"namespace": namespace, "selectors": ["app=elsewhere"]}]})}

    async def kuberay(api) -> dict:
        runtimes = (await api.get("/api/runtimes/status")).json()["runtimes"]
        return next(r for r in runtimes if r["id"] == "kuberay")

    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        saved = await kube.get_or_none(INFERENCE_PROVIDER_CONFIGS, "kuberay")
        await kube.delete(INFERENCE_PROVIDER_CONFIGS, "kuberay", ignore_not_found=True)

        async def gone():
            return await kube.get_or_none(INFERENCE_PROVIDER_CONFIGS, "kuberay") is None

        await until(gone, what="the kuberay config deleted")
        try:
            await kube.create(INFERENCE_PROVIDER_CONFIGS, bare)
            first = await kuberay(api)
            registered = await kube.get(INFERENCE_PROVIDER_CONFIGS, "kuberay")
            registered["metadata"]["annotations"] = own
            await kube.update(INFERENCE_PROVIDER_CONFIGS, registered)
            second = await kuberay(api)
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, "kuberay", ignore_not_found=True)
            if saved is not None:
                await until(gone, what="the test's kuberay config deleted")
                meta = {k: v for k, v in saved["metadata"].items() if k in ("name", "labels", "annotations")}
                await kube.create(INFERENCE_PROVIDER_CONFIGS, {**saved, "metadata": meta})
    assert first["crdFound"] is True and first["installed"] is False
    assert first["message"].startswith("KubeRay RayService CRD found, but no ready KubeRay operator pods")
    assert (first["defaultNamespace"], first["preference"], first["modelStorage"]) == ("default", 40, False)
    assert second["message"] == (
        f"RayService CRD found, but no ready KubeRay operator pods were detected in {namespace}")
    assert (second["defaultNamespace"], second["preference"], second["modelStorage"]) == (namespace, 40, True)


async def test_runtime_status_is_also_under_installation(sandbox):
    """Upstream answers ``/api/installation/runtimes/status`` as well, with the same body."""
    provider = f"both-{uuid.uuid4().hex[:6]}"
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, {
            "apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": provider},
            "spec": {"capabilities": {"engines": [{"name": "vllm", "requiresCRD": False}]}}})
        try:
            plain = await api.get("/api/runtimes/status")
            installation = await api.get("/api/installation/runtimes/status")
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, provider, ignore_not_found=True)
    assert plain.status_code == installation.status_code == 200
    assert installation.json() == plain.json()
    assert provider in [r["id"] for r in plain.json()["runtimes"]]


async def test_gateway_status_names_the_pinned_versions_the_cluster_has(sandbox):
    """The sandbox installs the pinned Gateway API and Inference Extension CRDs: the status reads their versions off
    the CRDs, and its pinned version, install commands and the endpoint picker image name the same releases."""
    async with DashboardAPI(sandbox, _settings(sandbox)) as api:
        status = (await api.get("/api/installation/gateway/status")).json()
    assert status["gatewayApiInstalled"] and status["inferenceExtInstalled"]
    gateway_api, extension = status["gatewayApiVersion"], status["inferenceExtVersion"]
    assert (gateway_api, extension) == (GATEWAY_API_CRDS.version, GAIE_CRDS.version)
    assert status["pinnedVersion"] == extension
    assert status["installCommands"] == [
        "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/"
        f"{gateway_api}/standard-install.yaml",
        "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/"
        f"download/{extension}/manifests.yaml"]
    assert DEFAULT_EPP_IMAGE.endswith(f"/epp:{extension}")


def _gpu_nodes(sandbox) -> list[dict]:
    return [n for n in kget(sandbox, "nodes")["items"] if int(n["status"]["allocatable"].get("nvidia.com/gpu", 0))]


async def test_gpu_capacity_counts_what_pods_request(sandbox, namespace):
    nodes = _gpu_nodes(sandbox)
    per_node = int(nodes[0]["status"]["allocatable"]["nvidia.com/gpu"])
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        before = (await api.get("/api/installation/gpu-capacity")).json()
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "takes-gpus"},
               "spec": {"nodeName": nodes[0]["metadata"]["name"], "containers": [
                   {"name": "c", "image": "x", "resources": {"limits": {"nvidia.com/gpu": "1"}}},
                   {"name": "d", "image": "x", "resources": {"requests": {"nvidia.com/gpu": "1"},
                                                             "limits": {"nvidia.com/gpu": "1"}}}]}}
        await kube.create(PODS, pod, namespace)
        after = (await api.get("/api/installation/gpu-capacity")).json()
        detailed = (await api.get("/api/installation/gpu-capacity/detailed")).json()
    total = sum(int(n["status"]["allocatable"]["nvidia.com/gpu"]) for n in nodes)
    assert before["totalGpus"] == after["totalGpus"] == total and before["gpuNodeCount"] == len(nodes)
    assert after["allocatedGpus"] == before["allocatedGpus"] + 2
    assert after["availableGpus"] == total - after["allocatedGpus"]
    assert after["totalMemoryGb"] == round(int(GPU_MEMORY_MIB) / 1024) and after["maxNodeGpuCapacity"] == per_node
    first = next(n for n in after["nodes"] if n["nodeName"] == nodes[0]["metadata"]["name"])
    was = next(n for n in before["nodes"] if n["nodeName"] == nodes[0]["metadata"]["name"])
    assert first["allocatedGpus"] == was["allocatedGpus"] + 2
    assert "nodes" not in detailed and detailed["totalGpus"] == total
    assert detailed["nodePools"] == [{
        "name": "gpupool", "gpuCount": total, "nodeCount": len(nodes), "availableGpus": after["availableGpus"],
        "gpuModel": GPU_PRODUCT, "instanceType": nodes[0]["metadata"]["labels"]["node.kubernetes.io/instance-type"],
        "region": REGION}]


CLUSTER_POLICY_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "clusterpolicies.nvidia.com"},
    "spec": {"group": "nvidia.com", "scope": "Cluster",
             "names": {"plural": "clusterpolicies", "singular": "clusterpolicy", "kind": "ClusterPolicy"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]},
}


async def test_gpu_operator_status_follows_its_crd_and_pod(sandbox, helm_env):
    gpus = sum(int(n["status"]["allocatable"]["nvidia.com/gpu"]) for n in _gpu_nodes(sandbox))
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, _settings(sandbox)) as api:
        before = (await api.get("/api/installation/gpu-operator/status")).json()
        await kube.apply(CLUSTER_POLICY_CRD, resource=CRDS)
        try:
            sandbox.kubectl("create", "namespace", "gpu-operator", check=False)
            sandbox.kubectl("create", "deployment", "gpu-operator", "--image=nvidia/gpu-operator", "-n",
                            "gpu-operator")

            async def installed():  # kubectl create deployment labels its pods app=gpu-operator
                status = (await api.get("/api/installation/gpu-operator/status")).json()
                return status if status["installed"] else None

            after = await until(installed, timeout=90, what="the GPU Operator seen as installed")
            again = await api.post("/api/installation/gpu-operator/install")
        finally:
            await kube.delete(CRDS, CLUSTER_POLICY_CRD["metadata"]["name"], ignore_not_found=True)
            await kube.delete(NAMESPACES, "gpu-operator", ignore_not_found=True)
    assert before["crdFound"] is False and before["installed"] is False and before["gpusAvailable"] is True
    assert before["totalGPUs"] == gpus and before["gpuNodes"] == sorted(n["metadata"]["name"] for n in _gpu_nodes(sandbox))
    assert before["message"] == f"GPUs enabled: {gpus} GPU(s) on {len(before['gpuNodes'])} node(s)"
    assert before["helmCommands"] == [
        "helm repo add nvidia https://helm.ngc.nvidia.com/nvidia", "helm repo update",
        "helm install gpu-operator nvidia/gpu-operator --namespace gpu-operator --create-namespace"]
    assert after["crdFound"] is True and after["operatorRunning"] is True
    assert again.status_code == 200 and again.json()["alreadyInstalled"] is True
    assert again.json()["message"] == "NVIDIA GPU Operator is already installed"


def _renamed(path: Path, name: str, namespace: str) -> list[dict]:
    """The ClusterRole(s) of a manifest under ``name``, with a binding to the ServiceAccount ``name``."""
    roles = [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "ClusterRole"]
    [role] = roles
    role["metadata"] = {"name": name}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}
    return [role, binding]


async def test_installs_need_the_installer_permissions(sandbox, chart_repo, helm_env, namespace, tmp_path):
    """helm acting as a ServiceAccount with only the dashboard's role is refused, and the answer says what to apply;
    with deploy/dashboard-installer-rbac.yaml's role too, the same install goes through."""
    deploy = DEPLOY
    name = f"dash-{uuid.uuid4().hex[:6]}"
    target = f"demo-op-{uuid.uuid4().hex[:6]}"
    sandbox.kubectl("create", "serviceaccount", name, "-n", namespace)
    token = sandbox.kubectl("create", "token", name, "-n", namespace, "--duration=1h").stdout.strip()
    kubeconfig = yaml.safe_load(sandbox.kubeconfig.read_text())
    kubeconfig["users"][0]["user"] = {"token": token}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    base = _renamed(deploy / "dashboard.yaml", name, namespace)
    installer = _renamed(deploy / "dashboard-installer-rbac.yaml", f"{name}-installer", namespace)
    installer[1]["subjects"][0]["name"] = name
    sandbox.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(base))
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(kubeconfig=str(path), auth_enabled=False)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, provider_config(name, chart_repo, target))
        try:
            refused = await api.post(f"/api/installation/providers/{name}/install")
            sandbox.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(installer))
            allowed = await api.post(f"/api/installation/providers/{name}/install")
            removed = await api.post(f"/api/installation/providers/{name}/uninstall")
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)
            await kube.delete(CRDS, CRD_NAME, ignore_not_found=True)
            await kube.delete(NAMESPACES, target, ignore_not_found=True)
            sandbox.kubectl("delete", "-f", "-", "--ignore-not-found", input=yaml.safe_dump_all(base + installer))
    assert refused.status_code == 403, refused.text
    message = refused.json()["error"]["message"]
    assert message.startswith(f'Installation failed at step "install-{CHART}": Automatic installation requires '
                              "elevated installer permissions. Ask an admin to apply the optional dashboard installer "
                              "permissions manifest (deploy/dashboard-installer-rbac.yaml)")
    assert "forbidden" in message
    assert allowed.status_code == 200, allowed.text
    assert removed.json()["success"] is True
