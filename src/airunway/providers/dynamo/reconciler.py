"""The Dynamo reconciler (reference providers.md §1.4) on the shared provider contract.

Before the graph: the deployment's storage (claims created or checked, StorageReady), then the model download
into the model cache (ModelDownloaded). Deleting the deployment deletes the graph first, then the Jobs and claims
created for it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airunway.api.constants import ConditionType, Reason
from airunway.api.modeldeployment import ModelDeployment
from airunway.kube.client import Client
from airunway.kube.controller import Result
from airunway.kube.informer import Cache
from airunway.kube.resources import PERSISTENTVOLUMECLAIMS
from airunway.providers import storage
from airunway.providers.dynamo import transform as rendering
from airunway.providers.dynamo.config import DISPLAY_NAME, DYNAMO_GRAPH_DEPLOYMENTS, PROVIDER_NAME
from airunway.providers.dynamo.status import dgd_status
from airunway.providers.reconciler import ObservedStatus, ProviderReconciler


def compatibility_problem(md: ModelDeployment) -> str | None:
    engine = md.resolved_engine_type()
    if engine == "llamacpp":
        return "Dynamo does not support llamacpp engine"
    disaggregated = md.spec.resolved_serving_mode() == "disaggregated"
    if rendering.is_mocker(md):
        if engine != "vllm":
            return "Dynamo mocker mode only supports the vllm engine"
        scaling = md.spec.scaling
        if disaggregated and not (scaling and scaling.prefill and scaling.decode):
            return "Dynamo mocker disaggregated mode requires spec.scaling.prefill and spec.scaling.decode"
        return None
    res, scaling = md.spec.resources, md.spec.scaling
    gpus = res.gpu.count if res and res.gpu else 0
    prefill_gpus = scaling.prefill.gpu.count if scaling and scaling.prefill and scaling.prefill.gpu else 0
    if gpus > 0 or (disaggregated and prefill_gpus > 0):
        return None
    return "Dynamo requires GPU (set resources.gpu.count > 0)"


class DynamoReconciler(ProviderReconciler):
    name: ClassVar[str] = PROVIDER_NAME
    display: ClassVar[str] = DISPLAY_NAME
    primary = DYNAMO_GRAPH_DEPLOYMENTS
    owned = (DYNAMO_GRAPH_DEPLOYMENTS, PERSISTENTVOLUMECLAIMS, storage.JOBS)

    def __init__(self, client: Client, cache: Cache, download_image: str = "") -> None:
        super().__init__(client, cache)
        self.download_image = download_image or storage.DEFAULT_DOWNLOAD_IMAGE

    async def prepare(self, md: ModelDeployment) -> Result | None:
        if not storage.volumes(md):
            return None
        try:
            ready = await storage.ensure_claims(self.client, md)
        except storage.StorageError as exc:
            return self.fail(md, f"Failed to ensure PVCs: {exc}", ConditionType.STORAGE_READY, reason=Reason.PVC_FAILED)
        if not ready:
            return self.wait(md, "Waiting for PVCs to be bound", ConditionType.STORAGE_READY,
                             reason=Reason.PVCS_PENDING, after=10)
        self.condition(md, ConditionType.STORAGE_READY, True, Reason.PVCS_BOUND, "All managed PVCs are bound")
        if not storage.needs_download(md):
            return None
        try:
            done = await storage.ensure_download(self.client, md, self.download_image)
        except storage.StorageError as exc:
            return self.fail(md, f"Model download failed: {exc}", ConditionType.MODEL_DOWNLOADED,
                             reason=Reason.DOWNLOAD_FAILED)
        if not done:
            return self.wait(md, "Model download in progress", ConditionType.MODEL_DOWNLOADED,
                             reason=Reason.DOWNLOAD_IN_PROGRESS, after=15)
        self.condition(md, ConditionType.MODEL_DOWNLOADED, True, Reason.DOWNLOAD_COMPLETE, "Model download completed")
        return None

    async def handle_deletion(self, md: ModelDeployment) -> bool:
        if await super().handle_deletion(md):
            return True  # the graph first; claims and Jobs once it is gone
        await storage.delete_managed(self.client, md)
        return False

    def check_compatibility(self, md: ModelDeployment) -> str | None:
        return compatibility_problem(md)

    def transform(self, md: ModelDeployment) -> list[dict[str, Any]]:
        return rendering.transform(md)

    def status_of(self, md: ModelDeployment, primary: dict[str, Any]) -> ObservedStatus:
        return dgd_status(primary)

    def create_failed_message(self, error: Exception) -> str:
        return f"Failed to create DynamoGraphDeployment: {error}"
