"""The ModelDeployment reconciler's logic, on in-memory objects (the sandbox tests cover the API round trip)."""

from __future__ import annotations

import copy

import pytest
import yaml
from prometheus_client import CollectorRegistry

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.controller.metrics import DeploymentMetrics
from airunway.controller.reconciler import (
    ModelDeploymentReconciler,
    provider_config_changed,
)
from airunway.dicts import merge_patch
from airunway.kube.resources import Key

from support import DATA


class MemoryCache:
    """Just the reads the reconciler makes of the runtime's cache."""

    def __init__(self) -> None:
        self.objects: dict = {MODEL_DEPLOYMENTS: {}, INFERENCE_PROVIDER_CONFIGS: {}}

    def put(self, resource, obj: dict) -> None:
        self.objects[resource][Key.of(obj)] = obj

    def get(self, resource, key, copy: bool = True):
        return self.objects[resource].get(key)

    def list(self, resource, namespace=None, selector=None, copy: bool = True):
        return list(self.objects[resource].values())


class PatchRecorder:
    def __init__(self, cache: MemoryCache) -> None:
        self.cache = cache
        self.patches: list[dict] = []

    async def patch_merge(self, resource, name, patch, namespace=None, *, subresource=None):
        assert subresource == "status"
        self.patches.append(patch)
        obj = self.cache.objects[resource][Key(namespace, name)]
        obj["status"] = apply_merge_patch(obj.get("status") or {}, patch["status"])
        return obj


def apply_merge_patch(target: dict, patch: dict) -> dict:
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = apply_merge_patch(result[key], value)
        else:
            result[key] = value
    return result


def provider_config(name: str, ready: bool = True) -> dict:
    doc = yaml.safe_load((DATA / "providerconfigs" / f"{name}.yaml").read_text())
    doc["metadata"]["resourceVersion"] = "1"
    doc["status"] = {"ready": ready}
    return doc


def deployment(name: str = "md", generation: int = 1, annotations=None, status=None, **spec) -> dict:
    obj = {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": name, "namespace": "ns", "generation": generation,
                     "creationTimestamp": "2026-11-23T00:00:00Z", **({"annotations": annotations} if annotations else {})},
        "spec": {"model": {"id": "org/model"}, **spec},
    }
    if status:
        obj["status"] = status
    return obj


@pytest.fixture
def world():
    cache = MemoryCache()
    client = PatchRecorder(cache)
    metrics = DeploymentMetrics(registry=CollectorRegistry())
    return cache, client, metrics


def reconciler(world, selector: bool = True) -> ModelDeploymentReconciler:
    cache, client, metrics = world
    return ModelDeploymentReconciler(client, cache, metrics=metrics, enable_provider_selector=selector)


async def reconcile(world, obj: dict, selector: bool = True) -> dict:
    cache = world[0]
    cache.put(MODEL_DEPLOYMENTS, obj)
    await reconciler(world, selector).reconcile(Key.of(obj))
    return cache.objects[MODEL_DEPLOYMENTS][Key.of(obj)].get("status") or {}


def conditions(status: dict) -> dict:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status.get("conditions", [])}


# -- merge patch --------------------------------------------------------------------------------------------


def test_merge_patch_sends_only_what_changed():
    before = {"phase": "Pending", "provider": {"name": "kaito", "resourceName": "x"}, "message": "m", "list": [1]}
    after = {"phase": "Pending", "provider": {"name": "kaito", "resourceName": "y"}, "list": [1, 2], "new": 0}
    assert merge_patch(before, after) == {"provider": {"resourceName": "y"}, "list": [1, 2], "new": 0, "message": None}
    assert merge_patch(after, after) == {}


def test_provider_config_updates_matter_only_for_readiness_and_spec():
    update = provider_config_changed().update
    old = provider_config("kaito")
    assert not update(old, {**old, "metadata": {**old["metadata"], "labels": {"a": "b"}}})
    assert update(old, {**old, "status": {"ready": False}})
    assert update(old, {**old, "spec": {**old["spec"], "selectionRules": []}})


