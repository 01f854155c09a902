"""The contract every provider shares: the owner reference of a deployment, the reconciler's fail() and wait(),
and the registry that ``airunway provider NAME`` reads."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from airunway.api.constants import ConditionType, Reason
from airunway.api.modeldeployment import ModelDeployment
from airunway.api.resources import owner_reference
from airunway.cli import app
from airunway.kube.controller import Result
from airunway.providers.app import ProviderOptions, build_manager
from airunway.providers.descriptor import ProviderFlags
from airunway.providers.dynamo import DynamoFlags
from airunway.providers.reconciler import ProviderReconciler
from airunway.providers.registry import PROVIDERS, UnknownProvider, provider
from airunway.providers.vllm import VLLMFlags

RAW = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
       "metadata": {"name": "llm", "namespace": "ns", "uid": "uid-1"},
       "spec": {"model": {"id": "org/model"}}}


def test_the_owner_reference_is_the_one_the_raw_object_gives():
    md = ModelDeployment.model_validate(RAW)
    assert json.dumps(md.owner_reference()) == json.dumps(owner_reference(RAW))
    assert md.owner_reference() == {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "name": "llm",
                                    "uid": "uid-1", "controller": True, "blockOwnerDeletion": True}


def test_an_owner_reference_needs_the_uid():
    md = ModelDeployment.model_validate({**RAW, "metadata": {"name": "llm", "namespace": "ns"}})
    with pytest.raises(ValueError, match="ns/llm has no metadata.uid"):
        md.owner_reference()


# --------------------------------------------------------------------------------------------- fail() and wait()


class Toy(ProviderReconciler):
    name = "toy"
    display = "Toy"


def conditions(md: ModelDeployment) -> dict[str, tuple[str, str, str]]:
    return {c.type: (c.status, c.reason, c.message) for c in md.status.conditions or []}


def test_fail_marks_the_deployment_failed_with_each_condition_false():
    md = ModelDeployment.model_validate({**RAW, "metadata": {**RAW["metadata"], "generation": 3}})
    result = Toy(None, None).fail(md, "it broke", ConditionType.READY, ConditionType.RESOURCE_CREATED,
                                  reason=Reason.RESOURCE_CONFLICT)
    assert result == Result()
    assert (md.status.phase, md.status.message) == ("Failed", "it broke")
    assert conditions(md) == {"Ready": ("False", "ResourceConflict", "it broke"),
                              "ResourceCreated": ("False", "ResourceConflict", "it broke")}
    assert {c.observed_generation for c in md.status.conditions} == {3}


def test_fail_without_a_condition_sets_only_phase_and_message():
    md = ModelDeployment.model_validate(RAW)
    assert Toy(None, None).fail(md, "no image") == Result()
    assert (md.status.phase, md.status.message, md.status.conditions) == ("Failed", "no image", None)


def test_wait_marks_the_deployment_pending_and_asks_to_look_again():
    md = ModelDeployment.model_validate(RAW)
    result = Toy(None, None).wait(md, "Waiting for PVCs to be bound", ConditionType.STORAGE_READY,
                                  reason=Reason.PVCS_PENDING, after=10)
    assert result == Result(requeue_after=10)
    assert (md.status.phase, md.status.message) == ("Pending", "Waiting for PVCs to be bound")
    assert conditions(md) == {"StorageReady": ("False", "PVCsPending", "Waiting for PVCs to be bound")}


# --------------------------------------------------------------------------------------------- the registry

NAMES = ("vllm", "llmd", "kaito", "dynamo", "kuberay")


def cli(*args: str):
    return CliRunner().invoke(app, ["provider", *args], env={"COLUMNS": "200"}, terminal_width=200)


@pytest.fixture
def started(monkeypatch) -> list:
    """What ``airunway provider`` would run, instead of running it."""
    calls = []

    async def run(name, options):
        calls.append((name, options))

    monkeypatch.setattr("airunway.providers.app.run", run)
    return calls


def test_the_registry_holds_every_provider_by_name():
    assert tuple(PROVIDERS) == NAMES
    for name, descriptor in PROVIDERS.items():
        assert descriptor.name == name == descriptor.config().name
        reconciler = descriptor.build(None, None, descriptor.flags())
        assert (reconciler.name, reconciler.display) == (name, descriptor.display)
    assert provider("kaito") is PROVIDERS["kaito"]


def test_an_unknown_provider_names_the_known_ones():
    with pytest.raises(UnknownProvider, match="unknown provider 'nope': choose one of vllm, llmd, kaito, dynamo, kuberay"):
        provider("nope")
    result = cli("nope")
    assert result.exit_code == 2
    assert "unknown provider 'nope': choose one of vllm, llmd, kaito, dynamo, kuberay" in result.output


def test_help_lists_the_providers_and_their_own_flags():
    result = cli("--help")
    assert result.exit_code == 0, result.output
    assert "vllm (vLLM), llmd (llm-d), kaito (KAITO), dynamo (Dynamo), kuberay (KubeRay)" in result.output
    assert "vLLM only" in result.output and "--image-registry-endpoint" in result.output
    assert "Dynamo only" in result.output and "--download-job-image" in result.output


def test_a_providers_flags_reach_it_typed(started):
    assert cli("dynamo", "--download-job-image=downloader:test").exit_code == 0
    assert cli("vllm", "--image-registry-endpoint", "default=http://127.0.0.1:5000",
               "--image-registry-endpoint=mirror.test=https://m.test").exit_code == 0
    assert cli("kaito", "--leader-elect").exit_code == 0
    (dynamo, dynamo_options), (vllm, vllm_options), (kaito, kaito_options) = started
    assert (dynamo, dynamo_options.flags) == ("dynamo", DynamoFlags(download_job_image="downloader:test"))
    assert (vllm, vllm_options.flags) == ("vllm", VLLMFlags(image_registry_endpoints={
        "default": "http://127.0.0.1:5000", "mirror.test": "https://m.test"}))
    assert (kaito, kaito_options.flags, kaito_options.leader_elect) == ("kaito", ProviderFlags(), True)


def test_a_flag_of_another_provider_or_a_bad_value_is_refused(started):
    result = cli("vllm", "--download-job-image=x")
    assert result.exit_code == 2
    assert "Invalid value for --download-job-image: only the dynamo provider takes it, not vllm" in result.output
    result = cli("vllm", "--image-registry-endpoint=foo")
    assert result.exit_code == 2
    assert "Invalid value for --image-registry-endpoint: 'foo' is not REGISTRY=http(s)://HOST[:PORT]" in result.output
    assert started == []


def test_provider_flags_are_distinct_from_each_other_and_from_the_common_ones():
    flags = [flag.name for d in PROVIDERS.values() for flag in d.flags.declared().values()]
    assert len(flags) == len(set(flags))
    common = cli("--help").output
    for flag in flags:
        assert common.count(flag) == 1, flag


def test_the_manager_refuses_options_of_another_provider():
    with pytest.raises(TypeError, match="the vllm provider takes VLLMFlags, not DynamoFlags"):
        build_manager(None, "vllm", ProviderOptions(flags=DynamoFlags()))
