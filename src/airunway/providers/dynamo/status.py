"""A ModelDeployment's state from its DynamoGraphDeployment (reference providers.md §1.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airunway.api.modeldeployment import DeploymentPhase, EndpointStatus, ReplicaStatus
from airunway.providers.reconciler import ObservedStatus

PHASES = {
    "successful": DeploymentPhase.RUNNING,
    "initializing": DeploymentPhase.DEPLOYING,
    "deploying": DeploymentPhase.DEPLOYING,
    "failed": DeploymentPhase.FAILED,
}


def replicas_of(status: Mapping[str, Any]) -> ReplicaStatus:
    desired = ready = available = 0
    for service in (status.get("services") or {}).values():
        desired += service.get("replicas") or 0
        ready += service.get("readyReplicas", service.get("availableReplicas")) or 0
        available += service.get("availableReplicas", service.get("readyReplicas")) or 0
    return ReplicaStatus(
        desired=status.get("desiredReplicas", desired),
        ready=status.get("readyReplicas", ready),
        available=status.get("availableReplicas", available),
    )


def error_message(dgd: Mapping[str, Any] | None) -> str:
    if dgd is None:
        return "resource not found"
    status = dgd.get("status") or {}
    if status.get("message"):
        return status["message"]
    if status.get("error"):
        return status["error"]
    for condition in status.get("conditions") or []:
        if condition.get("status") == "False" and condition.get("message"):
            return condition["message"]
    return "deployment failed"


def dgd_status(dgd: Mapping[str, Any]) -> ObservedStatus:
    status = dgd.get("status")
    if not status:
        return ObservedStatus(phase=DeploymentPhase.PENDING.value)
    phase = PHASES.get(status.get("state") or "", DeploymentPhase.PENDING).value
    message = status.get("message") or ""
    if phase == DeploymentPhase.FAILED and not message:
        message = error_message(dgd)
    endpoint = status.get("endpoint") or {}
    return ObservedStatus(
        phase=phase,
        message=message,
        replicas=replicas_of(status),
        endpoint=EndpointStatus(service=endpoint.get("service") or f"{dgd['metadata']['name']}-frontend",
                                port=endpoint.get("port") or 8000),
    )
