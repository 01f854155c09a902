"""Between the dashboard's shapes and ModelDeployment objects.

:func:`to_manifest` turns a create request into a ModelDeployment; :func:`deployment_status` turns a
ModelDeployment and its pods into the ``DeploymentStatus`` the UI shows, deriving replicas and phase from the
pods when the controller has not reported them.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airunway.api.constants import ANNOTATION_GENERATED_BY, ANNOTATION_RECIPE_PREFIX
from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.server.schemas import DEFAULT_MOUNT_PATHS, CreateDeployment

GPU_RESOURCE = "nvidia.com/gpu"
RECIPE_GENERATOR = "vllm-recipe-resolver"
RECIPE_FIELDS = ("source", "id", "strategy", "hardware", "variant", "precision", "revision")
FATAL_POD_REASONS = frozenset({
    "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "ErrImagePull", "ImagePullBackOff",
    "InvalidImageName", "RunContainerError", "StartError",
})


def now_iso() -> str:
    """The current time as JavaScript's ``toISOString`` writes it (milliseconds, ``Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- create request -> ModelDeployment ----------------------------------------------------------------------


def _engine_type(req: CreateDeployment) -> str:
    if req.provider == "kaito":
        if req.modelSource == "vllm":
            return "vllm"
        if req.modelSource in ("huggingface", "premade"):
            return "llamacpp"
    return req.engine


def _arg_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _js_number(value)
    return json.dumps(value, separators=(",", ":"))


def _js_number(value: int | float) -> str:
    """A number written as JavaScript's ``String(n)`` does (``2.0`` is ``"2"``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def engine_args(args: dict[str, Any] | None) -> dict[str, str] | None:
    """Engine arguments as strings (nulls dropped, objects as JSON); None when nothing is left."""
    out = {k: _arg_text(v) for k, v in (args or {}).items() if v is not None}
    return out or None


def recipe_annotations(req: CreateDeployment) -> dict[str, str]:
    prov = req.recipeProvenance
    if prov is None:
        return {}
    found = {}
    for field in RECIPE_FIELDS:
        value = getattr(prov, field)
        if isinstance(value, str) and value.strip():
            found[ANNOTATION_RECIPE_PREFIX + field] = value.strip()
    if prov.features:
        found[ANNOTATION_RECIPE_PREFIX + "features"] = json.dumps(prov.features, separators=(",", ":"))
    return {ANNOTATION_GENERATED_BY: RECIPE_GENERATOR, **found} if found else {}


def _gpu(count: int) -> dict:
    return {"count": count, "type": GPU_RESOURCE}


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def to_spec(req: CreateDeployment) -> dict:
    """``spec`` of the ModelDeployment for a create request (unset fields left out)."""
    cpu_only = req.computeType == "cpu"
    model = _drop_none({"id": req.modelId, "servedName": req.servedModelName, "source": "huggingface"})
    volumes = req.storage.volumes if req.storage else None
    if volumes:
        model["storage"] = {"volumes": [v.model_dump(exclude_none=True) for v in volumes]}
    engine = _drop_none({
        "type": _engine_type(req),
        "contextLength": req.contextLength or req.maxModelLen,
        "trustRemoteCode": req.trustRemoteCode,
        "enablePrefixCaching": req.enablePrefixCaching,
        "enforceEager": req.enforceEager,
        "args": engine_args(req.engineArgs),
        "extraArgs": req.engineExtraArgs,
    })
    spec: dict[str, Any] = {"model": model, "engine": engine, "serving": {"mode": req.mode}}
    if req.env:
        spec["env"] = [{"name": k, "value": v} for k, v in req.env.items()]
    if req.imageRef:
        if req.provider == "vllm":
            engine["image"] = req.imageRef
        else:
            spec["image"] = req.imageRef
    overrides = dict(req.providerOverrides or {})
    if req.routerMode != "default":
        overrides["routerMode"] = req.routerMode
    if req.provider or overrides:
        spec["provider"] = _drop_none({"name": req.provider, "overrides": overrides or None})
    if req.mode == "aggregated":
        spec["scaling"] = {"replicas": req.replicas}
        memory = req.resources.memory if req.resources else None
        if cpu_only:
            spec["resources"] = _drop_none({"gpu": _gpu(0), "memory": memory})
        elif req.resources and req.resources.gpu:
            spec["resources"] = _drop_none({"gpu": _gpu(req.resources.gpu), "memory": memory})
    else:
        def component(replicas: int | None, gpus: int | None) -> dict:
            part: dict[str, Any] = {"replicas": replicas or 1}
            if not cpu_only and gpus:
                part["gpu"] = _gpu(gpus)
            return part

        spec["scaling"] = {
            "prefill": component(req.prefillReplicas, req.prefillGpus),
            "decode": component(req.decodeReplicas, req.decodeGpus),
        }
    if req.hfTokenSecret:
        spec["secrets"] = {"huggingFaceToken": req.hfTokenSecret}
    if req.gatewayEnabled is not None:
        spec["gateway"] = {"enabled": req.gatewayEnabled}
    return spec


def to_manifest(req: CreateDeployment, namespace: str) -> dict:
    """The ModelDeployment a create request describes, in ``namespace``."""
    metadata: dict[str, Any] = {
        "name": req.name,
        "namespace": namespace,
        "labels": {
            "app.kubernetes.io/name": "airunway",
            "app.kubernetes.io/instance": req.name,
            "app.kubernetes.io/managed-by": "airunway",
        },
    }
    annotations = recipe_annotations(req)
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": MODEL_DEPLOYMENTS.api_version, "kind": MODEL_DEPLOYMENTS.kind, "metadata": metadata,
            "spec": to_spec(req)}


def with_storage_defaults(manifest: dict) -> dict:
    """The manifest with the admission webhook's storage defaults filled in (for a preview); explicit values stay."""
    name = manifest["metadata"]["name"]
    for vol in ((manifest["spec"]["model"].get("storage") or {}).get("volumes") or []):
        vol.setdefault("purpose", "custom")
        if vol["purpose"] in DEFAULT_MOUNT_PATHS:
            vol.setdefault("mountPath", DEFAULT_MOUNT_PATHS[vol["purpose"]])
        if vol.get("size"):
            vol.setdefault("claimName", f"{name}-{vol['name']}")
            vol.setdefault("accessMode", "ReadWriteMany")
    return manifest


