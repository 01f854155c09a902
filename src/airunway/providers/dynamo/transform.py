"""A ModelDeployment as one NVIDIA Dynamo ``DynamoGraphDeployment`` (reference providers.md §1.2).

The graph has fixed service names: ``VllmWorker`` (aggregated) or ``VllmPrefillWorker`` + ``VllmDecodeWorker``
(disaggregated), whatever the engine, fronted either by Dynamo's endpoint picker ``Epp`` with a frontend sidecar
in each worker (Gateway integration on, the default) or by a standalone ``Frontend``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airunway.api.constants import ANNOTATION_DYNAMO_TEST_BACKEND, DYNAMO_TEST_BACKEND_MOCKER
from airunway.api.modeldeployment import ModelDeployment
from airunway.providers.dynamo.config import DGD_KIND, DYNAMO_VERSION, UPSTREAM_CRD_VERSION
from airunway.providers.objects import TransformError, apply_overrides, validate_engine_arg_key

REGISTRY_PATH = "nvcr.io/nvidia/ai-dynamo"
RUNTIME_IMAGES = {
    "vllm": f"{REGISTRY_PATH}/vllm-runtime:{DYNAMO_VERSION}",
    "sglang": f"{REGISTRY_PATH}/sglang-runtime:{DYNAMO_VERSION}",
    "trtllm": f"{REGISTRY_PATH}/tensorrtllm-runtime:{DYNAMO_VERSION}",
}
EPP_IMAGE = f"{REGISTRY_PATH}/dynamo-frontend:{DYNAMO_VERSION}"
MOCKER_IMAGE = f"{REGISTRY_PATH}/dynamo-planner:{DYNAMO_VERSION}"
NIXL_KV_CONFIG = '{"kv_connector":"NixlConnector","kv_role":"kv_both"}'
WORKER = "VllmWorker"
PREFILL = "VllmPrefillWorker"
DECODE = "VllmDecodeWorker"
SUB_COMPONENT_LABEL = "nvidia.com/dynamo-sub-component-type"
TYPED_OVERRIDE_KEYS = ("routerMode", "frontend", "epp")


def sanitize_label(value: str) -> str:
    """A label value from free text: 63 characters, only ``[A-Za-z0-9-_.]``, alphanumeric at both ends."""
    return re.sub(r"[^A-Za-z0-9\-_.]", "-", value[:63]).strip("-_.")


def is_mocker(md: ModelDeployment) -> bool:
    return (md.metadata.annotations or {}).get(ANNOTATION_DYNAMO_TEST_BACKEND) == DYNAMO_TEST_BACKEND_MOCKER


def gateway_on(md: ModelDeployment) -> bool:
    gateway = md.spec.gateway
    return gateway is None or gateway.enabled is not False


def typed_overrides(md: ModelDeployment) -> dict[str, Any]:
    overrides = md.spec.provider.overrides if md.spec.provider else None
    return overrides if isinstance(overrides, Mapping) else {}


def image_for(md: ModelDeployment, engine: str) -> str:
    if is_mocker(md):
        return MOCKER_IMAGE
    return md.spec.image_override() or RUNTIME_IMAGES.get(engine, RUNTIME_IMAGES["vllm"])


def engine_args(md: ModelDeployment, engine: str, role: str | None) -> list[str]:
    spec, model = md.spec.engine, md.spec.model
    args = ["--model" if engine == "vllm" else "--model-path", model.id or ""]
    if model.served_name:
        args += ["--served-model-name", model.served_name]
    if spec and spec.context_length:
        if engine == "vllm":
            args += ["--max-model-len", str(spec.context_length)]
        elif engine == "sglang":
            args += ["--context-length", str(spec.context_length)]
    if engine in ("vllm", "sglang") and spec:
        if spec.trust_remote_code:
            args.append("--trust-remote-code")
        if spec.enable_prefix_caching:
            args.append("--enable-prefix-caching")
        if spec.enforce_eager:
            args.append("--enforce-eager")
    for key in sorted((spec.args or {}) if spec else {}):
        if engine == "vllm" and key == "connector":
            continue
        validate_engine_arg_key(key)
        args.append(f"--{key}")
        if spec.args[key]:
            args.append(spec.args[key])
    if role:
        args += ["--disaggregation-mode", role]
        if engine == "vllm":
            args += ["--kv-transfer-config", NIXL_KV_CONFIG]
    return args


def mocker_args(md: ModelDeployment, role: str | None) -> list[str]:
    model = md.spec.model
    args = ["--model-path", model.id or "", "--model-name", model.served_name or model.id or "",
            "--speedup-ratio", "1000.0", "--num-gpu-blocks-override", "4096", "--block-size", "16",
            "--max-num-seqs", "64"]
    return args + (["--disaggregation-mode", role] if role else [])


def _storage(md: ModelDeployment) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """``spec.pvcs``, the workers' volume mounts, and the first model-cache mount path."""
    pvcs, mounts, model_cache = [], [], None
    for vol in (md.spec.model.storage.volumes or []) if md.spec.model.storage else []:
        claim = vol.resolved_claim_name(md.name)
        pvcs.append({"name": claim, "create": False})
        path = vol.mount_path or {"modelCache": "/model-cache", "compilationCache": "/compilation-cache"}.get(
            vol.purpose or "", "")
        mount: dict[str, Any] = {"name": claim, "mountPoint": path}
        if vol.purpose == "compilationCache":
            mount["useAsCompilationCache"] = True
        # No readOnly: Dynamo's VolumeMount has no such field (upstream sets it and the API server drops it;
        # server-side apply would refuse it).
        mounts.append(mount)
        if vol.purpose == "modelCache" and model_cache is None:
            model_cache = path
    return pvcs, mounts, model_cache


