"""The deployment list, kept ready to send.

Each deployment's ``DeploymentStatus`` is kept as JSON text and made again only after its ModelDeployment or a
pod that may belong to it changed (the informers' events drop the stale entries). A list request then costs a
lookup per deployment, a sort and a join, however many deployments there are.
"""

from __future__ import annotations

import json
from typing import Iterable

from airunway.kube.informer import Informer
from airunway.kube.resources import Key
from airunway.server.services import conversions
from airunway.server.services import pods as podlib


def to_json(value) -> bytes:
    """JSON as the app's JSON answers write it (compact, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class Entry:
    __slots__ = ("created", "body")

    def __init__(self, created: str, body: bytes):
        self.created = created
        self.body = body


def rendered(md: dict, pods: list[dict]) -> Entry:
    status = conversions.deployment_status(md, [podlib.pod_status(p) for p in pods])
    return Entry(status["createdAt"], to_json(status))


class RenderedDeployments:
    def __init__(self, deployments: Informer, pod_index: podlib.PodIndex):
        self.deployments = deployments
        self.pod_index = pod_index
        self._entries: dict[Key, Entry] = {}
        deployments.add_handler(on_add=self._deployment_changed, on_update=lambda _, new: self._deployment_changed(new),
                                on_delete=self._deployment_changed)
        pod_index.informer.add_handler(on_add=self._pod_changed, on_update=self._pod_replaced,
                                       on_delete=self._pod_changed)

    def ready(self) -> bool:
        return self.deployments.has_synced() and self.pod_index.synced()

    def entries(self, items: Iterable[dict]) -> list[Entry]:
        """The rendered form of each cached ModelDeployment in ``items``, made now where none is kept."""
        out = []
        for md in items:
            meta = md["metadata"]
            key = Key(meta["namespace"], meta["name"])
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = rendered(md, self.pod_index.pods(key.namespace, key.name))
            out.append(entry)
        return out

    # -- invalidation (informer handlers: run on the event loop, after the cache changed) ---------------------------

    def _deployment_changed(self, md: dict) -> None:
        self._entries.pop(Key.of(md), None)

    def _pod_replaced(self, old: dict, new: dict) -> None:
        self._pod_changed(old)
        self._pod_changed(new)

    def _pod_changed(self, pod: dict) -> None:
        meta = pod.get("metadata") or {}
        namespace, labels = meta.get("namespace") or "", meta.get("labels") or {}
        for label in (*podlib.DEPLOYMENT_LABELS, podlib.APP_LABEL):
            if labels.get(label):
                self._entries.pop(Key(namespace, labels[label]), None)
        cluster = labels.get(podlib.RAY_CLUSTER_LABEL)
        if cluster is not None:
            for key in [k for k in self._entries if k.namespace == namespace]:
                if podlib.is_ray_cluster_of(cluster, key.name):
                    self._entries.pop(key, None)
