"""ModelDeployment → one KubeRay ``RayService`` (ray.io/v1), reference providers.md §3.2.

The RayService carries a Ray Serve application (``serveConfigV2``) that runs vLLM with ``num_replicas`` copies,
and a Ray cluster: a head (CPU only, holds the model id and vLLM flags in its environment) and GPU worker groups —
one group ``gpu-workers`` when aggregated, ``prefill-workers`` and ``decode-workers`` when disaggregated (the split
is topological only: no prefill/decode flags reach vLLM). Workers get no environment; node selectors, tolerations,
storage, extra args and provider overrides do not apply to KubeRay.

KubeRay exposes the Serve application through the Service ``<name>-serve-svc`` on port 8000.
"""

from __future__ import annotations

from typing import Any

import yaml

from airunway.api.constants import LABEL_ENGINE_TYPE, LABEL_MODEL_SOURCE
from airunway.api.modeldeployment import ComponentScaling, GPUSpec, ModelDeployment, ServingMode
from airunway.providers.kuberay.config import RAY_SERVICE_KIND, UPSTREAM_CRD_VERSION
from airunway.providers.objects import render_env, standard_labels

DEFAULT_IMAGE = "rayproject/ray-llm:2.55.0-py311-cu128"
DEFAULT_HEAD_CPU = "4"
DEFAULT_HEAD_MEMORY = "16Gi"
DEFAULT_WORKER_MEMORY = "32Gi"
DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"

SERVE_APPLICATION = "llm"
SERVE_IMPORT_PATH = "vllm_serve:deployment"
SERVE_DEPLOYMENT = "VLLMDeployment"
SERVE_PORT = 8000

POD_LABEL = "airunway.ai/model-deployment"
HEAD_CONTAINER = "ray-head"
WORKER_CONTAINER = "ray-worker"
AGGREGATED_GROUP = "gpu-workers"
PREFILL_GROUP = "prefill-workers"
DECODE_GROUP = "decode-workers"


def serve_service_name(name: str) -> str:
    """The Service KubeRay creates for the Serve application of RayService ``name``."""
    return f"{name}-serve-svc"


def image(md: ModelDeployment) -> str:
    """``spec.engine.image``, else the legacy ``spec.image``, else the Ray LLM image (head and every worker)."""
    return md.spec.image_override() or DEFAULT_IMAGE


def serve_replicas(md: ModelDeployment) -> int:
    """``scaling.replicas`` when above 0, else 1: the Serve replicas and the aggregated worker count."""
    replicas = md.spec.scaling.replicas if md.spec.scaling else 0
    return replicas if replicas > 0 else 1


def engine_args(md: ModelDeployment) -> str:
    """The vLLM flags for the head's ``VLLM_ENGINE_ARGS``, one space-separated string.

    ``--model`` first, then the context length, served name and remote-code flag, then ``spec.engine.args`` with
    keys sorted (``--key value``, or ``--key`` alone for an empty value). KubeRay passes the keys on unchecked.
    """
    engine = md.spec.engine
    args = ["--model", md.spec.model.id or ""]
    if engine is not None and engine.context_length is not None:
        args += ["--max-model-len", str(engine.context_length)]
    if md.spec.model.served_name:
        args += ["--served-model-name", md.spec.model.served_name]
    if engine is not None and engine.trust_remote_code:
        args.append("--trust-remote-code")
    user_args = (engine.args if engine else None) or {}
    for key in sorted(user_args):
        args.append(f"--{key}")
        if user_args[key]:
            args.append(user_args[key])
    return " ".join(args)


def serve_config(md: ModelDeployment) -> str:
    """``spec.serveConfigV2``: one application ``llm`` at ``/`` running ``VLLMDeployment`` ``num_replicas`` times.

    Written with sorted keys and unindented lists, as Go's YAML marshaller writes it, so an unchanged deployment
    renders the very same string.
    """
    config = {
        "applications": [{
            "name": SERVE_APPLICATION,
            "route_prefix": "/",
            "import_path": SERVE_IMPORT_PATH,
            "deployments": [{"name": SERVE_DEPLOYMENT, "num_replicas": serve_replicas(md)}],
        }],
    }
    return yaml.safe_dump(config, sort_keys=True, default_flow_style=False)


def _pod_template(md: ModelDeployment, container: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"labels": {POD_LABEL: md.name}}, "spec": {"containers": [container]}}


def _gpu_limits(gpu: GPUSpec | None, memory: str | None) -> dict[str, str]:
    limits: dict[str, str] = {}
    if gpu is not None and gpu.count > 0:
        limits[gpu.type or DEFAULT_GPU_RESOURCE] = str(gpu.count)
    limits["memory"] = memory or DEFAULT_WORKER_MEMORY
    return limits


def _worker_group(md: ModelDeployment, group: str, replicas: int, limits: dict[str, str]) -> dict[str, Any]:
    container = {"name": WORKER_CONTAINER, "image": image(md), "resources": {"limits": limits}}
    return {
        "groupName": group,
        "replicas": replicas,
        "minReplicas": replicas,
        "maxReplicas": replicas,
        "rayStartParams": {},
        "template": _pod_template(md, container),
    }


def head_group(md: ModelDeployment) -> dict[str, Any]:
    """The Ray head: dashboard on all interfaces, 4 CPUs, ``resources.memory`` or 16Gi, the model in its env."""
    memory = (md.spec.resources.memory if md.spec.resources else None) or DEFAULT_HEAD_MEMORY
    env = [
        {"name": "MODEL_ID", "value": md.spec.model.id or ""},
        {"name": "VLLM_ENGINE_ARGS", "value": engine_args(md)},
        *render_env(md),
    ]
    container = {
        "name": HEAD_CONTAINER,
        "image": image(md),
        "resources": {"limits": {"cpu": DEFAULT_HEAD_CPU, "memory": memory}},
        "env": env,
    }
    return {"rayStartParams": {"dashboard-host": "0.0.0.0"}, "template": _pod_template(md, container)}


def worker_groups(md: ModelDeployment) -> list[dict[str, Any]]:
    """``gpu-workers`` (aggregated), or ``prefill-workers`` then ``decode-workers`` for the components given."""
    if md.spec.resolved_serving_mode() == ServingMode.DISAGGREGATED:
        scaling = md.spec.scaling
        components: list[tuple[str, ComponentScaling | None]] = [
            (PREFILL_GROUP, scaling.prefill if scaling else None),
            (DECODE_GROUP, scaling.decode if scaling else None),
        ]
        return [
            _worker_group(md, group, component.replicas, _gpu_limits(component.gpu, component.memory))
            for group, component in components
            if component is not None
        ]
    resources = md.spec.resources
    limits = _gpu_limits(resources.gpu if resources else None, resources.memory if resources else None)
    return [_worker_group(md, AGGREGATED_GROUP, serve_replicas(md), limits)]


def labels(md: ModelDeployment) -> dict[str, str]:
    """Managed-by, deployment, model source and engine type, then the pod template's labels."""
    result = standard_labels(md)
    result[LABEL_MODEL_SOURCE] = md.spec.model.source or ""
    result[LABEL_ENGINE_TYPE] = md.resolved_engine_type()
    pod_meta = md.spec.pod_template.metadata if md.spec.pod_template else None
    result.update((pod_meta.labels if pod_meta else None) or {})
    return result


def rayservice(md: ModelDeployment) -> dict[str, Any]:
    """The RayService for ``md``."""
    metadata: dict[str, Any] = {
        "name": md.name,
        "namespace": md.namespace,
        "labels": labels(md),
        "ownerReferences": [md.owner_reference()],
    }
    pod_meta = md.spec.pod_template.metadata if md.spec.pod_template else None
    if pod_meta and pod_meta.annotations:
        metadata["annotations"] = dict(pod_meta.annotations)
    return {
        "apiVersion": UPSTREAM_CRD_VERSION,
        "kind": RAY_SERVICE_KIND,
        "metadata": metadata,
        "spec": {
            "serveConfigV2": serve_config(md),
            "rayClusterConfig": {"headGroupSpec": head_group(md), "workerGroupSpecs": worker_groups(md)},
        },
    }
