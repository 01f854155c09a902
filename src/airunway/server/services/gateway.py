"""The dashboard's view of the Gateway integration: whether a Gateway serves models, which models it routes, whether
the Gateway API and Inference Extension CRDs are installed, and installing them from the copies the package ships.
"""

from __future__ import annotations

import logging
from typing import Any

from airunway.api import gateway_crds
from airunway.api.constants import ConditionType
from airunway.api.resources import GATEWAYS, MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.errors import ApiError
from airunway.kube.resources import CRDS
from airunway.policy.gateway import NoGateway, choose_gateway, gateway_endpoint

log = logging.getLogger("airunway.server.gateway")

GATEWAY_API_CRD = "gateways.gateway.networking.k8s.io"
INFERENCE_POOL_CRD = "inferencepools.inference.networking.k8s.io"
REQUIRED_CRDS = (INFERENCE_POOL_CRD, "httproutes.gateway.networking.k8s.io", GATEWAY_API_CRD)
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
INFERENCE_GROUP = "inference.networking.k8s.io"
MANAGER = "airunway-dashboard"


def install_commands() -> list[str]:
    """Commands that install the same CRD versions by hand."""
    versions = gateway_crds.versions()
    return [
        "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/"
        f"{versions['gatewayApi']}/standard-install.yaml",
        "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/"
        f"download/{versions['inferenceExtension']}/manifests.yaml",
    ]


async def _crd(client: Client, name: str) -> dict[str, Any] | None:
    return await client.get_or_none(CRDS, name)


async def gateway_info(client: Client) -> dict[str, Any]:
    """``{available, endpoint?}``: a Gateway can route models (the CRDs exist and one Gateway is chosen)."""
    try:
        for name in REQUIRED_CRDS:
            if await _crd(client, name) is None:
                return {"available": False}
        gateway = choose_gateway((await client.list_all(GATEWAYS)).items)
    except (ApiError, NoGateway):
        return {"available": False}
    info: dict[str, Any] = {"available": True}
    if endpoint := gateway_endpoint(gateway):
        info["endpoint"] = endpoint
    return info


async def gateway_models(client: Client) -> dict[str, Any]:
    """The models routed through the Gateway (every namespace the caller may list), with their deployment,
    provider and whether routing is ready."""
    try:
        items = (await client.list_all(MODEL_DEPLOYMENTS)).items
    except ApiError as exc:
        log.info("cannot list ModelDeployments for the gateway models", extra={"error": str(exc)})
        return {"models": []}
    models = []
    for md in items:
        status = md.get("status") or {}
        model_name = (status.get("gateway") or {}).get("modelName")
        if not model_name:
            continue
        conditions = status.get("conditions") or []
        models.append({
            "name": model_name,
            "deploymentName": md["metadata"]["name"],
            "namespace": md["metadata"]["namespace"],
            "provider": (status.get("provider") or {}).get("name")
            or ((md.get("spec") or {}).get("provider") or {}).get("name") or "",
            "ready": any(c.get("type") == ConditionType.GATEWAY_READY and c.get("status") == "True" for c in conditions),
        })
    models.sort(key=lambda m: (m["namespace"], m["deploymentName"]))
    return {"models": models}


def _bundle_version(crd: dict[str, Any] | None, group: str) -> str | None:
    if crd is None:
        return None
    meta = crd.get("metadata") or {}
    version = (meta.get("annotations") or {}).get(f"{group}/bundle-version") or \
        (meta.get("labels") or {}).get("app.kubernetes.io/version") or ""
    return version.strip() or None


async def crd_status(client: Client) -> dict[str, Any]:
    """Whether the Gateway API and Inference Extension CRDs are installed, their versions, and the Gateway."""
    gateway_crd = await _crd(client, GATEWAY_API_CRD)
    pool_crd = await _crd(client, INFERENCE_POOL_CRD)
    status: dict[str, Any] = {
        "gatewayApiInstalled": gateway_crd is not None,
        "inferenceExtInstalled": pool_crd is not None,
        "pinnedVersion": gateway_crds.versions()["inferenceExtension"],
        "gatewayAvailable": False,
        "installCommands": install_commands(),
    }
    if version := _bundle_version(gateway_crd, GATEWAY_API_GROUP):
        status["gatewayApiVersion"] = version
    if version := _bundle_version(pool_crd, INFERENCE_GROUP):
        status["inferenceExtVersion"] = version
    if gateway_crd is not None and pool_crd is not None:
        info = await gateway_info(client)
        status["gatewayAvailable"] = info["available"]
        if "endpoint" in info:
            status["gatewayEndpoint"] = info["endpoint"]
        status["message"] = "Gateway API and Inference Extension CRDs are installed. " + (
            "Gateway is available." if info["available"] else "No active gateway detected.")
    elif gateway_crd is None and pool_crd is None:
        status["message"] = "Gateway API and Inference Extension CRDs are not installed."
    elif gateway_crd is None:
        status["message"] = "Gateway API CRDs are not installed."
    else:
        status["message"] = "Inference Extension CRDs are not installed."
    return status


class InstallFailed(Exception):
    def __init__(self, message: str, results: list[dict[str, Any]], status_code: int = 500) -> None:
        super().__init__(message)
        self.results = results
        self.status_code = status_code


async def install_crds(client: Client) -> dict[str, Any]:
    """Apply the shipped Gateway API CRDs, then the Inference Extension CRDs (server-side apply, so installing
    over an existing release updates it). Raises :class:`InstallFailed` at the first step that fails."""
    docs = gateway_crds.documents()
    steps = [
        ("gateway-api-crds", "Failed to install Gateway API CRDs",
         [d for d in docs if d["spec"]["group"] == GATEWAY_API_GROUP]),
        ("inference-extension-crds", "Failed to install Inference Extension CRDs",
         [d for d in docs if d["spec"]["group"] != GATEWAY_API_GROUP]),
    ]
    results: list[dict[str, Any]] = []
    for step, failure, crds in steps:
        applied = []
        try:
            for crd in crds:
                await client.apply(crd, resource=CRDS, field_manager=MANAGER)
                applied.append(f"customresourcedefinition.apiextensions.k8s.io/{crd['metadata']['name']} serverside-applied")
        except ApiError as exc:
            results.append({"step": step, "success": False, "output": "\n".join(applied), "error": str(exc)})
            forbidden = exc.status in (401, 403)
            message = (f"{failure}: Automatic installation requires elevated installer permissions. Ask an admin to "
                       f"install the CRDs or run the commands manually. Details: {exc}") if forbidden \
                else f"{failure}: {exc}"
            raise InstallFailed(message, results, 403 if forbidden else 500) from exc
        results.append({"step": step, "success": True, "output": "\n".join(applied), "error": ""})
    return {"success": True, "message": "Gateway API and Inference Extension CRDs installed successfully",
            "results": results}


__all__ = ["InstallFailed", "crd_status", "gateway_info", "gateway_models", "install_crds"]
