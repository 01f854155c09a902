"""The llm-d reconciler (reference providers.md §4.3) on the shared provider contract."""

from __future__ import annotations

from typing import Any, ClassVar

from airunway.api.modeldeployment import ModelDeployment
from airunway.providers.llmd import transform as rendering
from airunway.providers.llmd.config import DISPLAY_NAME, PROVIDER_NAME
from airunway.providers.reconciler import Owned
from airunway.providers.workloads import WorkloadReconciler


def compatibility_problem(md: ModelDeployment) -> str | None:
    engine = md.resolved_engine_type()
    if engine != "vllm":
        return f"llm-d provider only supports vllm engine, got {engine}"
    if md.spec.resolved_serving_mode() == "disaggregated":
        scaling = md.spec.scaling
        for role in ("prefill", "decode"):
            component = getattr(scaling, role) if scaling else None
            if component is None:
                return f"spec.scaling.{role} is required for disaggregated serving mode"
        for role in ("prefill", "decode"):
            component = getattr(scaling, role)
            if not (component.gpu and component.gpu.count > 0):
                return f"llm-d provider requires GPU resources for {role} (spec.scaling.{role}.gpu.count > 0)"
        return None
    res = md.spec.resources
    if not (res and res.gpu and res.gpu.count > 0):
        return "llm-d provider requires GPU resources (spec.resources.gpu.count > 0)"
    return None


def disaggregated(md: ModelDeployment) -> bool:
    return md.spec.resolved_serving_mode() == "disaggregated"


class LLMDReconciler(WorkloadReconciler):
    name: ClassVar[str] = PROVIDER_NAME
    display: ClassVar[str] = DISPLAY_NAME

    def check_compatibility(self, md: ModelDeployment) -> str | None:
        return compatibility_problem(md)

    def transform(self, md: ModelDeployment) -> list[dict[str, Any]]:
        return rendering.transform(md)

    def primary_name(self, md: ModelDeployment) -> str:
        return f"{md.name}-decode" if disaggregated(md) else md.name

    def deletion_targets(self, md: ModelDeployment) -> list[Owned]:
        """The primary Deployment, and in disaggregated mode the prefill one (Services go with their owner)."""
        targets = [Owned(self.primary, self.primary_name(md), md.namespace)]
        if disaggregated(md):
            targets.append(Owned(self.primary, f"{md.name}-prefill", md.namespace))
        return targets
