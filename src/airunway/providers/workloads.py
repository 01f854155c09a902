"""Plain Kubernetes workloads for the providers that run the engine themselves (Direct vLLM, llm-d): a Deployment
and a ClusterIP Service per model (per component in disaggregated mode), and the deployment's state read back
from the Deployment and its pods (reference providers.md §4.2, §4.4).

:class:`WorkloadReconciler` is the reconciler both build on: the primary object is the first Deployment, Services
are owned too, and the pods are watched (through the ``airunway.ai/deployment`` label they carry) so that a
deployment none of whose pods can be scheduled stays Pending with the scheduler's reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from airunway.api.modeldeployment import (
    DeploymentPhase,
    EndpointStatus,
    ModelDeployment,
    ReplicaStatus,
)
from airunway.kube.controller import Controller, Predicate
from airunway.kube.informer import CacheNotSynced, Informer
from airunway.kube.resources import DEPLOYMENTS, PODS, SERVICES, Key, Resource
from airunway.providers.objects import TransformError, apply_overrides, owned_by, standard_labels
from airunway.providers.reconciler import ObservedStatus, ProviderReconciler

SERVING_PORT = 8000
KV_CONSUMER = '{"kv_connector":"PyNcclConnector","kv_role":"kv_consumer"}'
KV_PRODUCER = '{"kv_connector":"PyNcclConnector","kv_role":"kv_producer"}'
LABEL_APP = "app"
LABEL_MODEL_SOURCE = "airunway.ai/model-source"
LABEL_ENGINE_TYPE = "airunway.ai/engine-type"


DEVICE_PLUGIN_URL = (
    "https://raw.githubusercontent.com/NVIDIA/k8s-device-plugin/v0.17.0/deployments/static/nvidia-device-plugin.yml"
)


def installation(provider: str, token_secret: str) -> dict[str, Any]:
    """Installation steps of a provider that runs vLLM itself: the GPU device plugin and a token secret."""
    return {
        "description": f"{provider} provider: deploys vLLM Deployments + Services directly. Requires GPU nodes "
                       "with the NVIDIA device plugin.",
        "steps": [
            {"title": "Install NVIDIA GPU Device Plugin", "command": f"kubectl apply -f {DEVICE_PLUGIN_URL}",
             "description": "Expose the nodes' GPUs as nvidia.com/gpu so that vLLM pods can request them."},
            {"title": "Create HuggingFace Token Secret",
             "command": f"kubectl create secret generic {token_secret} --from-literal=HF_TOKEN=<your-token> "
                        "-n <model-namespace>",
             "description": "Needed for gated models; name it in spec.secrets.huggingFaceToken."},
        ],
    }


def workload_labels(md: ModelDeployment) -> dict[str, str]:
    """Labels on the Deployments and Services: the standard ones, model source and engine, pod-template labels."""
    labels = standard_labels(md)
    labels[LABEL_MODEL_SOURCE] = md.spec.model.source or "huggingface"
    labels[LABEL_ENGINE_TYPE] = md.resolved_engine_type()
    template = md.spec.pod_template.metadata if md.spec.pod_template and md.spec.pod_template.metadata else None
    if template and template.labels:
        labels.update(template.labels)
    return labels


LABEL_DEPLOYMENT = "airunway.ai/deployment"


def selector(md: ModelDeployment, name: str) -> dict[str, str]:
    return {LABEL_DEPLOYMENT: md.name, LABEL_APP: name}


def resource_requirements(gpus: int, memory: str | None, cpu: str | None) -> dict[str, Any]:
    """GPUs as limits and requests, memory as both, CPU as a request; empty when nothing is asked for."""
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if gpus > 0:
        limits["nvidia.com/gpu"] = requests["nvidia.com/gpu"] = str(gpus)
    if memory:
        limits["memory"] = requests["memory"] = memory
    if cpu:
        requests["cpu"] = cpu
    out: dict[str, Any] = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def deployment(
    md: ModelDeployment, name: str, replicas: int, container: dict[str, Any],
    volumes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    template = md.spec.pod_template.metadata if md.spec.pod_template and md.spec.pod_template.metadata else None
    annotations = dict(template.annotations or {}) if template else {}
    match = selector(md, name)
    pod_labels = {**(template.labels or {} if template else {}), **match}  # selector keys cannot be clobbered
    pod_spec: dict[str, Any] = {"containers": [container]}
    if volumes:
        pod_spec["volumes"] = volumes
    if md.spec.node_selector:
        pod_spec["nodeSelector"] = dict(md.spec.node_selector)
    if md.spec.tolerations:
        pod_spec["tolerations"] = [t.to_dict() for t in md.spec.tolerations]
    meta: dict[str, Any] = {
        "name": name, "namespace": md.namespace, "labels": workload_labels(md),
        "ownerReferences": [md.owner_reference()],
    }
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": DEPLOYMENTS.api_version,
        "kind": DEPLOYMENTS.kind,
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": match},
            "template": {"metadata": {"labels": pod_labels, "annotations": annotations}, "spec": pod_spec},
        },
    }


ComponentContainer = Callable[[str, Any, str], tuple[dict[str, Any], list[dict[str, Any]]]]
"""(role, spec.scaling.<role>, KV transfer config) → the component's container and pod volumes."""


