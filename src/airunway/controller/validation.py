"""The reconciler's spec validation: the first problem that prevents running the deployment, or None.

Unlike admission (which reports every error), the reconciler reports one message, in a fixed order, and validates
against the engine actually resolved (explicit or auto-selected) and every registered provider config.
"""

from __future__ import annotations

from collections.abc import Sequence

from airunway.api.modeldeployment import EngineType, ModelDeployment, ModelSource, ServingMode
from airunway.api.providerconfig import InferenceProviderConfig
from airunway.controller.admission import is_dynamo_mocker
from airunway.controller.compatibility import check_provider_compatibility


def validate_spec(
    md: ModelDeployment, engine_type: str, provider_configs: Sequence[InferenceProviderConfig]
) -> str | None:
    """Why ``md`` cannot run with ``engine_type`` (the resolved engine) and the registered ``provider_configs``.

    Checked in this order, first failure wins: image fields, model id, engine resolved, Dynamo mocker engine,
    provider compatibility (skipped in mocker mode), disaggregated scaling. ``md`` is not modified.
    """
    spec = md.spec
    if message := spec.validate_image_fields():
        return message
    if spec.model.source in (ModelSource.HUGGINGFACE, "") and not spec.model.id:
        return "model.id is required when source is huggingface"
    if not engine_type:
        return "engine.type must be specified or auto-selected from provider capabilities"
    mocker = is_dynamo_mocker(md)
    if mocker and engine_type != EngineType.VLLM:
        return "the dynamo mocker test backend only supports the vllm engine"
    if not mocker:
        provider_name = (spec.provider.name if spec.provider else None) or ""
        named = next((config for config in provider_configs if config.name == provider_name), None) if provider_name else None
        gpu_count = spec.resources.gpu.count if spec.resources and spec.resources.gpu else 0
        problems = check_provider_compatibility(
            provider_name, named, provider_configs, engine_type, spec.resolved_serving_mode(), gpu_count
        )
        if problems:
            return problems[0].message
    return _disaggregated_problem(md, mocker)


def _disaggregated_problem(md: ModelDeployment, mocker: bool) -> str | None:
    spec = md.spec
    if not spec.serving or spec.serving.mode != ServingMode.DISAGGREGATED:
        return None
    if spec.resources and spec.resources.gpu and spec.resources.gpu.count > 0:
        return "cannot specify both resources.gpu and scaling.prefill/decode in disaggregated mode"
    scaling = spec.scaling
    if scaling is None or scaling.prefill is None or scaling.decode is None:
        return "disaggregated mode requires scaling.prefill and scaling.decode"
    if mocker:
        return None
    for role, component in (("prefill", scaling.prefill), ("decode", scaling.decode)):
        if component.gpu is None or component.gpu.count == 0:
            return f"disaggregated mode requires scaling.{role}.gpu.count > 0"
    return None


__all__ = ["validate_spec"]
