"""A ModelDeployment's state from its KAITO Workspace (reference providers.md §2.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airunway.api.modeldeployment import DeploymentPhase, EndpointStatus, ReplicaStatus
from airunway.providers.reconciler import ObservedStatus

WORKSPACE_PORT = 80
STATES = {"Ready": DeploymentPhase.RUNNING, "Succeeded": DeploymentPhase.RUNNING,
          "NotReady": DeploymentPhase.DEPLOYING, "Running": DeploymentPhase.DEPLOYING,
          "Failed": DeploymentPhase.FAILED, "Pending": DeploymentPhase.PENDING}


def _condition(status: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == type_), {})


def workspace_status(ws: Mapping[str, Any]) -> ObservedStatus:
    status = ws.get("status") or {}
    state = status.get("state") or ""
    if not state and not status.get("conditions"):
        return ObservedStatus(phase=DeploymentPhase.PENDING.value)
    message = ""
    succeeded = _condition(status, "WorkspaceSucceeded")
    if state:
        phase = STATES.get(state, DeploymentPhase.PENDING)
        if state == "Running":
            message = "fine-tuning in progress"
        elif state not in STATES:
            message = f"unknown state: {state}"
        elif phase == DeploymentPhase.FAILED:
            message = succeeded.get("message") or "deployment failed"
    elif succeeded.get("status") == "True":
        phase = DeploymentPhase.RUNNING
    elif succeeded.get("status") == "False":
        phase, message = DeploymentPhase.FAILED, succeeded.get("message") or "deployment failed"
    elif _condition(status, "ResourceReady").get("status") == "True" and \
            _condition(status, "InferenceReady").get("status") != "True":
        phase = DeploymentPhase.DEPLOYING
    else:
        phase = DeploymentPhase.PENDING
    desired = (ws.get("resource") or {}).get("count") or 1
    ready = desired if state in ("Ready", "Succeeded") or succeeded.get("status") == "True" else 0
    return ObservedStatus(
        phase=phase.value, message=message,
        replicas=ReplicaStatus(desired=desired, ready=ready, available=ready),
        endpoint=EndpointStatus(service=ws["metadata"]["name"], port=WORKSPACE_PORT),
    )
