"""Without the Gateway API and GAIE CRDs the controller creates nothing and fails nothing; installing them later
through the dashboard's installer (the CRDs the package ships) turns the integration on without a restart.

This needs a cluster without those CRDs, so the module starts a second sandbox.
"""

from __future__ import annotations

import asyncio

import pytest
import yaml

from airunway.api.crds import crd_documents
from airunway.sandbox.cluster import Sandbox
from airunway.sandbox.upstream_crds import module_crd_documents, standin_crd_documents
from airunway.versions import KUBERAY_CRDS

from support import ControllerProcess, DashboardAPI, eventually, kget, kget_or_none
from workload import GATEWAY_ADDRESS, installed_providers, running_model


def crds_without_gateway() -> list[dict]:
    return list(crd_documents()) + module_crd_documents(KUBERAY_CRDS) + standin_crd_documents()


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    sb = Sandbox(tmp_path_factory.mktemp("sandbox-no-gateway"))
    sb.up(progress=lambda msg: print(f"[sandbox] {msg}", flush=True), crds=crds_without_gateway)
    try:
        gen = installed_providers(sb)
        next(gen)
        yield sb
    finally:
        sb.down()


def condition(sandbox, namespace: str, name: str) -> dict:
    status = kget(sandbox, "modeldeployment", name, "-n", namespace).get("status") or {}
    return next((c for c in status.get("conditions") or [] if c["type"] == "GatewayReady"), {})


def test_crds_installed_later_turn_routing_on(bare, tmp_path):
    sandbox, namespace = bare, "models"
    sandbox.kubectl("create", "namespace", namespace)
    controller = ControllerProcess(sandbox, tmp_path / "controller.log", "--gateway-detection-interval=2")
    try:
        controller.wait_ready()
        running_model(sandbox, namespace, "implicit")
        running_model(sandbox, namespace, "explicit", {"enabled": True})

        # Asked for explicitly: told why not. Not asked for: silently off. Nothing failed.
        eventually(lambda: condition(sandbox, namespace, "explicit").get("reason") == "CRDsNotAvailable",
                   timeout=30, what="CRDsNotAvailable")
        assert condition(sandbox, namespace, "explicit")["message"] == (
            "Gateway API Inference Extension CRDs are not installed in the cluster")
        status = kget(sandbox, "modeldeployment", "implicit", "-n", namespace)["status"]
        assert status["phase"] == "Running" and "GatewayReady" not in {c["type"] for c in status["conditions"]}
        assert "error" not in controller.log_tail(200).lower()

        # The dashboard's installer applies the shipped CRDs; then a Gateway: both models get routed, by the same
        # controller process.
        before, installed, after = asyncio.run(install_through_the_dashboard_service(sandbox))
        assert before["message"] == "Gateway API and Inference Extension CRDs are not installed."
        assert not before["gatewayApiInstalled"] and not before["inferenceExtInstalled"]
        assert [r["step"] for r in installed["results"]] == ["gateway-api-crds", "inference-extension-crds"]
        assert installed["success"] and all(r["success"] for r in installed["results"])
        assert after["gatewayApiVersion"] == "v1.6.2" and after["inferenceExtVersion"] == "v1.6.0"
        sandbox.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                        "crd/gateways.gateway.networking.k8s.io", "crd/inferencepools.inference.networking.k8s.io")
        sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": namespace},
            "spec": {"gatewayClassName": "test", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
        }))
        sandbox.kubectl("patch", "gateway", "gw", "-n", namespace, "--subresource=status", "--type=merge", "-p",
                        '{"status": {"addresses": [{"type": "IPAddress", "value": "%s"}]}}' % GATEWAY_ADDRESS)
        for name in ("implicit", "explicit"):
            eventually(lambda name=name: kget_or_none(sandbox, "httproute", name, namespace), timeout=60,
                       what=f"the route of {name}")
            assert kget_or_none(sandbox, "inferencepool", name, namespace)
            eventually(lambda name=name: condition(sandbox, namespace, name).get("reason") == "GatewayConfigured",
                       timeout=30, what=f"{name} GatewayConfigured")
        assert controller.proc.poll() is None, "the controller restarted"

        status, info, models = asyncio.run(dashboard_view(sandbox))
        assert status["message"] == "Gateway API and Inference Extension CRDs are installed. Gateway is available."
        assert info == {"available": True, "endpoint": GATEWAY_ADDRESS}
        assert [(m["deploymentName"], m["namespace"], m["provider"], m["ready"]) for m in models["models"]] == [
            ("explicit", namespace, "vllm", True), ("implicit", namespace, "vllm", True)]
    finally:
        controller.stop()


async def install_through_the_dashboard_service(sandbox) -> tuple[dict, dict, dict]:
    """``GET /api/installation/gateway/status``, ``POST …/install-crds``, and the status again."""
    async with DashboardAPI(sandbox) as api:
        before = await api.get("/api/installation/gateway/status")
        installed = await api.post("/api/installation/gateway/install-crds")
        after = await api.get("/api/installation/gateway/status")
    assert before.status_code == installed.status_code == after.status_code == 200, installed.text
    return before.json(), installed.json(), after.json()


async def dashboard_view(sandbox) -> tuple[dict, dict, dict]:
    async with DashboardAPI(sandbox) as api:
        answers = [await api.get(path) for path in ("/api/installation/gateway/status", "/api/gateway/status",
                                                     "/api/gateway/models")]
    assert all(a.status_code == 200 for a in answers)
    return tuple(a.json() for a in answers)
