"""A ModelDeployment as llm-d runs it (reference providers.md §4.2): aggregated, a Deployment of vLLM and a
ClusterIP Service named like the deployment; disaggregated, one of each for the decode and the prefill workers
(``<md>-decode`` first: it is the primary object and the endpoint), joined by PyNccl KV transfer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airunway.api.modeldeployment import ModelDeployment
from airunway.providers import workloads
from airunway.providers.llmd.config import DEFAULT_IMAGE
from airunway.providers.objects import TransformError, apply_overrides, render_env, sorted_engine_args


def build_args(md: ModelDeployment, gpus: int, kv_config: str | None = None) -> list[str]:
    engine, model = md.spec.engine, md.spec.model
    args = ["--model", model.id or ""]
    if model.served_name:
        args += ["--served-model-name", model.served_name]
    if engine and engine.context_length:
        args += ["--max-model-len", str(engine.context_length)]
    if engine and engine.trust_remote_code:
        args.append("--trust-remote-code")
    args.append("--enable-prefix-caching" if engine and engine.enable_prefix_caching else "--no-enable-prefix-caching")
    if engine and engine.enforce_eager:
        args.append("--enforce-eager")
    if gpus > 1:
        args += ["--tensor-parallel-size", str(gpus)]
    if kv_config:
        args += ["--kv-transfer-config", kv_config]
    args += sorted_engine_args(engine.args if engine else None)
    args += (engine.extra_args or []) if engine else []
    return args


def container(md: ModelDeployment, gpus: int, memory: str | None, cpu: str | None,
              kv_config: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "vllm",
        "image": md.spec.image_override() or DEFAULT_IMAGE,
        "args": build_args(md, gpus, kv_config),
        "ports": [{"name": "http", "containerPort": workloads.SERVING_PORT, "protocol": "TCP"}],
    }
    if resources := workloads.resource_requirements(gpus, memory, cpu):
        spec["resources"] = resources
    if env := render_env(md):
        spec["env"] = env
    return spec


def check_overrides(overrides: Any) -> Any:
    """llm-d keeps the pod spec its own: overrides may not reach under ``spec.template.spec``."""
    spec = overrides.get("spec") if isinstance(overrides, Mapping) else None
    template = spec.get("template") if isinstance(spec, Mapping) else None
    if isinstance(template, Mapping) and "spec" in template:
        raise TransformError('overriding "spec.template.spec" is not allowed')
    return overrides


def transform(md: ModelDeployment) -> list[dict[str, Any]]:
    """The Deployment(s) then the Service(s); the first Deployment is the primary object."""
    engine = md.resolved_engine_type()
    if engine != "vllm":
        raise TransformError(f"llm-d provider only supports vllm engine, got {engine}")
    overrides = md.spec.provider.overrides if md.spec.provider else None
    if isinstance(overrides, (str, bytes)):
        overrides = apply_overrides({}, overrides)  # parsed (and checked) once
    check_overrides(overrides)
    if md.spec.resolved_serving_mode() == "disaggregated":
        return workloads.disaggregated(md, overrides, _component(md))
    res = md.spec.resources
    gpus = res.gpu.count if res and res.gpu else 0
    replicas = md.spec.scaling.replicas if md.spec.scaling and md.spec.scaling.replicas > 0 else 1
    main = container(md, gpus, res.memory if res else None, res.cpu if res else None)
    dep = apply_overrides(workloads.deployment(md, md.name, replicas, main), overrides)
    return [dep, workloads.service(md, md.name)]


def _component(md: ModelDeployment):
    def build(role: str, component: Any, kv: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        gpus = component.gpu.count if component.gpu else 0
        return container(md, gpus, component.memory, None, kv), []

    return build
