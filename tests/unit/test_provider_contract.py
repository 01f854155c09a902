"""The contract every provider shares: the owner reference of a deployment, the reconciler's fail() and wait(),
and the registry that ``airunway provider NAME`` reads."""

from __future__ import annotations

import json

import pytest

from airunway.api.modeldeployment import ModelDeployment
from airunway.api.resources import owner_reference

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