def test_a_provider_config_change_enqueues_named_selected_and_waiting_deployments(world):
    cache = world[0]
    for obj in (
        deployment("named", provider={"name": "kaito"}),
        deployment("selected", status={"provider": {"name": "kaito"}}),
        deployment("waiting"),
        deployment("elsewhere", status={"provider": {"name": "dynamo"}}),
        deployment("named-elsewhere", provider={"name": "llmd"}),
    ):
        cache.put(MODEL_DEPLOYMENTS, obj)
    keys = reconciler(world).deployments_affected_by(provider_config("kaito"))
    assert sorted(k.name for k in keys) == ["named", "selected", "waiting"]


# -- reconcile ----------------------------------------------------------------------------------------------


async def test_without_provider_configs_engine_selection_fails_and_phase_stays_pending(world):
    status = await reconcile(world, deployment())
    assert status["phase"] == "Pending" and status["observedGeneration"] == 1
    message = "no providers registered (InferenceProviderConfig resources not found)"
    assert status["message"] == f"Engine selection failed: {message}"
    assert conditions(status) == {"EngineSelected": ("False", "SelectionFailed", message)}


async def test_no_ready_provider_leaves_the_deployment_waiting(world):
    world[0].put(INFERENCE_PROVIDER_CONFIGS, provider_config("kaito", ready=False))
    status = await reconcile(world, deployment(engine={"type": "llamacpp"}))
    assert status["message"] == "Provider selection failed: no healthy providers available"
    assert conditions(status)["ProviderSelected"] == ("False", "SelectionFailed", "no healthy providers available")
    assert conditions(status)["EngineSelected"] == ("True", "ExplicitSelection", "Engine explicitly specified in spec")


async def test_selector_disabled_records_the_named_provider_or_says_none(world):
    status = await reconcile(world, deployment("named", engine={"type": "vllm"}, provider={"name": "llmd"},
                                               resources={"gpu": {"count": 1}}), selector=False)
    assert status["provider"] == {"name": "llmd", "selectedReason": "explicit provider selection"}
    assert "engine" not in status, "without the selector the engine is not recorded"
    status = await reconcile(world, deployment("unnamed", engine={"type": "vllm"}), selector=False)
    message = "No provider specified and provider-selector not enabled"
    assert conditions(status)["ProviderSelected"] == ("False", "NoProvider", message)
    assert status["message"] == message


async def test_dynamo_mocker_accepts_only_vllm(world):
    world[0].put(INFERENCE_PROVIDER_CONFIGS, provider_config("dynamo"))
    obj = deployment(annotations={"airunway.ai/dynamo-test-backend": "mocker"}, engine={"type": "sglang"},
                     provider={"name": "dynamo"})
    status = await reconcile(world, obj)
    assert status["phase"] == "Failed"
    assert status["message"] == "Validation failed: the dynamo mocker test backend only supports the vllm engine"


async def test_a_second_reconcile_writes_nothing(world):
    cache, client, _ = world
    cache.put(INFERENCE_PROVIDER_CONFIGS, provider_config("kaito"))
    first = await reconcile(world, deployment())
    assert first["provider"]["name"] == "kaito"
    assert len(client.patches) == 1
    await reconciler(world).reconcile(Key("ns", "md"))
    assert len(client.patches) == 1


async def test_provider_written_status_is_kept(world):
    cache, client, _ = world
    cache.put(INFERENCE_PROVIDER_CONFIGS, provider_config("kaito"))
    status = {"phase": "Running", "replicas": {"desired": 1, "ready": 1}, "endpoint": {"service": "md", "port": 80},
              "provider": {"name": "kaito", "resourceName": "md", "resourceKind": "Workspace",
                           "selectedReason": "matched capabilities: engine=llamacpp, gpu=false, mode=aggregated"},
              "engine": {"type": "llamacpp", "selectedReason": "auto-selected from provider kaito capabilities"}}
    after = await reconcile(world, deployment(generation=3, status=copy.deepcopy(status)))
    assert client.patches[0]["status"].keys() == {"observedGeneration", "conditions"}
    assert {k: v for k, v in after.items() if k in status} == status


async def test_paused_and_deleting_deployments_are_not_written(world):
    cache, client, _ = world
    await reconcile(world, deployment("paused", annotations={"airunway.ai/reconcile-paused": "true"}))
    deleting = deployment("deleting")
    deleting["metadata"]["deletionTimestamp"] = "2026-11-23T00:00:00Z"
    await reconcile(world, deleting)
    assert client.patches == []


