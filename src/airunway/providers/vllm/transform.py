"""A ModelDeployment as Direct vLLM runs it: a Deployment of ``vllm serve`` and a ClusterIP Service on port 8000
(reference providers.md §5.2). Disaggregated rendering exists (``<md>-decode`` / ``<md>-prefill``) although the
controller refuses that mode, as upstream does.
"""

from __future__ import annotations

from typing import Any

from airunway.api.modeldeployment import ModelDeployment
from airunway.policy.renderable import VLLM_RESERVED_ARGS, flag_key
from airunway.providers import workloads
from airunway.providers.objects import TransformError, apply_overrides, sorted_engine_args
from airunway.providers.vllm.config import DEFAULT_IMAGE

RESERVED_KEYS = VLLM_RESERVED_ARGS
SHM_SIZE = "20Gi"


def check_reserved_args(md: ModelDeployment) -> None:
    engine = md.spec.engine
    for key in (engine.args or {}) if engine else {}:
        if flag_key(key) in RESERVED_KEYS:
            raise TransformError(
                f'engine arg "{key}" conflicts with Direct vLLM generated networking; Direct vLLM currently requires '
                "host 0.0.0.0 and port 8000 to keep the container, Service, and probes aligned"
            )
    for arg in (engine.extra_args or []) if engine else []:
        if arg.strip().startswith("-") and flag_key(arg) in RESERVED_KEYS:
            raise TransformError(
                f'engine extraArg "{arg}" conflicts with Direct vLLM generated networking; Direct vLLM currently '
                "requires host 0.0.0.0 and port 8000 to keep the container, Service, and probes aligned"
            )


def explicit_keys(md: ModelDeployment) -> set[str]:
    """Flags the user set in engine.args or as ``--flag`` in extraArgs: derived flags of the same name are skipped."""
    engine = md.spec.engine
    keys = {flag_key(k) for k in (engine.args or {})} if engine else set()
    for arg in (engine.extra_args or []) if engine else []:
        if arg.strip().startswith("--"):
            keys.add(flag_key(arg))
    return keys


def build_args(md: ModelDeployment, gpus: int, kv_config: str | None = None) -> list[str]:
    check_reserved_args(md)
    if problem := md.spec.validate_engine_args():
        raise TransformError(problem)
    engine, model = md.spec.engine, md.spec.model
    explicit = explicit_keys(md)
    args = ["--host", "0.0.0.0", "--port", str(workloads.SERVING_PORT)]

    def derived(key: str, *value: str) -> None:
        if key not in explicit:
            args.extend([f"--{key}", *value])

    derived("model", model.id or "")
    if model.served_name:
        derived("served-model-name", model.served_name)
    if engine and engine.context_length:
        derived("max-model-len", str(engine.context_length))
    if engine and engine.trust_remote_code:
        derived("trust-remote-code")
    if engine and engine.enforce_eager:
        derived("enforce-eager")
    if engine and engine.enable_prefix_caching:
        derived("enable-prefix-caching")
    if gpus > 1:
        derived("tensor-parallel-size", str(gpus))
    if kv_config:
        derived("kv-transfer-config", kv_config)
    args.extend(sorted_engine_args(engine.args if engine else None))
    args.extend((engine.extra_args or []) if engine else [])
    return args


def render_env(md: ModelDeployment) -> list[dict[str, Any]]:
    """``spec.env`` with any value source (valueFrom wins over value); the HF token secret replaces a user HF_TOKEN."""
    secret = md.spec.secrets.hugging_face_token if md.spec.secrets else None
    env = []
    for var in md.spec.env or []:
        if secret and var.name == "HF_TOKEN":
            continue
        item: dict[str, Any] = {"name": var.name}
        if var.value_from is not None:
            item["valueFrom"] = var.value_from.to_dict()
        elif var.value:
            item["value"] = var.value
        env.append(item)
    if secret:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "HF_TOKEN"}}})
    return env


def image_for(md: ModelDeployment) -> str:
    """The user's image verbatim, else the resolved (digest-pinned) default, else the default tag."""
    if override := md.spec.image_override():
        return override
    resolved = md.status.image.resolved if md.status.image else None
    return resolved or DEFAULT_IMAGE


def _probe(period: int, failures: int) -> dict[str, Any]:
    return {"httpGet": {"path": "/health", "port": workloads.SERVING_PORT},
            "initialDelaySeconds": 15, "periodSeconds": period, "failureThreshold": failures}


def storage(md: ModelDeployment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pod volumes for the model's PVCs and their mounts (a custom volume without a mount path is not mounted)."""
    volumes, mounts = [], []
    defaults = {"modelCache": "/model-cache", "compilationCache": "/compilation-cache"}
    for vol in (md.spec.model.storage.volumes or []) if md.spec.model.storage else []:
        volumes.append({"name": vol.name, "persistentVolumeClaim": {"claimName": vol.resolved_claim_name(md.name)}})
        path = vol.mount_path or defaults.get(vol.purpose or "", "")
        if path:
            mount: dict[str, Any] = {"name": vol.name, "mountPath": path}
            if vol.read_only:
                mount["readOnly"] = True
            mounts.append(mount)
    return volumes, mounts


def container(md: ModelDeployment, gpus: int, memory: str | None, cpu: str | None,
              kv_config: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    volumes, mounts = storage(md)
    if gpus > 1:
        volumes.append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}})
        mounts.append({"name": "shm", "mountPath": "/dev/shm"})
    spec: dict[str, Any] = {
        "name": "vllm",
        "image": image_for(md),
        "args": build_args(md, gpus, kv_config),
        "ports": [{"name": "http", "containerPort": workloads.SERVING_PORT, "protocol": "TCP"}],
        "startupProbe": _probe(10, 60),
        "livenessProbe": _probe(10, 3),
        "readinessProbe": _probe(5, 3),
    }
    if resources := workloads.resource_requirements(gpus, memory, cpu):
        spec["resources"] = resources
    if env := render_env(md):
        spec["env"] = env
    if mounts:
        spec["volumeMounts"] = mounts
    return spec, volumes


def transform(md: ModelDeployment) -> list[dict[str, Any]]:
    """The Deployment(s) then the Service(s); the first Deployment is the primary object."""
    engine = md.resolved_engine_type()
    if engine != "vllm":
        raise TransformError(f"vLLM provider only supports vllm engine, got {engine}")
    overrides = md.spec.provider.overrides if md.spec.provider else None
    if md.spec.resolved_serving_mode() == "disaggregated":
        return workloads.disaggregated(md, overrides, _component(md))
    res = md.spec.resources
    gpus = res.gpu.count if res and res.gpu else 0
    replicas = md.spec.scaling.replicas if md.spec.scaling and md.spec.scaling.replicas > 0 else 1
    main, volumes = container(md, gpus, res.memory if res else None, res.cpu if res else None)
    dep = apply_overrides(workloads.deployment(md, md.name, replicas, main, volumes), overrides)
    return [dep, workloads.service(md, md.name)]


def _component(md: ModelDeployment):
    def build(role: str, component: Any, kv: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if component.gpu is None:
            raise TransformError(f"spec.scaling.{role}.gpu is required for disaggregated serving mode")
        return container(md, component.gpu.count, component.memory, None, kv)

    return build
