"""The shared provider contract (airunway.providers.reconciler, .registration) with a toy provider of ConfigMaps.

The toy's "pods" are the ConfigMap's ``data.state``: the test plays the upstream operator by writing it.
"""

from __future__ import annotations

import asyncio

from airunway.api.modeldeployment import EndpointStatus, ReplicaStatus
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.kube import CONFIGMAPS, Client, Manager
from airunway.providers.objects import standard_labels
from airunway.providers.reconciler import ObservedStatus, ProviderReconciler
from airunway.providers.registration import ProviderConfig, Registration


class Toy(ProviderReconciler):
    name = "toy"
    display = "Toy"
    primary = CONFIGMAPS
    owned = (CONFIGMAPS,)

    def check_compatibility(self, md):
        return "toy needs a model id starting with org/" if not md.spec.model.id.startswith("org/") else None

    def transform(self, md):
        return [{
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": md.name, "namespace": md.namespace, "labels": standard_labels(md),
                         "ownerReferences": [md.owner_reference()]},
            "data": {"model": md.spec.model.id},
        }]

    def status_of(self, md, primary):
        state = (primary.get("data") or {}).get("state", "")
        phase = {"ready": "Running", "broken": "Failed"}.get(state, "Deploying")
        return ObservedStatus(phase, "it broke" if state == "broken" else "",
                              ReplicaStatus(desired=1, ready=1 if state == "ready" else 0),
                              EndpointStatus(service=md.name, port=8000))


async def until(check, timeout: float = 30, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value {value!r}")
        await asyncio.sleep(0.1)


def deployment(namespace: str, name: str, model: str = "org/model") -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"model": {"id": model}, "engine": {"type": "vllm"}}}


async def select_toy(client: Client, namespace: str, name: str) -> None:
    await client.patch_merge(MODEL_DEPLOYMENTS, name, {"status": {"provider": {"name": "toy"}}}, namespace,
                             subresource="status")


async def get_md(client, namespace, name):
    return await client.get_or_none(MODEL_DEPLOYMENTS, name, namespace)


async def test_the_shared_provider_contract(client, namespace):
    mgr = Manager(client, health_address=None, metrics=None)
    toy = Toy(client, mgr.cache)
    ctrl = mgr.controller("toy-provider", toy, for_=MODEL_DEPLOYMENTS, predicates=[toy.predicate()], workers=2)
    toy.setup(ctrl)
    task = asyncio.create_task(mgr.run(handle_signals=False))
    try:
        await client.create(MODEL_DEPLOYMENTS, deployment(namespace, "other"))  # never selected for toy
        await client.create(MODEL_DEPLOYMENTS, deployment(namespace, "a"))
        await select_toy(client, namespace, "a")

        async def deploying():
            md = await get_md(client, namespace, "a")
            return md if (md.get("status") or {}).get("phase") == "Deploying" else None

        md = await until(deploying, what="phase Deploying")
        assert md["metadata"]["finalizers"] == ["airunway.ai/toy-provider"]
        status = md["status"]
        assert status["message"] == "Toy created, waiting for pods to be ready"
        assert status["provider"] == {"name": "toy", "resourceName": "a", "resourceKind": "ConfigMap"}
        assert status["endpoint"] == {"service": "a", "port": 8000}
        kinds = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
        assert kinds == {"ProviderCompatible": ("True", "CompatibilityVerified"),
                         "ResourceCreated": ("True", "ResourceCreated"),
                         "Ready": ("False", "DeploymentInProgress")}
        cm = await client.get(CONFIGMAPS, "a", namespace)
        assert cm["metadata"]["ownerReferences"][0]["uid"] == md["metadata"]["uid"]
        assert cm["metadata"]["labels"]["airunway.ai/managed-by"] == "airunway"
        assert (await get_md(client, namespace, "other")).get("status") is None

        # the operator reports ready: Running, with the "pods are ready" message
        await client.patch_merge(CONFIGMAPS, "a", {"data": {"state": "ready"}}, namespace)

        async def running():
            md = await get_md(client, namespace, "a")
            return md["status"] if md["status"].get("phase") == "Running" else None

        status = await until(running, what="phase Running")
        assert status["message"] == "Toy created, pods are ready"
        assert status["replicas"] == {"desired": 1, "ready": 1}

        # drift: a hand edit of our field is put back; a deleted object is recreated
        await client.patch_merge(CONFIGMAPS, "a", {"data": {"model": "edited"}}, namespace)
        await until(lambda: _data(client, namespace, "a", "model", "org/model"), what="the edit to be reverted")
        await client.delete(CONFIGMAPS, "a", namespace)
        await until(lambda: _data(client, namespace, "a", "model", "org/model"), what="the object to be recreated")

        # an object of the wanted name owned by someone else is left alone and reported
        await client.create(CONFIGMAPS, {"metadata": {"name": "taken", "namespace": namespace}, "data": {"x": "1"}})
        await client.create(MODEL_DEPLOYMENTS, deployment(namespace, "taken"))
        await select_toy(client, namespace, "taken")

        async def failed(name):
            md = await get_md(client, namespace, name)
            return md["status"] if (md.get("status") or {}).get("phase") == "Failed" else None

        status = await until(lambda: failed("taken"), what="the conflict to be reported")
        assert status["message"] == (f"resource {namespace}/taken exists but is not managed by this ModelDeployment "
                                     "(no owner references)")
        assert {c["type"]: c["reason"] for c in status["conditions"]}["ResourceCreated"] == "ResourceConflict"

        # incompatible deployments are failed with the provider's reason
        await client.create(MODEL_DEPLOYMENTS, deployment(namespace, "bad", model="x"))
        await select_toy(client, namespace, "bad")
        status = await until(lambda: failed("bad"), what="the incompatibility to be reported")
        assert status["message"] == "toy needs a model id starting with org/"

        # deletion: owned objects go, then the finalizer; a foreign object survives
        for name in ("a", "taken"):
            await client.delete(MODEL_DEPLOYMENTS, name, namespace)
        await until(lambda: _gone(client, namespace, "a"), what="deployment a to be gone")
        await until(lambda: _gone(client, namespace, "taken"), what="deployment taken to be gone")
        assert await client.get_or_none(CONFIGMAPS, "taken", namespace) is not None
        await until(lambda: _absent(client, CONFIGMAPS, namespace, "a"), what="the owned ConfigMap to be deleted")
    finally:
        mgr.stop()
        await asyncio.wait_for(task, 30)


