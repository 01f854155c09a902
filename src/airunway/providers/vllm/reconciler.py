"""The Direct vLLM reconciler (reference providers.md §5.4) on the shared provider contract."""

from __future__ import annotations

from typing import Any, ClassVar

from airunway.api.modeldeployment import ModelDeployment
from airunway.kube.client import Client
from airunway.kube.controller import Result
from airunway.kube.informer import Cache
from airunway.providers.vllm import transform as rendering
from airunway.providers.vllm.config import DISPLAY_NAME, PROVIDER_NAME
from airunway.providers.vllm.image import RegistryResolver, resolve_image_status
from airunway.providers.workloads import WorkloadReconciler


def compatibility_problem(md: ModelDeployment) -> str | None:
    engine = md.resolved_engine_type()
    if engine != "vllm":
        return f"vLLM provider only supports vllm engine, got {engine}"
    if md.spec.resolved_serving_mode() == "disaggregated":
        return "vLLM provider does not support disaggregated serving mode; use spec.serving.mode: aggregated"
    res = md.spec.resources
    if not (res and res.gpu and res.gpu.count > 0):
        return "vLLM provider requires GPU resources (spec.resources.gpu.count > 0)"
    return None


class VLLMReconciler(WorkloadReconciler):
    name: ClassVar[str] = PROVIDER_NAME
    display: ClassVar[str] = DISPLAY_NAME

    def __init__(self, client: Client, cache: Cache, resolver: RegistryResolver | None = None) -> None:
        super().__init__(client, cache)
        self.resolver = resolver or RegistryResolver()

    def check_compatibility(self, md: ModelDeployment) -> str | None:
        return compatibility_problem(md)

    async def prepare(self, md: ModelDeployment) -> Result | None:
        if error := await resolve_image_status(md, self.resolver):
            self.fail(md, error)
            raise RuntimeError(error)  # retried with backoff; no pod is created with an unresolved default
        return None

    def transform(self, md: ModelDeployment) -> list[dict[str, Any]]:
        return rendering.transform(md)
