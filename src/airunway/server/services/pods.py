"""The pods of a deployment, whichever provider made them, and their ``PodStatus``.

A pod belongs to deployment ``n`` when one of the labels providers put on their pods names it
(:data:`DEPLOYMENT_LABELS`), or when its KubeRay cluster label is ``n`` or starts with ``n-raycluster``. Only when
nothing matches is the generic ``app=n`` label used.

:class:`PodIndex` answers from the app's pod informer (indexed by those labels, so a lookup costs no request);
:func:`list_pods` asks the API server, for when the informer cannot be used.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Iterable

from airunway.kube.client import Client
from airunway.kube.errors import ApiError
from airunway.kube.informer import Informer
from airunway.kube.resources import PODS

log = logging.getLogger("airunway.server.pods")

DEPLOYMENT_LABELS = (
    "app.kubernetes.io/instance",
    "airunway.ai/deployment",
    "airunway.ai/model-deployment",
    "nvidia.com/dynamo-graph-deployment-name",
    "kaito.sh/workspace",
)
RAY_CLUSTER_LABEL = "ray.io/cluster"
APP_LABEL = "app"

BY_DEPLOYMENT_LABEL = "airunway-deployment-labels"
BY_RAY_CLUSTER = "airunway-ray-clusters"
BY_APP = "airunway-app"


def _labels(pod: dict) -> dict:
    return (pod.get("metadata") or {}).get("labels") or {}


def _ns(pod: dict) -> str:
    return (pod.get("metadata") or {}).get("namespace") or ""


def _name(pod: dict) -> str:
    return (pod.get("metadata") or {}).get("name") or ""


def is_ray_cluster_of(cluster: str, deployment: str) -> bool:
    return cluster == deployment or cluster.startswith(f"{deployment}-raycluster")


def select(pods: Iterable[dict], deployment: str) -> list[dict]:
    """The pods among ``pods`` (one namespace) that belong to ``deployment``, sorted by name."""
    pods = list(pods)
    found = {}
    for pod in pods:
        labels = _labels(pod)
        if any(labels.get(label) == deployment for label in DEPLOYMENT_LABELS) or (
            RAY_CLUSTER_LABEL in labels and is_ray_cluster_of(labels[RAY_CLUSTER_LABEL], deployment)
        ):
            found[_name(pod)] = pod
    if not found:
        found = {_name(p): p for p in pods if _labels(p).get(APP_LABEL) == deployment}
    return [found[n] for n in sorted(found)]


def pod_status(pod: dict) -> dict:
    """A pod as the UI shows it: phase, readiness, restarts, node and the most telling reason."""
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    inits = status.get("initContainerStatuses") or []
    out = {
        "name": _name(pod),
        "phase": status.get("phase") or "Unknown",
        "ready": bool(containers) and all(c.get("ready") for c in containers),
        "restarts": sum(int(c.get("restartCount") or 0) for c in (*inits, *containers)),
    }
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        out["node"] = node
    waiting = next(((c.get("state") or {}).get("waiting") for c in containers
                    if (c.get("state") or {}).get("waiting")), None)
    terminated = next(((c.get("state") or {}).get("terminated") for c in containers
                       if (c.get("state") or {}).get("terminated")), None)
    source = waiting or terminated or status
    for field in ("reason", "message"):
        if source.get(field):
            out[field] = source[field]
    return out


def _index_deployment_labels(pod: dict) -> list[str]:
    labels, ns = _labels(pod), _ns(pod)
    return sorted({f"{ns}/{labels[label]}" for label in DEPLOYMENT_LABELS if labels.get(label)})


def _index_ray(pod: dict) -> list[str]:
    return [_ns(pod)] if RAY_CLUSTER_LABEL in _labels(pod) else []


def _index_app(pod: dict) -> list[str]:
    app = _labels(pod).get(APP_LABEL)
    return [f"{_ns(pod)}/{app}"] if app else []


class PodIndex:
    """Deployment pods looked up in a pod informer's cache through label indexes."""

    def __init__(self, informer: Informer):
        self.informer = informer
        informer.add_indexer(BY_DEPLOYMENT_LABEL, _index_deployment_labels)
        informer.add_indexer(BY_RAY_CLUSTER, _index_ray)
        informer.add_indexer(BY_APP, _index_app)

    def synced(self) -> bool:
        return self.informer.has_synced()

    def pods(self, namespace: str, deployment: str) -> list[dict]:
        store = self.informer.store
        found = {_name(p): p for p in store.by_index(BY_DEPLOYMENT_LABEL, f"{namespace}/{deployment}", copy=False)}
        for pod in store.by_index(BY_RAY_CLUSTER, namespace, copy=False):
            if is_ray_cluster_of(_labels(pod)[RAY_CLUSTER_LABEL], deployment):
                found[_name(pod)] = pod
        if not found:
            found = {_name(p): p for p in store.by_index(BY_APP, f"{namespace}/{deployment}", copy=False)}
        return [found[n] for n in sorted(found)]


async def list_pods(client: Client, namespace: str, deployment: str) -> list[dict]:
    """The deployment's pods read from the API server (one LIST per label, in parallel; failures count as none)."""

    async def listed(selector: str) -> list[dict]:
        try:
            return (await client.list_all(PODS, namespace, label_selector=selector)).items
        except (ApiError, OSError, asyncio.TimeoutError) as exc:
            log.debug("pod list failed", extra={"selector": selector, "error": str(exc)})
            return []

    selectors = [f"{label}={deployment}" for label in DEPLOYMENT_LABELS] + [RAY_CLUSTER_LABEL]
    batches = await asyncio.gather(*(listed(s) for s in selectors))
    found = select((p for batch in batches for p in batch), deployment)
    if found:
        return found
    return select(await listed(f"{APP_LABEL}={deployment}"), deployment)
