"""The API resources of the AI Runway kinds, for the controller runtime's client and caches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airunway.api.constants import (
    GROUP,
    INFERENCE_PROVIDER_CONFIG_KIND,
    INFERENCE_PROVIDER_CONFIG_PLURAL,
    MODEL_DEPLOYMENT_KIND,
    MODEL_DEPLOYMENT_PLURAL,
    VERSION,
)
from airunway.kube.resources import Resource

MODEL_DEPLOYMENTS = Resource(GROUP, VERSION, MODEL_DEPLOYMENT_PLURAL, namespaced=True, kind=MODEL_DEPLOYMENT_KIND)
INFERENCE_PROVIDER_CONFIGS = Resource(
    GROUP, VERSION, INFERENCE_PROVIDER_CONFIG_PLURAL, namespaced=False, kind=INFERENCE_PROVIDER_CONFIG_KIND
)

# Objects of other projects that the core controller writes for the Gateway API Inference Extension integration.
GATEWAYS = Resource("gateway.networking.k8s.io", "v1", "gateways", kind="Gateway")
HTTP_ROUTES = Resource("gateway.networking.k8s.io", "v1", "httproutes", kind="HTTPRoute")
REFERENCE_GRANTS = Resource("gateway.networking.k8s.io", "v1beta1", "referencegrants", kind="ReferenceGrant")
INFERENCE_POOLS = Resource("inference.networking.k8s.io", "v1", "inferencepools", kind="InferencePool")
DESTINATION_RULES = Resource("networking.istio.io", "v1beta1", "destinationrules", kind="DestinationRule")


def owner_reference(owner: Mapping[str, Any], *, controller: bool = True) -> dict[str, Any]:
    """An ownerReference to ``owner`` (a ModelDeployment unless its apiVersion and kind say otherwise), so that
    the garbage collector deletes the dependent with it."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", MODEL_DEPLOYMENTS.api_version),
        "kind": owner.get("kind", MODEL_DEPLOYMENTS.kind),
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }
