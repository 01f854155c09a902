"""Can a provider run this engine, in this serving mode, with (or without) GPUs?

One check shared by the admission webhook and the reconciler, so the two never disagree
(upstream's ``CheckProviderCompatibility``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from airunway.api.modeldeployment import ServingMode
from airunway.api.providerconfig import InferenceProviderConfig


class CompatibilityKind(StrEnum):
    ENGINE_UNSUPPORTED = "EngineUnsupported"
    SERVING_MODE_UNSUPPORTED = "ServingModeUnsupported"
    GPU_REQUIRED = "GPURequired"


@dataclass(frozen=True)
class CompatibilityError:
    """One incompatibility: ``field_path`` is relative to ``spec`` (for example ``("engine", "type")``)."""

    kind: CompatibilityKind
    field_path: tuple[str, ...]
    bad_value: Any
    message: str


def check_provider_compatibility(
    provider_name: str,
    named_config: InferenceProviderConfig | None,
    all_configs: Sequence[InferenceProviderConfig] | None,
    engine_type: str,
    serving_mode: str,
    gpu_count: int,
) -> list[CompatibilityError]:
    """The reasons ``provider_name`` (or, when it is empty, any registered provider) cannot run the deployment.

    ``named_config`` is the config of ``provider_name`` (None when unknown: its checks are skipped);
    ``all_configs`` every registered config whatever its readiness (the webhook passes None); ``serving_mode`` is
    already resolved. The order of the list is upstream's: engine, serving mode, GPU.
    """
    problems: list[CompatibilityError] = []
    capability = None
    if provider_name and named_config is not None and named_config.capabilities is not None and engine_type:
        capability = named_config.get_engine_capability(engine_type)
        if capability is None:
            problems.append(
                CompatibilityError(
                    CompatibilityKind.ENGINE_UNSUPPORTED,
                    ("engine", "type"),
                    engine_type,
                    f"provider {provider_name} does not support engine {engine_type}",
                )
            )
        elif not capability.supports_serving_mode(serving_mode):
            problems.append(
                CompatibilityError(
                    CompatibilityKind.SERVING_MODE_UNSUPPORTED,
                    ("serving", "mode"),
                    serving_mode,
                    f"provider {provider_name} does not support {serving_mode} mode for engine {engine_type}",
                )
            )

    # A CPU-only deployment (aggregated, no GPU) needs an engine that runs on CPU. Disaggregated serving always
    # has GPUs on its prefill and decode workers, so it is never checked here.
    if engine_type and serving_mode == ServingMode.AGGREGATED and gpu_count == 0:
        if capability is not None:
            if not capability.supports_cpu():
                problems.append(
                    CompatibilityError(
                        CompatibilityKind.GPU_REQUIRED,
                        ("resources", "gpu", "count"),
                        gpu_count,
                        f"{engine_type} engine on provider {provider_name} requires GPU (set resources.gpu.count > 0)",
                    )
                )
        elif not provider_name and all_configs:
            if not any(config.supports_cpu(engine_type) for config in all_configs):
                problems.append(
                    CompatibilityError(
                        CompatibilityKind.GPU_REQUIRED,
                        ("resources", "gpu", "count"),
                        gpu_count,
                        f"{engine_type} engine requires GPU (set resources.gpu.count > 0)",
                    )
                )
    return problems


__all__ = ["CompatibilityError", "CompatibilityKind", "check_provider_compatibility"]