async def _data(client, namespace, name, key, want):
    obj = await client.get_or_none(CONFIGMAPS, name, namespace)
    return obj is not None and (obj.get("data") or {}).get(key) == want


async def _gone(client, namespace, name):
    return await get_md(client, namespace, name) is None


async def _absent(client, resource, namespace, name):
    obj = await client.get_or_none(resource, name, namespace)
    return obj is None or bool(obj["metadata"].get("deletionTimestamp"))


async def test_registration_applies_the_config_and_heartbeats(client):
    config = ProviderConfig(
        name="toy-registration",
        spec={"capabilities": {"engines": [{"name": "vllm", "gpuSupport": True}]}},
        annotations={"airunway.ai/display-name": "Toy"},
        upstream_crd_version="v1",
    )
    reg = Registration(client, config, heartbeat=0.5)
    task = asyncio.create_task(reg.run())
    try:
        async def registered():
            obj = await client.get_or_none(INFERENCE_PROVIDER_CONFIGS, "toy-registration")
            return obj if obj and (obj.get("status") or {}).get("ready") else None

        obj = await until(registered, what="the config to be registered ready")
        assert obj["status"]["version"] == "toy-registration-provider:dev"
        assert obj["status"]["upstreamCRDVersion"] == "v1"
        assert obj["metadata"]["annotations"]["airunway.ai/display-name"] == "Toy"
        first = obj["status"]["lastHeartbeat"]
        await until(lambda: _heartbeat_after(client, first), timeout=10, what="a later heartbeat")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    obj = await client.get(INFERENCE_PROVIDER_CONFIGS, "toy-registration")
    assert obj["status"]["ready"] is False, "stopping marks the provider not ready"

    # a restart overwrites the spec and merges annotations
    obj["metadata"]["annotations"]["kept"] = "yes"
    obj["spec"]["selectionRules"] = [{"condition": "true", "priority": 5}]
    await client.update(INFERENCE_PROVIDER_CONFIGS, obj)
    await Registration(client, config).register()
    obj = await client.get(INFERENCE_PROVIDER_CONFIGS, "toy-registration")
    assert obj["metadata"]["annotations"]["kept"] == "yes"
    assert "selectionRules" not in obj["spec"]
    assert obj["status"]["ready"] is True
    await client.delete(INFERENCE_PROVIDER_CONFIGS, "toy-registration")


async def _heartbeat_after(client, first):
    obj = await client.get(INFERENCE_PROVIDER_CONFIGS, "toy-registration")
    return obj["status"]["lastHeartbeat"] > first
