"""The Dynamo reconciler (reference providers.md §1.4) on the shared provider contract.

Not yet here: the storage phases (managed PVCs and the model download Job) that upstream runs before creating
the graph; deployments with storage volumes get their claims listed in the graph but nothing is created for them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airunway.api.modeldeployment import ModelDeployment
from airunway.providers.dynamo import transform as rendering
from airunway.providers.dynamo.config import DISPLAY_NAME, DYNAMO_GRAPH_DEPLOYMENTS, PROVIDER_NAME
from airunway.providers.dynamo.status import dgd_status
from airunway.providers.framework import ObservedStatus, ProviderReconciler


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
    owned = (DYNAMO_GRAPH_DEPLOYMENTS,)

    def check_compatibility(self, md: ModelDeployment) -> str | None:
        return compatibility_problem(md)

    def transform(self, md: ModelDeployment, raw: dict[str, Any]) -> list[dict[str, Any]]:
        return rendering.transform(md, raw)

    def status_of(self, md: ModelDeployment, primary: dict[str, Any]) -> ObservedStatus:
        return dgd_status(primary)

    def create_failed_message(self, error: Exception) -> str:
        return f"Failed to create DynamoGraphDeployment: {error}"
