"""The contract every provider shares: the owner reference of a deployment, the reconciler's fail() and wait(),
and the registry that ``airunway provider NAME`` reads."""

from __future__ import annotations

import json

import pytest

from airunway.api.constants import ConditionType, Reason
from airunway.api.modeldeployment import ModelDeployment
from airunway.api.resources import owner_reference
from airunway.kube.controller import Result
from airunway.providers.reconciler import ProviderReconciler

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
