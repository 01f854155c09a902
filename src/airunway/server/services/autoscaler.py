"""Is a cluster autoscaler adding nodes when deployments do not fit: AKS's managed one (node labels), or the
Kubernetes Cluster Autoscaler (its ``kube-system/cluster-autoscaler-status`` ConfigMap, else its Deployment)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any

import yaml

from airunway import safeyaml
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, Forbidden, NotFound
from airunway.kube.resources import CONFIGMAPS, DEPLOYMENTS, NODES

log = logging.getLogger("airunway.server.autoscaler")

STATUS_CONFIGMAP = "cluster-autoscaler-status"
NAMESPACE = "kube-system"
STALE_AFTER = 300.0  # seconds without a status update
AKS_ENABLED_LABEL = "cluster-autoscaler.kubernetes.io/enabled"
POOL_LABELS = ("agentpool", "kubernetes.azure.com/agentpool")


GO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*([+-]\d{4})?")


def _time(value: Any) -> datetime | None:
    """When the status was written: an ISO time, or Go's ``2006-01-02 15:04:05.999999999 -0700 MST`` as the
    Cluster Autoscaler writes it (no offset: UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    found = GO_TIME.match(text)
    if not found:
        return None
    day, clock, fraction, offset = found.groups()
    stamp = f"{day}T{clock}.{(fraction or '0')[:6].ljust(6, '0')}{offset or '+0000'}"
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


async def _status(client: Client) -> dict[str, Any] | None:
    """The Cluster Autoscaler's status document; None when there is none or it cannot be read."""
    try:
        configmap = await client.get(CONFIGMAPS, STATUS_CONFIGMAP, NAMESPACE)
    except (NotFound, Forbidden):
        return None
    raw = (configmap.get("data") or {}).get("status")
    try:
        parsed = safeyaml.load(raw) if raw else None
    except yaml.YAMLError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _fresh(status: dict[str, Any], now: datetime) -> bool:
    at = _time(status.get("time"))
    return at is None or (now - at).total_seconds() <= STALE_AFTER


def _node_groups(status: dict[str, Any]) -> list[dict]:
    groups = status.get("nodeGroups")
    return [g for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []


async def detect(client: Client, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    try:
        nodes = (await client.list_all(NODES)).items
        first = nodes[0] if nodes else {}
        labels = (first.get("metadata") or {}).get("labels") or {}
        aks = "kubernetes.azure.com/cluster" in labels or str((first.get("spec") or {}).get("providerID", "")) \
            .startswith("azure://")
        managed = [n for n in nodes if ((n["metadata"].get("labels") or {}).get(AKS_ENABLED_LABEL)) == "true"]
        if aks and managed:
            pools = {next((n["metadata"]["labels"][k] for k in POOL_LABELS if n["metadata"]["labels"].get(k)), "")
                     for n in managed} - {""}
            return {"type": "aks-managed", "detected": True, "healthy": True, "nodeGroupCount": len(pools),
                    "message": f"AKS managed autoscaler detected on {len(pools)} node pool(s)"}
        status = await _status(client)
        if status is not None:
            healthy = _fresh(status, now)
            groups = _node_groups(status)
            if not healthy:
                message = "Cluster Autoscaler detected but status is stale or unhealthy"
            elif groups:
                message = f"Cluster Autoscaler running on {len(groups)} node group(s)"
            else:
                message = "Cluster Autoscaler running"
            out = {"type": "cluster-autoscaler", "detected": True, "healthy": healthy, "message": message}
            return out | ({"nodeGroupCount": len(groups)} if groups else {})
        deployments = (await client.list_all(DEPLOYMENTS, NAMESPACE)).items
        found = next((d for d in deployments if (d["metadata"].get("labels") or {}).get("app") == "cluster-autoscaler"),
                     None) or next((d for d in deployments if "cluster-autoscaler" in d["metadata"]["name"]), None)
        if found is not None:
            replicas = (found.get("spec") or {}).get("replicas", 1)
            ready = (found.get("status") or {}).get("readyReplicas") or 0
            healthy = bool(replicas) and ready == replicas
            return {"type": "cluster-autoscaler", "detected": True, "healthy": healthy,
                    "message": "Cluster Autoscaler running" if healthy
                    else "Cluster Autoscaler detected but status is stale or unhealthy"}
        hint = "Enable AKS node pool autoscaling" if aks else "Install Kubernetes Cluster Autoscaler"
        return {"type": "none", "detected": False, "healthy": False,
                "message": f"No autoscaler detected. {hint} to automatically scale your cluster."}
    except (ApiError, OSError) as exc:
        log.warning("autoscaler detection failed", extra={"error": str(exc)})
        return {"type": "unknown", "detected": False, "healthy": False,
                "message": f"Could not detect the autoscaler: {exc}"}


async def status(client: Client) -> dict[str, Any] | None:
    """The Cluster Autoscaler's health and node groups; None when its status cannot be read."""
    try:
        found = await _status(client)
    except (ApiError, OSError):
        return None
    if not found:
        return None
    cluster = found.get("clusterWide") or {}
    health = (cluster.get("health") or {}).get("status") if isinstance(cluster, dict) else None
    at = _time(found.get("time"))
    groups = []
    for group in _node_groups(found):
        group_health = group.get("health") or {}
        registered = ((group_health.get("nodeCounts") or {}).get("registered") or {}).get("total")
        groups.append({"name": group.get("name") or "unknown", "minSize": group_health.get("minSize"),
                       "maxSize": group_health.get("maxSize"),
                       "currentSize": group_health.get("cloudProviderTarget") or registered or 0})
    out = {"health": health or found.get("autoscalerStatus") or "unknown", "nodeGroups": groups}
    if at is not None:
        utc = at.astimezone(timezone.utc)
        out["lastUpdateTime"] = f"{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.microsecond // 1000:03d}Z"
    return out