def disaggregated(md: ModelDeployment, overrides: Any,
                  component_container: ComponentContainer) -> list[dict[str, Any]]:
    """Decode and prefill Deployments (overrides merged into each), then their Services; decode is the primary."""
    scaling = md.spec.scaling
    if scaling is None:
        raise TransformError("spec.scaling is required for disaggregated serving mode")
    deployments, services = [], []
    for role, kv in (("decode", KV_CONSUMER), ("prefill", KV_PRODUCER)):
        component = getattr(scaling, role)
        if component is None:
            raise TransformError(f"spec.scaling.{role} is required for disaggregated serving mode")
        name = f"{md.name}-{role}"
        main, volumes = component_container(role, component, kv)
        deployments.append(apply_overrides(deployment(md, name, component.replicas, main, volumes), overrides))
        services.append(service(md, name))
    return deployments + services


def service(md: ModelDeployment, name: str) -> dict[str, Any]:
    return {
        "apiVersion": SERVICES.api_version,
        "kind": SERVICES.kind,
        "metadata": {"name": name, "namespace": md.namespace, "labels": workload_labels(md),
                     "ownerReferences": [md.owner_reference()]},
        "spec": {
            "type": "ClusterIP",
            "selector": selector(md, name),
            "ports": [{"name": "http", "port": SERVING_PORT, "targetPort": SERVING_PORT, "protocol": "TCP"}],
        },
    }


# -- state ---------------------------------------------------------------------------------------------------


def _condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_), None)


def deployment_phase(dep: Mapping[str, Any]) -> tuple[str, str]:
    """Phase and message from a Deployment's conditions."""
    if not (dep.get("status") or {}).get("conditions"):
        return DeploymentPhase.PENDING.value, ""
    available, progressing = _condition(dep, "Available"), _condition(dep, "Progressing")
    if available and available.get("status") == "True":
        return DeploymentPhase.RUNNING.value, ""
    if progressing and progressing.get("status") == "False" and progressing.get("reason") == "ProgressDeadlineExceeded":
        return DeploymentPhase.FAILED.value, progressing.get("message") or "deployment timed out waiting for rollout"
    if progressing and progressing.get("status") == "True":
        return DeploymentPhase.DEPLOYING.value, ""
    if available and available.get("status") == "False" and available.get("message"):
        return DeploymentPhase.FAILED.value, available["message"]
    return DeploymentPhase.PENDING.value, ""


def deployment_status(dep: Mapping[str, Any]) -> ObservedStatus:
    """The deployment's phase, replicas and endpoint from its primary Deployment."""
    phase, message = deployment_phase(dep)
    status = dep.get("status") or {}
    replicas = ReplicaStatus(
        desired=(dep.get("spec") or {}).get("replicas", 1),
        ready=status.get("readyReplicas") or 0,
        available=status.get("availableReplicas") or 0,
    )
    endpoint = EndpointStatus(service=dep["metadata"]["name"], port=SERVING_PORT)
    return ObservedStatus(phase=phase, message=message, replicas=replicas, endpoint=endpoint)


def unschedulable_message(pods: list[Mapping[str, Any]]) -> str:
    """The scheduler's reason when none of the pods could be placed (``PodScheduled=False``), else ""."""
    if not pods:
        return ""
    reasons = []
    for pod in pods:
        scheduled = _condition(pod, "PodScheduled")
        if not scheduled or scheduled.get("status") != "False":
            return ""
        reasons.append(scheduled.get("message") or scheduled.get("reason") or "unschedulable")
    return reasons[0]


def _scheduling(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    cond = _condition(pod, "PodScheduled") or {}
    return cond.get("status"), cond.get("reason"), cond.get("message")


SCHEDULING_CHANGED = Predicate(
    create=lambda pod: _scheduling(pod) != (None, None, None),
    update=lambda old, new: _scheduling(old) != _scheduling(new),
    delete=lambda pod: False,
)


def pod_deployment(pod: Mapping[str, Any]) -> list[Key]:
    """The ModelDeployment a pod serves, from its ``airunway.ai/deployment`` label."""
    meta = pod.get("metadata") or {}
    name = (meta.get("labels") or {}).get(LABEL_DEPLOYMENT)
    return [Key(meta.get("namespace") or "", name)] if name else []


POD_INDEX = "modeldeployment"


def covers(actual: Any, desired: Any) -> bool:
    """Whether ``actual`` (an object as the API server returns it, defaults filled in) holds every field of
    ``desired`` with the same value; lists must match item by item, empty maps and lists match absent ones."""
    if isinstance(desired, Mapping):
        if not desired:
            return actual is None or isinstance(actual, Mapping)
        return isinstance(actual, Mapping) and all(covers(actual.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        if not desired:
            return not actual
        return isinstance(actual, list) and len(actual) == len(desired) and all(
            covers(a, d) for a, d in zip(actual, desired))
    return actual == desired


def digest(obj: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class WorkloadReconciler(ProviderReconciler):
    """A provider whose objects are Deployments and Services (Direct vLLM, llm-d).

    Reads go through the watch cache, and an object is applied only when something is to change: the rendering
    differs from what this process last applied, or the cached object no longer holds every rendered field (a hand
    edit or deletion). A steady deployment's resync costs no request then; a changed one is applied as before.
    """

    primary = DEPLOYMENTS
    owned = (DEPLOYMENTS, SERVICES)
    created_noun = "Deployments"
    created_message = "Deployments and Services created successfully"
    pods: Informer | None = None

    def __init__(self, client: Any, cache: Any) -> None:
        super().__init__(client, cache)
        self._applied: dict[tuple[str, str, str], str] = {}  # (kind, namespace, name) → digest last applied

    async def read(self, resource: Resource, name: str, namespace: str | None) -> dict[str, Any] | None:
        """From the watch cache; a GET when the cache does not have it (not synced, lagging, or really absent)."""
        try:
            cached = self.cache.get(resource, Key(namespace or "", name), copy=False)
        except CacheNotSynced:
            cached = None
        return cached if cached is not None else await super().read(resource, name, namespace)

    async def apply(self, md: ModelDeployment, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        key = (obj["kind"], meta.get("namespace") or "", meta["name"])
        wanted = digest(obj)
        if self._applied.get(key) == wanted:
            resource = DEPLOYMENTS if obj["kind"] == DEPLOYMENTS.kind else SERVICES
            current = await self.read(resource, meta["name"], meta.get("namespace"))
            if current is not None and owned_by(current, md.metadata.uid or "") and covers(current, obj):
                return current
        self._applied.pop(key, None)
        applied = await super().apply(md, obj)
        self._applied[key] = wanted
        return applied

    async def handle_deletion(self, md: ModelDeployment) -> bool:
        names = {md.name, f"{md.name}-decode", f"{md.name}-prefill"}
        for key in [k for k in self._applied if k[1] == md.namespace and k[2] in names]:
            del self._applied[key]
        return await super().handle_deletion(md)

    def setup(self, controller: Controller) -> Controller:
        super().setup(controller)
        self.pods = self.cache.informer(PODS, label_selector=LABEL_DEPLOYMENT)
        try:
            self.pods.add_indexer(POD_INDEX, lambda pod: [str(key) for key in pod_deployment(pod)])
        except ValueError:
            pass  # another reconciler on this cache added it
        return controller.watches(PODS, pod_deployment, predicates=[SCHEDULING_CHANGED],
                                  label_selector=LABEL_DEPLOYMENT)

    def status_of(self, md: ModelDeployment, primary: dict[str, Any]) -> ObservedStatus:
        return deployment_status(primary)

    async def observe_extra(self, md: ModelDeployment, primary: dict[str, Any], observed: ObservedStatus) -> None:
        """A deployment none of whose pods can be placed stays Pending with the scheduler's reason."""
        if observed.phase in (DeploymentPhase.RUNNING, DeploymentPhase.FAILED) or self.pods is None:
            return
        name = primary["metadata"]["name"]
        if not self.pods.has_synced():
            return
        pods = self.pods.store.by_index(POD_INDEX, f"{md.namespace}/{md.name}", copy=False)
        if reason := unschedulable_message([p for p in pods if p["metadata"]["labels"].get(LABEL_APP) == name]):
            observed.phase = DeploymentPhase.PENDING.value
            observed.message = f"Pods cannot be scheduled: {reason}"
            observed.hold_phase = True
