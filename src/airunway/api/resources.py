"""The API resources of the AI Runway kinds, for the controller runtime's client and caches."""

from __future__ import annotations

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
