"""The cluster as the dashboard's header shows it: connected or not, whether AI Runway's CRD is installed, and
its schedulable nodes with their GPUs."""

from __future__ import annotations

import asyncio
import logging

from airunway.api.constants import GROUP, MODEL_DEPLOYMENT_PLURAL
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, NotFound
from airunway.kube.resources import CRDS, NAMESPACES, NODES

log = logging.getLogger("airunway.server.cluster")

GPU_RESOURCE = "nvidia.com/gpu"
MODEL_DEPLOYMENT_CRD = f"{MODEL_DEPLOYMENT_PLURAL}.{GROUP}"
CONNECT_ATTEMPTS = 3


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", "") or str(exc) or type(exc).__name__


async def crd_installation(client: Client) -> dict:
    try:
        await client.get(CRDS, MODEL_DEPLOYMENT_CRD)
        return {"installed": True, "crdFound": True, "message": "ModelDeployment CRD is installed"}
    except NotFound:
        return {"installed": False, "crdFound": False,
                "message": "ModelDeployment CRD not found. Please install AI Runway controller."}
    except (ApiError, OSError, asyncio.TimeoutError) as exc:
        return {"installed": False, "crdFound": False, "message": f"Error checking CRD: {_message(exc)}"}


async def cluster_status(client: Client | None, namespace: str, cluster_name: str | None) -> dict:
    """``{connected, namespace, clusterName}`` or ``{connected: false, namespace, error}``, plus whether the CRD
    is installed (``providerInstallation``, null when not connected)."""
    error = "No cluster configured"
    if client is not None:
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                await client.list(NAMESPACES, limit=1)
                break
            except (ApiError, OSError, asyncio.TimeoutError) as exc:
                error = _message(exc)
                if attempt + 1 < CONNECT_ATTEMPTS:
                    await asyncio.sleep(0.2 * (attempt + 1))
        else:
            client = None
    if client is None:
        return {"connected": False, "namespace": namespace, "error": error, "providerInstallation": None}
    out = {"connected": True, "namespace": namespace}
    if cluster_name:
        out["clusterName"] = cluster_name
    out["providerInstallation"] = await crd_installation(client)
    return out


def _gpus(node: dict) -> int:
    raw = ((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE)
    try:
        return int(str(raw)) if raw is not None else 0
    except ValueError:
        return 0


async def schedulable_nodes(client: Client | None) -> list[dict]:
    """Nodes pods can be scheduled on: name, readiness and GPU count, by name (none when they cannot be read)."""
    if client is None:
        return []
    try:
        nodes = (await client.list_all(NODES)).items
    except (ApiError, OSError, asyncio.TimeoutError) as exc:
        log.warning("cannot list nodes", extra={"error": _message(exc)})
        return []
    out = []
    for node in nodes:
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        conditions = (node.get("status") or {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        out.append({"name": node["metadata"]["name"], "ready": ready, "gpuCount": _gpus(node)})
    return sorted(out, key=lambda n: n["name"])
