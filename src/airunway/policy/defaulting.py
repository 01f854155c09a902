"""The mutating webhook's defaults for a ModelDeployment (on top of the CRD's OpenAPI defaults)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from airunway.api.modeldeployment import (
    AccessMode,
    EngineType,
    ModelSource,
    ServingMode,
    VolumePurpose,
)
from airunway.dicts import get_path

DEFAULT_GPU_TYPE = "nvidia.com/gpu"
DEFAULT_MOUNT_PATHS = {VolumePurpose.MODEL_CACHE: "/model-cache", VolumePurpose.COMPILATION_CACHE: "/compilation-cache"}


def default(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the ModelDeployment ``obj`` with the mutating webhook's defaults filled in.

    Fields present are never overwritten; values of an unexpected shape are left alone (validation reports them).
    """
    md: dict[str, Any] = copy.deepcopy(dict(obj))
    spec = md.get("spec")
    if not isinstance(spec, dict):
        return md
    name = get_path(md, "metadata", "name") or ""

    model = spec.setdefault("model", {})
    if isinstance(model, dict) and not model.get("source"):
        model["source"] = ModelSource.HUGGINGFACE.value

    serving = spec.get("serving")
    if serving is None:
        serving = spec["serving"] = {"mode": ServingMode.AGGREGATED.value}
    elif isinstance(serving, dict) and not serving.get("mode"):
        serving["mode"] = ServingMode.AGGREGATED.value
    aggregated = isinstance(serving, dict) and serving.get("mode") == ServingMode.AGGREGATED

    if aggregated and spec.get("scaling") is None:
        spec["scaling"] = {"replicas": 1}

    # An explicit GPU engine without resources gets one GPU; llama.cpp may run on CPU, a custom legacy image may
    # not need a GPU, and an auto-selected engine decides later.
    engine_type = get_path(spec, "engine", "type")
    if (
        aggregated
        and spec.get("resources") is None
        and engine_type
        and engine_type != EngineType.LLAMACPP
        and not spec.get("image")
    ):
        spec["resources"] = {"gpu": {"count": 1, "type": DEFAULT_GPU_TYPE}}

    for owner in (get_path(spec, "resources"), get_path(spec, "scaling", "prefill"), get_path(spec, "scaling", "decode")):
        gpu = get_path(owner, "gpu")
        if isinstance(gpu, dict) and not gpu.get("type"):
            gpu["type"] = DEFAULT_GPU_TYPE

    volumes = get_path(spec, "model", "storage", "volumes")
    for volume in volumes if isinstance(volumes, list) else []:
        if not isinstance(volume, dict):
            continue
        if not volume.get("purpose"):
            volume["purpose"] = VolumePurpose.CUSTOM.value
        if not volume.get("mountPath") and volume["purpose"] in DEFAULT_MOUNT_PATHS:
            volume["mountPath"] = DEFAULT_MOUNT_PATHS[volume["purpose"]]
        if volume.get("size") is not None:
            if not volume.get("claimName"):
                volume["claimName"] = f"{name}-{volume.get('name', '')}"
            if not volume.get("accessMode"):
                volume["accessMode"] = AccessMode.READ_WRITE_MANY.value
    return md


__all__ = ["DEFAULT_GPU_TYPE", "DEFAULT_MOUNT_PATHS", "default"]
