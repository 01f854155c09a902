"""The dashboard API on the sandbox: health, cluster status and nodes, settings in their ConfigMap, providers
from InferenceProviderConfigs."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import yaml

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.resources import CONFIGMAPS, NAMESPACES
from airunway.server.app import Settings, create_app

from support import DashboardAPI, kget, until


async def test_health_status_and_nodes(sandbox):
    async with DashboardAPI(sandbox, Settings(kubeconfig=str(sandbox.kubeconfig))) as api:
        assert (await api.get("/api/health")).json()["status"] == "healthy"
        status = (await api.get("/api/cluster/status")).json()
        nodes = (await api.get("/api/cluster/nodes")).json()["nodes"]
        same = (await api.get("/api/health/nodes")).json()["nodes"]
    assert status["connected"] is True and status["namespace"] == "airunway-system"
    assert status["clusterName"] == _kubeconfig(sandbox)["current-context"]
    assert status["providerInstallation"] == {"installed": True, "crdFound": True,
                                              "message": "ModelDeployment CRD is installed"}
    expected = {n["metadata"]["name"]: int(n["status"]["allocatable"].get("nvidia.com/gpu", 0))
                for n in kget(sandbox, "nodes")["items"] if not n["spec"].get("unschedulable")}
    assert [n["name"] for n in nodes] == sorted(expected)
    assert {n["name"]: n["gpuCount"] for n in nodes} == expected and any(expected.values())
    assert all(n["ready"] for n in nodes) and same == nodes


async def test_status_of_an_unreachable_cluster(sandbox, tmp_path):
    kubeconfig = _kubeconfig(sandbox)
    kubeconfig["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"  # nothing listens there
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(kubeconfig))
    async with await Client.connect(path, request_timeout=5) as client:
        app = create_app(Settings(kubeconfig=str(path)), client=client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://d.test") as api:
            status = (await api.get("/api/cluster/status")).json()
            nodes = (await api.get("/api/cluster/nodes")).json()
    assert status["connected"] is False and status["providerInstallation"] is None and status["error"]
    assert nodes == {"nodes": []}


def _kubeconfig(sandbox) -> dict:
    return yaml.safe_load(sandbox.kubeconfig.read_text())


async def test_settings_are_kept_in_the_configmap(sandbox):
    async with await Client.connect(sandbox.kubeconfig) as kube:
        before = await kube.get_or_none(CONFIGMAPS, "airunway-config", "airunway-system")
        had_namespace = await kube.get_or_none(NAMESPACES, "airunway-system") is not None
        try:
            async with DashboardAPI(sandbox, Settings(auth_enabled=False)) as api:
                first = (await api.get("/api/settings")).json()
                assert first["auth"] == {"enabled": False} and isinstance(first["providers"], list)
                saved = await api.put("/api/settings", json={"defaultNamespace": "team-a", "ignored": 1})
                assert saved.status_code == 200, saved.text
                assert saved.json() == {"message": "Settings updated successfully",
                                        "config": {**first["config"], "defaultNamespace": "team-a"}}
            cm = await kube.get(CONFIGMAPS, "airunway-config", "airunway-system")
            assert json.loads(cm["data"]["config.json"])["defaultNamespace"] == "team-a"
            assert cm["metadata"]["labels"] == {"app.kubernetes.io/name": "airunway",
                                                "app.kubernetes.io/managed-by": "airunway"}
            async with DashboardAPI(sandbox) as api:  # a new dashboard reads what the last one saved
                assert (await api.get("/api/settings")).json()["config"]["defaultNamespace"] == "team-a"
                bad = await api.put("/api/settings", json={"defaultNamespace": 7})
                assert bad.status_code == 400
        finally:
            if not had_namespace:  # saving created it: leave the sandbox as it was for the tests that follow
                await kube.delete(NAMESPACES, "airunway-system", ignore_not_found=True)

                async def namespace_gone():
                    return await kube.get_or_none(NAMESPACES, "airunway-system") is None

                await until(namespace_gone, timeout=120, what="airunway-system deleted")
            elif before is None:
                await kube.delete(CONFIGMAPS, "airunway-config", "airunway-system", ignore_not_found=True)
            else:
                before["metadata"].pop("resourceVersion", None)
                await kube.update(CONFIGMAPS, before)


@pytest.fixture
async def provider(sandbox):
    """A registered provider with annotations, under a name no other test uses."""
    name = f"dash-{uuid.uuid4().hex[:8]}"
    config = {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
        "metadata": {"name": name, "annotations": {
            "airunway.ai/display-name": "Dash Test",
            "airunway.ai/description": "A provider for dashboard tests",
            "airunway.ai/installation": json.dumps({"helmRepos": [{"name": "r", "url": "https://charts.example"}]}),
        }},
        "spec": {"capabilities": {"engines": [
            {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True, "requiresCRD": False}]}},
    }
    async with await Client.connect(sandbox.kubeconfig) as kube:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, config)
        try:
            yield name
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)


async def test_providers_from_inference_provider_configs(sandbox, provider):
    async with DashboardAPI(sandbox) as api:
        listed = (await api.get("/api/providers")).json()["providers"]
        also = (await api.get("/api/settings/providers")).json()["providers"]
        in_settings = (await api.get("/api/settings")).json()["providers"]
        details = await api.get(f"/api/providers/{provider}")
        same = await api.get(f"/api/settings/providers/{provider}")
        missing = await api.get("/api/providers/no-such-provider")
    mine = next(p for p in listed if p["id"] == provider)
    assert mine == {
        "id": provider, "name": "Dash Test", "description": "A provider for dashboard tests",
        "defaultNamespace": "default", "warnings": [], "installable": True, "requiresCRD": False,
        "capabilities": {"engines": ["vllm"], "engineCapabilities": [
            {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True, "requiresCRD": False}],
            "modes": ["aggregated"], "modelSources": [], "routerModes": [], "features": {"gpu": True}},
        "preference": 0, "modelStorage": False,  # a provider AI Runway does not know: offered last, no volumes
    }
    assert mine in also and mine in in_settings
    assert details.status_code == 200 and details.json() == same.json()
    assert details.json()["helmRepos"] == [{"name": "r", "url": "https://charts.example"}]
    assert details.json()["crdConfig"]["kind"] == "InferenceProviderConfig"
    assert missing.status_code == 404
    assert missing.json() == {"error": {"message": "Provider not found: no-such-provider", "statusCode": 404}}