async def test_an_object_the_schema_rejects_is_marked_failed(world):
    obj = deployment(resources={"gpu": {"count": "many"}})
    status = await reconcile(world, obj)
    assert status["phase"] == "Failed"
    assert status["message"].startswith("Validation failed: spec.resources.gpu.count")


async def test_errors_are_counted_once_a_provider_is_known(world):
    cache, _, metrics = world
    cache.put(INFERENCE_PROVIDER_CONFIGS, provider_config("kaito"))
    obj = deployment(provider={"name": "kaito"}, status={"provider": {"name": "dynamo"}})
    status = await reconcile(world, obj)
    assert conditions(status)["ProviderSelected"][1] == "ProviderChangeNotSupported"
    sample = metrics.reconciliation_errors.labels("dynamo", "provider_change")._value.get()
    assert sample == 1


async def test_a_provider_config_the_schema_rejects_is_skipped(world, caplog):
    cache = world[0]
    broken = provider_config("dynamo")
    broken["spec"]["selectionRules"] = [{"condition": "true", "priority": "high"}]
    cache.put(INFERENCE_PROVIDER_CONFIGS, broken)
    cache.put(INFERENCE_PROVIDER_CONFIGS, provider_config("kaito"))
    status = await reconcile(world, deployment())
    assert status["provider"]["name"] == "kaito"
    assert any("does not match its schema" in r.getMessage() and r.config == "dynamo" for r in caplog.records)


async def test_without_the_provider_config_crd_explicit_choices_still_work(world):
    cache, client, metrics = world
    md_obj = deployment(engine={"type": "vllm"}, provider={"name": "llmd"}, resources={"gpu": {"count": 1}})
    cache.put(MODEL_DEPLOYMENTS, md_obj)
    rec = ModelDeploymentReconciler(client, cache, metrics=metrics, provider_configs_installed=False)
    await rec.reconcile(Key.of(md_obj))
    status = cache.objects[MODEL_DEPLOYMENTS][Key.of(md_obj)]["status"]
    assert status["provider"] == {"name": "llmd", "selectedReason": "explicit provider selection"}
    assert status["engine"] == {"type": "vllm", "selectedReason": "explicit engine selection"}


def test_provider_config_events_before_the_deployments_are_listed_enqueue_nothing():
    """The provider-config informer can deliver events before the deployments' first list; the deployments'
    own first list enqueues every one of them, so nothing is lost."""
    from airunway.kube.informer import CacheNotSynced

    class Unsynced:
        def list(self, *args, **kwargs):
            raise CacheNotSynced("not yet")

    reconciler = ModelDeploymentReconciler(None, Unsynced(), metrics=None)
    assert reconciler.deployments_affected_by({"metadata": {"name": "vllm"}}) == []


async def test_an_auto_selected_provider_that_cannot_render_the_name_fails_validation(world):
    world[0].put(INFERENCE_PROVIDER_CONFIGS, provider_config("kaito"))
    name = "n" * 63  # within every provider's limit, so admitted without a provider named
    status = await reconcile(world, deployment(name, engine={"type": "llamacpp"}))
    assert status["provider"]["name"] == "kaito"

    world[0].put(INFERENCE_PROVIDER_CONFIGS, provider_config("kuberay"))
    world[0].objects[INFERENCE_PROVIDER_CONFIGS].pop(Key("", "kaito"))
    status = await reconcile(world, deployment("k" * 48, engine={"type": "vllm"}, resources={"gpu": {"count": 1}}))
    assert status["phase"] == "Failed" and "provider" not in status
    assert status["message"] == (
        f'Validation failed: metadata.name: Invalid value: "{"k" * 48}": must be no more than 47 characters for '
        'provider "kuberay" (got 48): KubeRay refuses longer RayService names (the name of the RayCluster it creates '
        "adds a suffix)")
    assert conditions(status)["Validated"][:2] == ("False", "ValidationFailed")


# -- providers that stop reporting ---------------------------------------------------------------------------


