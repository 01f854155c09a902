"""Model storage for providers that need it before their workload (reference controller.md §8): the
PersistentVolumeClaims a ModelDeployment asks to be created (volumes with a ``size``), checks of the claims it
references, and the Job that downloads the model into the model cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airunway.api.constants import (
    JOB_TYPE_MODEL_DOWNLOAD,
    LABEL_JOB_TYPE,
    LABEL_MANAGED_BY,
    LABEL_MODEL_DEPLOYMENT,
    MANAGED_BY_VALUE,
)
from airunway.api.modeldeployment import ModelDeployment, StorageVolume
from airunway.kube.client import Client
from airunway.kube.errors import AlreadyExists, NotFound
from airunway.kube.resources import PERSISTENTVOLUMECLAIMS, Resource
from airunway.providers.objects import owned_by

JOBS = Resource("batch", "v1", "jobs", kind="Job")
DEFAULT_DOWNLOAD_IMAGE = "ghcr.io/kaito-project/airunway/model-downloader:latest"
BACKOFF_LIMIT = 6


class StorageError(Exception):
    pass


def volumes(md: ModelDeployment) -> list[StorageVolume]:
    return list((md.spec.model.storage.volumes or []) if md.spec.model.storage else [])


def labels(md: ModelDeployment) -> dict[str, str]:
    return {LABEL_MANAGED_BY: MANAGED_BY_VALUE, LABEL_MODEL_DEPLOYMENT: md.name}


def claim(md: ModelDeployment, vol: StorageVolume) -> dict[str, Any]:
    if not vol.size:
        raise StorageError("volume size must be set for controller-created PVCs")
    spec: dict[str, Any] = {"accessModes": [vol.access_mode or "ReadWriteMany"],
                            "resources": {"requests": {"storage": str(vol.size)}}}
    if vol.storage_class_name is not None:
        spec["storageClassName"] = vol.storage_class_name
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": vol.resolved_claim_name(md.name), "namespace": md.namespace, "labels": labels(md),
                         "ownerReferences": [md.owner_reference()]},
            "spec": spec}


async def ensure_claims(client: Client, md: ModelDeployment) -> bool:
    """Create the managed claims and check the referenced ones; True once every claim can be used."""
    ready = True
    uid = md.metadata.uid or ""
    for vol in volumes(md):
        name = vol.resolved_claim_name(md.name)
        existing = await client.get_or_none(PERSISTENTVOLUMECLAIMS, name, md.namespace)
        phase = ((existing or {}).get("status") or {}).get("phase")
        if not vol.size:
            if existing is None:
                raise StorageError(
                    f'pre-existing PVC "{name}" not found in namespace "{md.namespace}" (referenced by volume '
                    f'"{vol.name}"); ensure the PVC exists before creating the ModelDeployment')
            if phase == "Lost":
                raise StorageError(f'pre-existing PVC "{name}" is in Lost phase')
            ready = ready and phase == "Bound"
            continue
        if existing is None:
            try:
                await client.create(PERSISTENTVOLUMECLAIMS, claim(md, vol), md.namespace)
            except AlreadyExists:
                pass
            ready = False
        elif not owned_by(existing, uid):
            if (existing["metadata"].get("labels") or {}).get(LABEL_MANAGED_BY) != MANAGED_BY_VALUE:
                raise StorageError(
                    f"PVC {name} exists but was not created by airunway (missing {LABEL_MANAGED_BY} label); refusing "
                    "to delete — remove the PVC manually or change the volume claimName")
            await client.delete(PERSISTENTVOLUMECLAIMS, name, md.namespace, ignore_not_found=True)
            ready = False
        elif phase == "Lost":
            raise StorageError(f"PVC {name} is in Lost phase")
        else:
            ready = ready and phase in ("Bound", "Pending")  # Pending: bound when the first pod uses it
    return ready


def model_cache(md: ModelDeployment) -> StorageVolume | None:
    return next((v for v in volumes(md) if v.purpose == "modelCache"), None)


def needs_download(md: ModelDeployment) -> bool:
    cache = model_cache(md)
    return md.spec.model.source == "huggingface" and cache is not None and not cache.read_only


def download_job(md: ModelDeployment, image: str) -> dict[str, Any]:
    cache = model_cache(md)
    assert cache is not None
    path = cache.mount_path or "/model-cache"
    container: dict[str, Any] = {
        "name": "model-download", "image": image or DEFAULT_DOWNLOAD_IMAGE,
        "args": ["download", md.spec.model.id or ""],
        "env": [{"name": "HF_HOME", "value": path}],
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "16Gi"}},
        "volumeMounts": [{"name": "model-cache", "mountPath": path}],
    }
    secret = md.spec.secrets.hugging_face_token if md.spec.secrets else None
    if secret:
        container["envFrom"] = [{"secretRef": {"name": secret}}]
    return {
        "apiVersion": JOBS.api_version, "kind": JOBS.kind,
        "metadata": {"name": f"{md.name}-model-download", "namespace": md.namespace,
                     "labels": {**labels(md), LABEL_JOB_TYPE: JOB_TYPE_MODEL_DOWNLOAD},
                     "ownerReferences": [md.owner_reference()]},
        "spec": {"backoffLimit": BACKOFF_LIMIT, "completions": 1, "parallelism": 1, "template": {"spec": {
            "restartPolicy": "Never", "containers": [container],
            "volumes": [{"name": "model-cache",
                         "persistentVolumeClaim": {"claimName": cache.resolved_claim_name(md.name)}}]}}},
    }


def download_outcome(job: Mapping[str, Any]) -> bool:
    """True when the Job completed; raises StorageError when it failed for good; False while it runs."""
    status = job.get("status") or {}
    name = job["metadata"]["name"]
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Complete" and condition.get("status") == "True":
            return True
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            raise StorageError(f"model download Job {name} failed permanently: {condition.get('message', '')}")
    if (status.get("succeeded") or 0) >= 1:
        return True
    limit = (job.get("spec") or {}).get("backoffLimit", BACKOFF_LIMIT)
    failed = status.get("failed") or 0
    if failed >= limit:
        raise StorageError(f"model download Job {name} failed permanently (failed={failed}, backoffLimit={limit})")
    return False


async def ensure_download(client: Client, md: ModelDeployment, image: str) -> bool:
    """Start (or follow) the model download Job; True once the model is in the cache."""
    if model_cache(md) is None:
        return True
    wanted = download_job(md, image)
    name = wanted["metadata"]["name"]
    existing = await client.get_or_none(JOBS, name, md.namespace)
    if existing is None:
        try:
            await client.create(JOBS, wanted, md.namespace)
        except AlreadyExists:
            pass
        return False
    if not owned_by(existing, md.metadata.uid or ""):
        await client.delete(JOBS, name, md.namespace, propagation_policy="Background", ignore_not_found=True)
        return False
    return download_outcome(existing)


async def delete_managed(client: Client, md: ModelDeployment) -> None:
    """Delete the Jobs and claims created for ``md`` (labelled and owned by it), nothing else."""
    for resource, policy in ((JOBS, "Background"), (PERSISTENTVOLUMECLAIMS, None)):
        found = (await client.list_all(resource, md.namespace, label_selector=labels(md))).items
        for obj in found:
            if owned_by(obj, md.metadata.uid or ""):
                try:
                    await client.delete(resource, obj["metadata"]["name"], md.namespace, propagation_policy=policy)
                except NotFound:
                    pass
