"""RayService status → ModelDeployment phase, message, replicas and endpoint (reference providers.md §3.4).

Two signals, in this order:

1. the RayService's ready condition: ``True`` → Running, ``False`` → Deploying with its message. Upstream AI Runway
   reads the type ``RayServiceReady``; the KubeRay operator itself writes ``Ready`` (its Go constant is named
   RayServiceReady), so both are read. A ``False`` condition whose reason KubeRay treats as final —
   ``InitializingTimeout`` (the cluster never became ready in time) or ``ValidationFailed`` (the spec was refused)
   — is Failed: KubeRay will not retry until the spec changes;
2. the Serve application statuses of the active cluster, which override: any ``DEPLOY_FAILED`` → Failed with the
   application's message; all ``RUNNING`` → Running; anything else → Deploying.

With neither the deployment is Pending. Replicas: desired is the sum of the worker groups' replicas; ready and
available equal it once every application runs. The endpoint is always KubeRay's Serve Service on port 8000.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airunway.api.modeldeployment import DeploymentPhase, EndpointStatus, ReplicaStatus
from airunway.providers.kuberay.transform import SERVE_PORT, serve_service_name
from airunway.providers.reconciler import ObservedStatus

READY_CONDITION_TYPES = ("RayServiceReady", "Ready")
"""Upstream AI Runway's spelling first, then the one the KubeRay operator writes."""
FINAL_FAILURE_REASONS = frozenset({"InitializingTimeout", "ValidationFailed"})

APP_RUNNING = "RUNNING"
APP_DEPLOY_FAILED = "DEPLOY_FAILED"

DEFAULT_ERROR = "deployment failed"
NOT_FOUND_ERROR = "resource not found"


def string_value(obj: Any, key: str) -> str:
    """``obj[key]`` when ``obj`` is a map and the value a string, else ""."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) else ""


def _status(rayservice: Mapping[str, Any] | None) -> Mapping[str, Any]:
    status = rayservice.get("status") if isinstance(rayservice, Mapping) else None
    return status if isinstance(status, Mapping) else {}


def ready_condition(rayservice: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The RayService's ready condition (malformed entries skipped), or None."""
    conditions = _status(rayservice).get("conditions")
    valid = [c for c in conditions if isinstance(c, Mapping) and string_value(c, "type") and string_value(c, "status")] \
        if isinstance(conditions, list) else []
    for wanted in READY_CONDITION_TYPES:
        for condition in valid:
            if condition["type"] == wanted:
                return condition
    return None


def application_statuses(rayservice: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The active cluster's Serve applications by name (entries that are not maps skipped)."""
    active = _status(rayservice).get("activeServiceStatus")
    apps = active.get("applicationStatuses") if isinstance(active, Mapping) else None
    if not isinstance(apps, Mapping):
        return {}
    return {name: app for name, app in sorted(apps.items()) if isinstance(app, Mapping)}


def _all_running(apps: Mapping[str, Mapping[str, Any]]) -> bool:
    return bool(apps) and all(string_value(app, "status") == APP_RUNNING for app in apps.values())


def _failed_application(apps: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((app for app in apps.values() if string_value(app, "status") == APP_DEPLOY_FAILED), None)


def is_ready(rayservice: Mapping[str, Any] | None) -> bool:
    """The ready condition when there is one, else whether every Serve application runs."""
    condition = ready_condition(rayservice)
    if condition is not None:
        return condition["status"] == "True"
    return _all_running(application_statuses(rayservice))


def error_message(rayservice: Mapping[str, Any] | None) -> str:
    """Why the RayService failed: a failed application's message, the ready condition's, or a generic one."""
    if rayservice is None:
        return NOT_FOUND_ERROR
    failed = _failed_application(application_statuses(rayservice))
    if failed is not None and string_value(failed, "message"):
        return string_value(failed, "message")
    condition = ready_condition(rayservice)
    if condition is not None and condition["status"] == "False" and string_value(condition, "message"):
        return string_value(condition, "message")
    return DEFAULT_ERROR


def desired_workers(rayservice: Mapping[str, Any]) -> int:
    """The sum of ``spec.rayClusterConfig.workerGroupSpecs[].replicas``."""
    spec = rayservice.get("spec") if isinstance(rayservice.get("spec"), Mapping) else {}
    cluster = spec.get("rayClusterConfig") if isinstance(spec.get("rayClusterConfig"), Mapping) else {}
    groups = cluster.get("workerGroupSpecs") if isinstance(cluster.get("workerGroupSpecs"), list) else []
    total = 0
    for group in groups:
        replicas = group.get("replicas") if isinstance(group, Mapping) else None
        if isinstance(replicas, int) and not isinstance(replicas, bool):
            total += replicas
    return total


def translate(rayservice: Mapping[str, Any]) -> ObservedStatus:
    """The deployment's state as the RayService shows it."""
    name = string_value(rayservice.get("metadata"), "name")
    phase, message = DeploymentPhase.PENDING.value, ""

    condition = ready_condition(rayservice)
    if condition is not None:
        if condition["status"] == "True":
            phase = DeploymentPhase.RUNNING.value
        elif condition["status"] == "False":
            final = string_value(condition, "reason") in FINAL_FAILURE_REASONS
            phase = (DeploymentPhase.FAILED if final else DeploymentPhase.DEPLOYING).value
            message = string_value(condition, "message") or (string_value(condition, "reason") if final else "")

    apps = application_statuses(rayservice)
    if apps:
        if _failed_application(apps) is not None:
            phase, message = DeploymentPhase.FAILED.value, error_message(rayservice)
        elif _all_running(apps):
            phase, message = DeploymentPhase.RUNNING.value, ""
        else:
            phase = DeploymentPhase.DEPLOYING.value

    desired = desired_workers(rayservice)
    ready = desired if _all_running(apps) else 0
    return ObservedStatus(
        phase=phase,
        message=message,
        replicas=ReplicaStatus(desired=desired, ready=ready, available=ready),
        endpoint=EndpointStatus(service=serve_service_name(name), port=SERVE_PORT),
    )
