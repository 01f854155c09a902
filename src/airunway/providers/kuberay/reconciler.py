"""The KubeRay provider controller (reference providers.md §3.3): ModelDeployments selected for ``kuberay`` become
RayServices, and the RayService's status flows back into the deployment.

Beyond the shared skeleton it watches

* its own InferenceProviderConfig: when it turns ready or its spec changes, every deployment bound to KubeRay is
  reconciled again;
* RayServices, through their owner reference — but only once the API server serves them. An informer on a resource
  that does not exist would never sync and would hold every reconcile back (deletions included), so the watch is
  added by the first reconcile that finds the CRD installed; the 30 s resync covers the time before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airunway.api.modeldeployment import ModelDeployment, ServingMode
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.dicts import get_path
from airunway.kube.client import Client
from airunway.kube.controller import Controller, Predicate, Result
from airunway.kube.informer import Cache, CacheNotSynced
from airunway.kube.resources import Key
from airunway.providers.kuberay.config import (
    DISPLAY_NAME,
    PROVIDER_NAME,
    RAY_SERVICES,
    rayservice_crd_served,
)
from airunway.providers.kuberay.status import translate
from airunway.providers.kuberay.transform import rayservice
from airunway.providers.reconciler import ObservedStatus, ProviderReconciler


def compatibility_problem(md: ModelDeployment) -> str | None:
    """Why KubeRay cannot serve ``md``: only vLLM, and only with GPUs (or GPU prefill workers when disaggregated)."""
    engine = md.resolved_engine_type()
    if engine != "vllm":
        return f"KubeRay only supports vllm engine, got {engine}"
    resources, scaling = md.spec.resources, md.spec.scaling
    has_gpu = bool(resources and resources.gpu and resources.gpu.count > 0)
    if md.spec.serving is not None and md.spec.serving.mode == ServingMode.DISAGGREGATED:
        prefill = scaling.prefill if scaling else None
        has_gpu = has_gpu or bool(prefill and prefill.gpu and prefill.gpu.count > 0)
    if not has_gpu:
        return "KubeRay requires GPU (set resources.gpu.count > 0)"
    return None


def config_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """A provider config update worth reconciling for: readiness or spec changed (heartbeats alone are not)."""
    return (get_path(old, "status", "ready") != get_path(new, "status", "ready")
            or old.get("spec") != new.get("spec"))


class KubeRayReconciler(ProviderReconciler):
    name = PROVIDER_NAME
    display = DISPLAY_NAME
    primary = RAY_SERVICES
    owned = ()  # the RayService watch is added once the CRD is served (see the module docstring)

    def __init__(self, client: Client, cache: Cache) -> None:
        super().__init__(client, cache)
        self._controller: Controller | None = None
        self.watching_rayservices = False

    # -- wiring ------------------------------------------------------------------------------------------------

    def setup(self, controller: Controller) -> Controller:
        super().setup(controller)
        self._controller = controller
        controller.watches(
            INFERENCE_PROVIDER_CONFIGS, self.deployments_for_config,
            predicates=[Predicate(update=config_changed)],
        )
        return controller

    def deployments_for_config(self, config: Mapping[str, Any]) -> Iterable[Key]:
        """Every deployment bound to KubeRay, when ``config`` is KubeRay's own."""
        if (config.get("metadata") or {}).get("name") != self.name:
            return []
        try:
            deployments = self.cache.list(MODEL_DEPLOYMENTS, copy=False)
        except CacheNotSynced:
            return []  # the deployments' own first sync enqueues them all
        return [
            Key.of(md) for md in deployments
            if self.name in (get_path(md, "status", "provider", "name"), get_path(md, "spec", "provider", "name"))
        ]

    async def watch_rayservices(self) -> None:
        """Start the RayService watch if it is not running yet and the API server now serves RayServices."""
        if self.watching_rayservices or self._controller is None:
            return
        if await rayservice_crd_served(self.client) and not self.watching_rayservices:
            self._controller.owns(RAY_SERVICES)
            self.watching_rayservices = True

    # -- hooks -------------------------------------------------------------------------------------------------

    def check_compatibility(self, md: ModelDeployment) -> str | None:
        return compatibility_problem(md)

    async def prepare(self, md: ModelDeployment) -> Result | None:
        await self.watch_rayservices()
        return None

    def transform(self, md: ModelDeployment) -> list[dict[str, Any]]:
        return [rayservice(md)]

    def status_of(self, md: ModelDeployment, primary: dict[str, Any]) -> ObservedStatus:
        return translate(primary)

    def create_failed_message(self, error: Exception) -> str:
        return f"Failed to create RayService: {error}"
