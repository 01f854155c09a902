"""Kubernetes Events (core/v1), as ``kubectl describe`` and ``kubectl get events`` show them.

:class:`EventRecorder` writes one Event per call, named like client-go's recorder (``<object>.<hex time>``), in the
object's namespace, or in ``default`` for a cluster-scoped object as Kubernetes does. Recording never raises: an
Event is worth a log line when it cannot be written, not a failed reconcile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from airunway.kube.client import Client
from airunway.kube.errors import ApiError
from airunway.kube.resources import EVENTS

log = logging.getLogger("airunway.kube.events")

NORMAL = "Normal"
WARNING = "Warning"
CLUSTER_SCOPED_NAMESPACE = "default"
MAX_MESSAGE = 1024  # the API server refuses longer messages


class EventRecorder:
    def __init__(self, client: Client, component: str) -> None:
        """``component``: ``source.component`` and ``reportingController`` of the Events."""
        self.client = client
        self.component = component

    async def record(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> dict[str, Any] | None:
        """Write an Event about ``obj`` (a Kubernetes object with apiVersion, kind and metadata); the Event as
        written, or None when it could not be."""
        event = event_for(obj, type_, reason, message, self.component)
        try:
            return await self.client.create(EVENTS, event, event["metadata"]["namespace"])
        except (ApiError, OSError, TimeoutError) as exc:
            log.warning("could not record an event", extra={"reason": reason, "object": event["involvedObject"],
                                                            "error": str(exc)})
            return None


def event_for(obj: Mapping[str, Any], type_: str, reason: str, message: str, component: str,
              at: datetime | None = None) -> dict[str, Any]:
    """The Event object (core/v1) for ``obj``."""
    meta = obj.get("metadata") or {}
    name = meta.get("name", "")
    namespace = meta.get("namespace") or CLUSTER_SCOPED_NAMESPACE
    at = at or datetime.now(timezone.utc)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    involved = {"apiVersion": obj.get("apiVersion", ""), "kind": obj.get("kind", ""), "name": name,
                "uid": meta.get("uid", ""), "resourceVersion": meta.get("resourceVersion", "")}
    if meta.get("namespace"):
        involved["namespace"] = meta["namespace"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{time.time_ns():x}", "namespace": namespace},
        "involvedObject": involved,
        "type": type_,
        "reason": reason,
        "message": message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…",
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


__all__ = ["CLUSTER_SCOPED_NAMESPACE", "EventRecorder", "NORMAL", "WARNING", "event_for"]