def _gpu_resources(count: int, memory: str | None, cpu: str | None) -> dict[str, Any]:
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if count > 0:
        limits["gpu"] = requests["gpu"] = str(count)
    if memory:
        limits["memory"] = memory
    if cpu:
        limits["cpu"] = cpu
    return {"limits": limits, "requests": requests}


def _worker(md: ModelDeployment, engine: str, role: str | None, replicas: int, resources: dict[str, Any],
            mounts: list[dict[str, Any]], model_cache: str | None) -> dict[str, Any]:
    mocker = is_mocker(md)
    container: dict[str, Any] = {"image": image_for(md, engine)}
    if mocker:
        container["command"] = ["python3", "-m", "dynamo.mocker"]
        container["args"] = mocker_args(md, role)
        resources = {"limits": {"cpu": "100m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "256Mi"}}
    else:
        container["command"] = ["python3", "-m", f"dynamo.{engine}"]
        container["args"] = engine_args(md, engine, role)
    env = []
    if role and engine == "vllm":
        env.append({"name": "VLLM_NIXL_SIDE_CHANNEL_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    if model_cache and not any(v.name == "HF_HOME" for v in md.spec.env or []):
        env.append({"name": "HF_HOME", "value": model_cache})
    if env:
        container["env"] = env
    pod: dict[str, Any] = {"mainContainer": container}
    if md.spec.node_selector:
        pod["nodeSelector"] = dict(md.spec.node_selector)
    if md.spec.tolerations:
        pod["tolerations"] = [t.to_dict() for t in md.spec.tolerations]
    service: dict[str, Any] = {"componentType": "worker", "replicas": replicas, "resources": resources,
                               "extraPodSpec": pod}
    if role:
        service["subComponentType"] = role
    if mounts:
        service["volumeMounts"] = mounts
    secret = md.spec.secrets.hugging_face_token if md.spec.secrets else None
    if secret:
        service["envFromSecret"] = secret
    if gateway_on(md) and not mocker:
        sidecar: dict[str, Any] = {"image": RUNTIME_IMAGES["vllm"], "args": ["-m", "dynamo.frontend"]}
        if role is None:
            sidecar["args"] += ["--router-mode", "direct"]
        if secret:
            sidecar["envFromSecret"] = secret
        service["frontendSidecar"] = sidecar
    return service


def _frontend(md: ModelDeployment, engine: str) -> dict[str, Any]:
    overrides = typed_overrides(md)
    front = overrides.get("frontend") if isinstance(overrides.get("frontend"), Mapping) else {}
    wanted = front.get("resources") if isinstance(front.get("resources"), Mapping) else {}
    mocker = is_mocker(md)
    requests = {"cpu": wanted.get("cpu") or ("100m" if mocker else "2"),
                "memory": wanted.get("memory") or ("256Mi" if mocker else "4Gi")}
    service: dict[str, Any] = {
        "componentType": "frontend",
        "replicas": int(front.get("replicas") or 1),
        "resources": {"requests": requests},
        "extraPodSpec": {"mainContainer": {
            "image": image_for(md, engine),
            "env": [{"name": "DYN_ROUTER_MODE", "value": str(overrides.get("routerMode") or "round-robin")}],
        }},
    }
    secret = md.spec.secrets.hugging_face_token if md.spec.secrets else None
    if secret:
        service["envFromSecret"] = secret
    return service


def _label_filter(name: str, value: str, allows_no_label: bool) -> dict[str, Any]:
    return {"name": name, "type": "label-filter",
            "parameters": {"label": SUB_COMPONENT_LABEL, "validValues": [value], "allowsNoLabel": allows_no_label}}


def _profile(name: str, *plugins: str) -> dict[str, Any]:
    return {"name": name, "plugins": [{"pluginRef": p, "weight": 1} for p in plugins]}


def _epp(md: ModelDeployment, disaggregated: bool) -> dict[str, Any]:
    overrides = typed_overrides(md)
    epp = overrides.get("epp") if isinstance(overrides.get("epp"), Mapping) else {}
    handler, picker = {"type": "disagg-profile-handler"}, {"name": "picker", "type": "max-score-picker"}
    decode_scorer = {"name": "dyn-decode", "type": "dyn-decode-scorer"}
    if disaggregated:
        plugins = [handler, _label_filter("prefill-filter", "prefill", False),
                   _label_filter("decode-filter", "decode", False), picker,
                   {"name": "dyn-prefill", "type": "dyn-prefill-scorer"}, decode_scorer]
        profiles = [_profile("prefill", "prefill-filter", "dyn-prefill", "picker"),
                    _profile("decode", "decode-filter", "dyn-decode", "picker")]
    else:
        plugins = [handler, _label_filter("decode-filter", "decode", True), picker, decode_scorer]
        profiles = [_profile("decode", "decode-filter", "dyn-decode", "picker")]
    fallback, enforce = ("false", "true") if disaggregated else ("true", "false")
    return {
        "componentType": "epp",
        "replicas": int(epp.get("replicas") or 1),
        "extraPodSpec": {"mainContainer": {"image": epp.get("image") or EPP_IMAGE, "env": [
            {"name": "DYN_DECODE_FALLBACK", "value": fallback}, {"name": "DYN_ENFORCE_DISAGG", "value": enforce}]}},
        "eppConfig": {"config": {"plugins": plugins, "schedulingProfiles": profiles}},
    }


def transform(md: ModelDeployment) -> list[dict[str, Any]]:
    engine = md.resolved_engine_type()
    disaggregated = md.spec.resolved_serving_mode() == "disaggregated"
    pvcs, mounts, model_cache = _storage(md)
    services: dict[str, Any] = {}
    if gateway_on(md) and not is_mocker(md):
        services["Epp"] = _epp(md, disaggregated)
    else:
        services["Frontend"] = _frontend(md, engine)
    if disaggregated:
        scaling = md.spec.scaling
        if scaling is None:
            raise TransformError("spec.scaling is required for disaggregated serving mode")
        for key, role, component in ((PREFILL, "prefill", scaling.prefill), (DECODE, "decode", scaling.decode)):
            if component is None:
                raise TransformError(f"spec.scaling.{role} is required for disaggregated serving mode")
            gpus = component.gpu.count if component.gpu else 0
            services[key] = _worker(md, engine, role, component.replicas,
                                    _gpu_resources(gpus, component.memory, None), mounts, model_cache)
    else:
        res = md.spec.resources
        replicas = md.spec.scaling.replicas if md.spec.scaling and md.spec.scaling.replicas > 0 else 1
        resources = _gpu_resources(res.gpu.count if res and res.gpu else 0, res.memory if res else None,
                                   res.cpu if res else None)
        services[WORKER] = _worker(md, engine, None, replicas, resources, mounts, model_cache)

    spec: dict[str, Any] = {"backendFramework": engine, "services": services}
    if pvcs:
        spec["pvcs"] = pvcs
    dgd = {
        "apiVersion": UPSTREAM_CRD_VERSION,
        "kind": DGD_KIND,
        "metadata": {
            "name": md.name, "namespace": md.namespace,
            "labels": {"airunway.ai/managed-by": "airunway", "airunway.ai/model-deployment": md.name,
                       "airunway.ai/model-id": sanitize_label(md.spec.model.id or ""),
                       "airunway.ai/engine-type": engine},
            "ownerReferences": [md.owner_reference()],
        },
        "spec": spec,
    }
    overrides = md.spec.provider.overrides if md.spec.provider else None
    if isinstance(overrides, Mapping):
        # The typed keys were used above; at the graph's root the API server would refuse (apply) or drop them.
        overrides = {k: v for k, v in overrides.items() if k not in TYPED_OVERRIDE_KEYS}
    return [apply_overrides(dgd, overrides)]
