"""A ModelDeployment as one KAITO ``Workspace`` (kaito.sh/v1beta1; ``resource`` and ``inference`` at the object's
root), reference providers.md §2.2: a vLLM preset named after the model, or a llama.cpp container template."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from airunway.api.modeldeployment import ModelDeployment
from airunway.providers.kaito.config import WORKSPACES
from airunway.providers.objects import TransformError, render_env

LLAMACPP_PORT = 5000
TRUTHY = {"1", "t", "true", "y", "yes", "on", "enabled"}


def merge_with_deletes(base: Any, overlay: Any) -> Any:
    """``overlay`` merged into ``base`` (maps recursively, other values replace); a null in ``overlay`` deletes."""
    if isinstance(base, Mapping) and isinstance(overlay, Mapping):
        merged = dict(base)
        for key, value in overlay.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = merge_with_deletes(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overlay)


def instance_type(gpus: int) -> str:
    if os.environ.get("AIRUNWAY_KAITO_NODE_AUTO_PROVISIONING", "").strip().lower() not in TRUTHY:
        return ""
    var = "AIRUNWAY_KAITO_GPU_INSTANCE_TYPE" if gpus > 0 else "AIRUNWAY_KAITO_CPU_INSTANCE_TYPE"
    return os.environ.get(var, "").strip()


def llamacpp_template(md: ModelDeployment) -> dict[str, Any]:
    image = md.spec.image_override()
    if not image:
        raise TransformError("image is required for llamacpp engine type")
    model, engine = md.spec.model, md.spec.engine
    args = []
    if model.source != "custom" and model.id:
        gguf = (engine.args or {}).get("ggufUrl") if engine else None
        args.append(gguf or f"huggingface://{model.id}")
    args.append(f"--address=:{LLAMACPP_PORT}")
    container: dict[str, Any] = {"name": "model", "image": image, "args": args,
                                 "ports": [{"containerPort": LLAMACPP_PORT}]}
    res = md.spec.resources
    requests = {k: v for k, v in (("memory", res.memory if res else None), ("cpu", res.cpu if res else None)) if v}
    if requests:
        container["resources"] = {"requests": requests}
    if env := render_env(md):
        container["env"] = env
    return {"metadata": {"labels": {"airunway.ai/model-deployment": md.name}}, "spec": {"containers": [container]}}


def transform(md: ModelDeployment) -> list[dict[str, Any]]:
    engine = md.resolved_engine_type()
    if engine == "vllm":
        inference: dict[str, Any] = {"preset": {"name": md.spec.model.id or ""}}
    elif engine == "llamacpp":
        inference = {"template": llamacpp_template(md)}
    else:
        raise TransformError(f"unsupported engine type for KAITO: {engine}")
    res = md.spec.resources
    gpus = res.gpu.count if res and res.gpu else 0
    match = {"kubernetes.io/os": "linux", **(md.spec.node_selector or {})}
    if gpus > 0:
        match["nvidia.com/gpu.present"] = "true"
    resource: dict[str, Any] = {
        "count": md.spec.scaling.replicas if md.spec.scaling and md.spec.scaling.replicas > 0 else 1,
        "labelSelector": {"matchLabels": match},
    }
    if kind := instance_type(gpus):
        resource["instanceType"] = kind
    template = md.spec.pod_template.metadata if md.spec.pod_template and md.spec.pod_template.metadata else None
    labels = {"airunway.ai/managed-by": "airunway", "airunway.ai/deployment": md.name,
              "airunway.ai/model-source": md.spec.model.source or "huggingface", "airunway.ai/engine-type": engine,
              "airunway.ai/model-deployment": md.name, **((template.labels or {}) if template else {})}
    meta: dict[str, Any] = {"name": md.name, "namespace": md.namespace, "labels": labels,
                            "ownerReferences": [md.owner_reference()]}
    if template and template.annotations:
        meta["annotations"] = dict(template.annotations)
    workspace = {"apiVersion": WORKSPACES.api_version, "kind": WORKSPACES.kind, "metadata": meta,
                 "resource": resource, "inference": inference}
    overrides = md.spec.provider.overrides if md.spec.provider else None
    if overrides is None:
        return [workspace]
    if not isinstance(overrides, Mapping):
        raise TransformError("invalid provider overrides: must be a JSON object")
    for key in ("apiVersion", "kind", "metadata", "status"):
        if key in overrides:
            raise TransformError(f'overriding "{key}" is not allowed')
    return [merge_with_deletes(workspace, overrides)]