def manifest_answer(manifest: dict) -> dict:
    """The ``{resources, primaryResource}`` answer of the manifest and preview endpoints."""
    kind = manifest.get("kind") or MODEL_DEPLOYMENTS.kind
    api_version = manifest.get("apiVersion") or MODEL_DEPLOYMENTS.api_version
    return {
        "resources": [{"kind": kind, "apiVersion": api_version, "name": manifest["metadata"]["name"],
                       "manifest": manifest}],
        "primaryResource": {"kind": kind, "apiVersion": api_version},
    }


# -- ModelDeployment + pods -> DeploymentStatus ----------------------------------------------------------------


def format_frontend_service(service: str | None, port: Any) -> str | None:
    if not service:
        return None
    return f"{service}:{port}" if isinstance(port, int) and port > 0 else service


def parse_frontend_service(text: str | None) -> tuple[str, int | None] | None:
    """``"svc:port"`` as (service, port); a port that is not a positive number is ignored."""
    if not text:
        return None
    service, _, raw_port = text.partition(":")
    if not service:
        return None
    raw_port = raw_port.split(":", 1)[0]
    digits = ""
    for ch in raw_port.strip():  # parseInt reads leading digits
        if not ch.isdigit():
            break
        digits += ch
    port = int(digits) if digits else 0
    return service, (port if port > 0 else None)


def _ready_condition(status: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def replica_counts(spec: dict, status: dict, pods: list[dict]) -> dict:
    reported = status.get("replicas") or {}
    if any(reported.get(k) is not None for k in ("desired", "ready", "available")):
        return {k: reported.get(k) or 0 for k in ("desired", "ready", "available")}
    scaling = spec.get("scaling") or {}
    if (spec.get("serving") or {}).get("mode") == "disaggregated":
        def desired(part: str) -> int:
            value = (status.get(f"{part}Replicas") or {}).get("desired")
            if value is None:
                value = (scaling.get(part) or {}).get("replicas")
            return value or 0

        ready = sum((status.get(f"{p}Replicas") or {}).get("ready") or 0 for p in ("prefill", "decode"))
        return {"desired": desired("prefill") + desired("decode"), "ready": ready, "available": ready}
    wanted = scaling.get("replicas")
    if wanted is None:
        wanted = 1 if pods else 0
    ready = wanted if _ready_condition(status) or (pods and all(p["ready"] for p in pods)) else 0
    return {"desired": wanted, "ready": ready, "available": ready}


def phase_of(spec: dict, status: dict, pods: list[dict]) -> str:
    reported = status.get("phase")
    if reported == "Terminating":
        return "Terminating"
    counts = replica_counts(spec, status, pods)
    any_ready = any(p["ready"] for p in pods)
    ready = counts["ready"] >= counts["desired"] if counts["desired"] > 0 else any_ready
    if ready and (reported == "Running" or any_ready):
        return "Running"
    if any(p["phase"] == "Failed" or p.get("reason") in FATAL_POD_REASONS for p in pods):
        return "Failed"
    if any(p["phase"] == "Running" or (p["phase"] == "Pending" and p.get("node")) for p in pods):
        return "Deploying"
    if any(p["phase"] == "Pending" and not p.get("node") for p in pods):
        return "Pending"
    return reported or "Pending"


def deployment_status(md: dict, pods: list[dict]) -> dict:
    """The UI's view of a ModelDeployment (``pods`` are PodStatus dicts)."""
    meta = md.get("metadata") or {}
    spec = md.get("spec") or {}
    status = md.get("status") or {}
    model = spec.get("model") or {}
    endpoint = status.get("endpoint") or {}
    out = {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "modelId": model.get("id"),
        "servedModelName": model.get("servedName"),
        "engine": (spec.get("engine") or {}).get("type") or (status.get("engine") or {}).get("type"),
        "mode": (spec.get("serving") or {}).get("mode") or "aggregated",
        "phase": phase_of(spec, status, pods),
        "provider": (status.get("provider") or {}).get("name") or (spec.get("provider") or {}).get("name") or "unknown",
        "replicas": replica_counts(spec, status, pods),
        "conditions": status.get("conditions"),
        "pods": pods,
        "createdAt": meta.get("creationTimestamp") or now_iso(),
        "frontendService": format_frontend_service(endpoint.get("service") or meta.get("name"), endpoint.get("port")),
        "prefillReplicas": status.get("prefillReplicas"),
        "decodeReplicas": status.get("decodeReplicas"),
        "gateway": status.get("gateway"),
        "image": status.get("image"),
        "storage": model.get("storage"),
    }
    return {k: v for k, v in out.items() if v is not None}
