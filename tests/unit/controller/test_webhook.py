"""The ModelDeployment webhook handlers (controller/webhook.py) without HTTP: the defaulting patch, the validating
answers, and the provider-config lookup (cache, then API server, and each failure kind)."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.controller.webhook import (
    MUTATE_PATH,
    VALIDATE_PATH,
    ModelDeploymentWebhooks,
    ProviderConfigReader,
)
from airunway.kube.errors import Forbidden, NotFound, ServerError, Unauthorized
from airunway.kube.informer import CacheNotSynced
from airunway.kube.webhook import WebhookServer, parse_review

from support import DEPLOY

DYNAMO = {
    "apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": "dynamo"},
    "spec": {"capabilities": {"engines": [{"name": "vllm", "servingModes": ["aggregated", "disaggregated"],
                                           "gpuSupport": True}]}},
}


class FakeCache:
    def __init__(self, objects: dict[str, dict] | None = None, synced: bool = True):
        self.objects = objects or {}
        self.synced = synced
        self.reads = 0

    def get(self, resource, key, copy=True):
        assert resource == INFERENCE_PROVIDER_CONFIGS and key.namespace == ""
        self.reads += 1
        if not self.synced:
            raise CacheNotSynced("not yet")
        return self.objects.get(key.name)


class FakeClient:
    def __init__(self, objects: dict[str, dict] | None = None, error: Exception | None = None, served: bool = True):
        self.objects = objects or {}
        self.error = error
        self.served = served
        self.gets: list[str] = []

    async def get(self, resource, name, namespace=None):
        self.gets.append(name)
        if self.error:
            raise self.error
        if name not in self.objects:
            raise NotFound(404, "NotFound", f'inferenceproviderconfigs.airunway.ai "{name}" not found')
        return copy.deepcopy(self.objects[name])

    async def resource_for(self, api_version, kind):
        if not self.served:
            raise NotFound(404, "NotFound", "no such kind")
        return INFERENCE_PROVIDER_CONFIGS


def md(spec: dict | None = None, name: str = "m") -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": "ns"}, "spec": {"model": {"id": "org/model"}, **(spec or {})}}


def request(operation: str, obj, old=None):
    return parse_review(json.dumps({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u-1", "operation": operation, "object": obj, "oldObject": old},
    }))


def hooks(cache=None, client=None) -> ModelDeploymentWebhooks:
    return ModelDeploymentWebhooks(ProviderConfigReader(client or FakeClient(), cache))


def test_handlers_are_registered_on_upstream_paths(tmp_path):
    server = WebhookServer(cert_dir=tmp_path)
    hooks().register(server)
    assert sorted(server.handlers) == [MUTATE_PATH, VALIDATE_PATH]
    assert MUTATE_PATH == "/mutate-airunway-ai-v1alpha1-modeldeployment"
    assert VALIDATE_PATH == "/validate-airunway-ai-v1alpha1-modeldeployment"


async def test_defaulting_answers_the_defaults_as_a_json_patch(tmp_path):
    server = WebhookServer(cert_dir=tmp_path)
    hooks().register(server)
    obj = md({"engine": {"type": "vllm"}, "model": {"id": "org/model", "storage": {"volumes": [
        {"name": "cache", "purpose": "modelCache", "size": "10Gi"}]}}})
    status, review = await server.answer(MUTATE_PATH, json.dumps({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u-1", "operation": "CREATE", "object": obj}}).encode())
    response = review["response"]
    assert status == 200 and response["allowed"] and response["patchType"] == "JSONPatch"
    ops = sorted(json.loads(base64.b64decode(response["patch"])), key=lambda op: op["path"])
    assert ops == sorted([
        {"op": "add", "path": "/spec/model/source", "value": "huggingface"},
        {"op": "add", "path": "/spec/model/storage/volumes/0/mountPath", "value": "/model-cache"},
        {"op": "add", "path": "/spec/model/storage/volumes/0/claimName", "value": "m-cache"},
        {"op": "add", "path": "/spec/model/storage/volumes/0/accessMode", "value": "ReadWriteMany"},
        {"op": "add", "path": "/spec/serving", "value": {"mode": "aggregated"}},
        {"op": "add", "path": "/spec/scaling", "value": {"replicas": 1}},
        {"op": "add", "path": "/spec/resources", "value": {"gpu": {"count": 1, "type": "nvidia.com/gpu"}}},
    ], key=lambda op: op["path"])


async def test_validation_refuses_with_upstream_status_and_keeps_warnings():
    bad = md({"model": {"source": "huggingface", "servedName": "x"}, "engine": {"trustRemoteCode": True}},
             name="a.b")
    response = await hooks().validate(request("CREATE", bad))
    assert not response.allowed
    assert response.status["code"] == 403 and response.status["reason"] == "Forbidden"
    assert response.status["message"] == (
        "[metadata.name: Invalid value: \"a.b\": name must not contain dots (dots are invalid in derived Kubernetes "
        "volume and service names), spec.model.id: Required value: model.id is required when source is huggingface]"
    )
    assert response.warnings == ["trustRemoteCode=true allows execution of arbitrary code from HuggingFace"]
    ok = await hooks().validate(request("CREATE", md({"engine": {"type": "vllm", "trustRemoteCode": True}})))
    assert ok.allowed and ok.status is None and len(ok.warnings) == 1


async def test_updates_check_immutable_fields_and_deletes_pass():
    old = md({"engine": {"type": "vllm"}})
    new = md({"engine": {"type": "sglang"}})
    response = await hooks().validate(request("UPDATE", new, old))
    assert not response.allowed and "spec.engine.type: Invalid value: \"sglang\": engine.type is immutable" in \
        response.status["message"]
    assert (await hooks().validate(request("UPDATE", old, old))).allowed
    assert (await hooks().validate(request("DELETE", None, old))).allowed
    assert (await hooks().validate(request("UPDATE", new, None))).status["code"] == 400


NAMED = md({"provider": {"name": "dynamo"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}}})


async def test_provider_config_comes_from_the_cache_first():
    cache, client = FakeCache({"dynamo": DYNAMO}), FakeClient()
    response = await hooks(cache, client).validate(request("CREATE", NAMED))
    assert response.allowed and cache.reads == 1 and client.gets == []


@pytest.mark.parametrize("cache", [FakeCache(), FakeCache(synced=False), None], ids=["missed", "unsynced", "none"])
async def test_provider_config_is_read_from_the_api_when_the_cache_lacks_it(cache):
    client = FakeClient({"dynamo": DYNAMO})
    response = await hooks(cache, client).validate(request("CREATE", NAMED))
    assert response.allowed and client.gets == ["dynamo"]


async def test_provider_config_lookup_outcomes():
    kaito_only = copy.deepcopy(DYNAMO)
    kaito_only["spec"]["capabilities"]["engines"][0]["name"] = "llamacpp"
    cases = [
        (FakeClient(), False, 'spec.provider.name: Invalid value: "dynamo": InferenceProviderConfig "dynamo" not found',
         []),
        (FakeClient(served=False), True, None, []),
        (FakeClient(error=Forbidden(403, "Forbidden", "no access")), False,
         'spec.provider.name: Internal error: cannot verify provider "dynamo": no access', []),
        (FakeClient(error=Unauthorized(401, "Unauthorized", "who")), False,
         'spec.provider.name: Internal error: cannot verify provider "dynamo": who', []),
        (FakeClient(error=ServerError(503, "ServiceUnavailable", "etcd down")), True, None,
         ['could not verify provider "dynamo" compatibility at admission time (etcd down); '
          "the controller will re-validate during reconciliation"]),
        (FakeClient({"dynamo": kaito_only}), False, "does not support engine", []),
    ]
    for client, admitted, message, warnings in cases:
        response = await hooks(FakeCache(), client).validate(request("CREATE", NAMED))
        assert response.allowed is admitted, (client.__dict__, response)
        if message:
            assert message in response.status["message"]
        assert response.warnings == warnings


@pytest.mark.parametrize("enabled,rotation", [(True, True), (True, False), (False, True)])
def test_the_controller_serves_webhooks_only_when_enabled(tmp_path, enabled, rotation):
    from airunway.controller.app import build_manager
    from airunway.controller.options import ControllerOptions

    options = ControllerOptions(pod_namespace="ns", webhook_cert_dir=tmp_path / "certs", enable_webhooks=enabled,
                                disable_cert_rotation=not rotation, webhook_extra_hosts=["127.0.0.1"])
    manager, _ = build_manager(object(), options)  # nothing talks to the API server before run()
    runnables = {name: needs_leader for name, _, needs_leader in manager._runnables}
    if not enabled:
        assert "webhook server" not in runnables and not (tmp_path / "certs").exists()
        assert "webhook" not in manager.readyz_checks
        return
    # Every replica serves (and rotates, with conditional writes), not only the leader.
    assert runnables["webhook server"] is False
    assert ("webhook certificate rotation" in runnables) is rotation
    assert ("webhook-certificate" in manager.readyz_checks) is rotation
    assert manager.readyz_checks["webhook"]() is not None  # not serving yet
    assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == ["tls.crt", "tls.key"]  # bootstrap pair


# --------------------------------------------------------------------------------------------- match conditions


def _calls_webhook(operation: str, obj: dict, old: dict | None) -> bool:
    """Whether the API server would call the webhooks, by evaluating MATCH_CONDITIONS with a real CEL engine."""
    import cel_expr_python.cel as cel

    from airunway.controller.webhook import MATCH_CONDITIONS

    env = cel.NewEnv(variables={"request": cel.Type.DYN, "object": cel.Type.DYN, "oldObject": cel.Type.DYN})
    data = {"request": {"operation": operation}, "object": obj, "oldObject": old}
    results = [env.compile(condition["expression"]).eval(data=data) for condition in MATCH_CONDITIONS]
    assert all(result.type() == cel.Type.BOOL for result in results), [r.value() for r in results]
    return all(result.value() for result in results)


LIVE = {"metadata": {"name": "m", "finalizers": ["airunway.ai/vllm-provider"]},
        "spec": {"model": {"id": "org/m"}, "scaling": {"replicas": 1}}}


def _with(obj: dict, **changes) -> dict:
    out = copy.deepcopy(obj)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = out
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return out


def test_match_conditions_call_the_webhooks_for_creates_and_spec_changes():
    assert _calls_webhook("CREATE", LIVE, None)
    assert _calls_webhook("UPDATE", _with(LIVE, spec__scaling={"replicas": 2}), LIVE)
    assert _calls_webhook("UPDATE", _with(LIVE, spec__model={"id": "org/other"}), LIVE)
    # a spec removed altogether is still refused by the webhook (and the schema)
    assert _calls_webhook("UPDATE", {"metadata": LIVE["metadata"]}, LIVE)


def test_match_conditions_skip_metadata_only_updates_and_objects_being_deleted():
    assert not _calls_webhook("UPDATE", _with(LIVE, metadata__finalizers=[]), LIVE)
    assert not _calls_webhook("UPDATE", _with(LIVE, metadata__labels={"team": "a"}), LIVE)
    assert not _calls_webhook("UPDATE", _with(LIVE, metadata__annotations={"note": "x"}), LIVE)
    deleting = _with(LIVE, metadata__deletionTimestamp="2026-01-01T00:00:00Z")
    assert not _calls_webhook("UPDATE", _with(deleting, metadata__finalizers=[]), deleting)
    assert not _calls_webhook("UPDATE", _with(deleting, spec__scaling={"replicas": 3}), deleting)


def test_the_installed_webhooks_carry_the_same_match_conditions():
    """The chart's webhook configurations (as rendered into deploy/controller.yaml) call the webhook exactly when
    the controller expects to be called."""
    import yaml

    from airunway.controller.webhook import MATCH_CONDITIONS

    path = DEPLOY / "controller.yaml"
    hooks = [hook for doc in yaml.safe_load_all(path.read_text()) if doc and "webhooks" in doc for hook in doc["webhooks"]]
    assert len(hooks) == 2
    for hook in hooks:
        assert hook["matchConditions"] == list(MATCH_CONDITIONS), hook["name"]