def test_a_provider_config_whose_heartbeat_comes_back_matters():
    from datetime import datetime, timedelta, timezone

    def at(seconds_ago: float) -> dict:
        beat = (datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {**provider_config("kaito"), "status": {"ready": True, "lastHeartbeat": beat}}

    update = provider_config_changed(180).update
    assert update(at(600), at(0))  # back from the dead: deployments waiting for a provider are looked at again
    assert not update(at(60), at(0))  # an ordinary heartbeat
    assert not update(at(900), at(600))


class DeletionWorld(PatchRecorder):
    """Records the finalizer patches and Events of the deletion path as well."""

    def __init__(self, cache: MemoryCache) -> None:
        super().__init__(cache)
        self.json_patches: list[list[dict]] = []
        self.events: list[tuple[str, str, str]] = []

    async def patch_json(self, resource, name, ops, namespace=None, *, subresource=None):
        self.json_patches.append(ops)
        return {}

    async def record(self, obj, type_, reason, message):
        self.events.append((type_, reason, message))


def deleting(provider_beat_seconds_ago: float | None, finalizers=("airunway.ai/vllm-provider", "example.com/keep")):
    from datetime import datetime, timedelta, timezone

    world_cache = MemoryCache()
    client = DeletionWorld(world_cache)
    config = provider_config("vllm")
    if provider_beat_seconds_ago is not None:
        beat = datetime.now(timezone.utc) - timedelta(seconds=provider_beat_seconds_ago)
        config["status"]["lastHeartbeat"] = beat.strftime("%Y-%m-%dT%H:%M:%SZ")
    world_cache.put(INFERENCE_PROVIDER_CONFIGS, config)
    obj = deployment(status={"phase": "Running", "provider": {"name": "vllm"}})
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    obj["metadata"]["finalizers"] = list(finalizers)
    world_cache.put(MODEL_DEPLOYMENTS, obj)
    rec = ModelDeploymentReconciler(client, world_cache, metrics=DeploymentMetrics(registry=CollectorRegistry()),
                                    heartbeat_timeout=180, events=client)
    return rec, client, obj


async def test_a_deletion_waits_for_a_provider_that_reports_and_says_so():
    rec, client, obj = deleting(provider_beat_seconds_ago=30)
    result = await rec.reconcile(Key.of(obj))
    assert 150 < result.requeue_after <= 152  # when the provider would pass the timeout
    status = obj["status"]
    assert status["phase"] == "Terminating"
    assert status["message"] == (
        "Being deleted: waiting for provider vllm to delete its objects and remove its finalizer "
        "airunway.ai/vllm-provider; if it sends no heartbeat for 180 s the core controller removes the finalizer itself")
    assert conditions(status)["Deleting"] == ("True", "WaitingForProvider", status["message"])
    assert client.json_patches == [] and client.events == []
    # A second pass writes nothing: the message has no running clock in it.
    client.patches.clear()
    await rec.reconcile(Key.of(obj))
    assert client.patches == []


async def test_a_provider_silent_past_the_timeout_loses_its_finalizer_with_a_warning_event():
    rec, client, obj = deleting(provider_beat_seconds_ago=600)
    assert await rec.reconcile(Key.of(obj)) is None
    assert client.json_patches == [[
        {"op": "test", "path": "/metadata/finalizers", "value": ["airunway.ai/vllm-provider", "example.com/keep"]},
        {"op": "replace", "path": "/metadata/finalizers", "value": ["example.com/keep"]},
    ]]
    [(kind, reason, message)] = client.events
    assert (kind, reason) == ("Warning", "ProviderFinalizerRemoved")
    assert message.startswith("Provider vllm has not reported for 600 s (more than 180 s): removed its finalizer "
                              "airunway.ai/vllm-provider")
    assert conditions(obj["status"])["Deleting"][:2] == ("True", "ProviderFinalizerRemoved")


async def test_a_deletion_without_provider_finalizers_is_left_alone():
    rec, client, obj = deleting(provider_beat_seconds_ago=600, finalizers=("example.com/keep",))
    assert await rec.reconcile(Key.of(obj)) is None
    assert client.patches == [] and client.json_patches == [] and client.events == []


async def test_a_provider_that_never_reported_is_timed_from_the_deletion():
    rec, client, obj = deleting(provider_beat_seconds_ago=None)  # deleted in January 2026: long past
    await rec.reconcile(Key.of(obj))
    assert client.json_patches and "has not reported since the deletion" in client.events[0][2]
