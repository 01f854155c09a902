"""The KAITO reconciler (reference providers.md §2.3) on the shared provider contract.

Before writing a Workspace it checks that KAITO's controller can act on it, and waits (Ready=False with the
probe's reason, retried every 30 s) when it cannot. Workspaces are written by server-side apply, so fields the
KAITO operator defaults stay its own and fields this provider stops setting are removed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airunway.api.constants import ConditionType
from airunway.api.modeldeployment import ModelDeployment
from airunway.kube.controller import Controller, Result
from airunway.providers.kaito import transform as rendering
from airunway.providers.kaito.config import DISPLAY_NAME, PROVIDER_NAME, WORKSPACES, probe_upstream
from airunway.providers.kaito.status import workspace_status
from airunway.providers.reconciler import RESYNC_PERIOD, ObservedStatus, ProviderReconciler


def compatibility_problem(md: ModelDeployment) -> str | None:
    engine = md.resolved_engine_type()
    if engine in ("sglang", "trtllm"):
        return f"KAITO does not support {engine} engine"
    if md.spec.resolved_serving_mode() == "disaggregated":
        return "KAITO does not support disaggregated serving mode"
    if engine == "llamacpp" and not md.spec.image:
        return "llamacpp engine requires spec.image to be set"
    return None


class KaitoReconciler(ProviderReconciler):
    name: ClassVar[str] = PROVIDER_NAME
    display: ClassVar[str] = DISPLAY_NAME
    primary = WORKSPACES
    owned = ()  # Workspaces are watched once their CRD is known to be served (see prepare)
    _controller: Controller | None = None
    _watching = False

    def setup(self, controller: Controller) -> Controller:
        self._controller = controller
        return super().setup(controller)

    def check_compatibility(self, md: ModelDeployment) -> str | None:
        return compatibility_problem(md)

    async def prepare(self, md: ModelDeployment) -> Result | None:
        probe = await probe_upstream(self.client)
        if probe.healthy:
            if not self._watching and self._controller is not None:
                self._watching = True  # the CRD is served: follow Workspace changes as they happen
                self._controller.owns(WORKSPACES)
            return None
        self.condition(md, ConditionType.READY, False, probe.reason, probe.message)
        return Result(requeue_after=RESYNC_PERIOD)

    def transform(self, md: ModelDeployment) -> list[dict[str, Any]]:
        return rendering.transform(md)

    def status_of(self, md: ModelDeployment, primary: dict[str, Any]) -> ObservedStatus:
        return workspace_status(primary)

    def create_failed_message(self, error: Exception) -> str:
        return f"Failed to create Workspace: {error}"
