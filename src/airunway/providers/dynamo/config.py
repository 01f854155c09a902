"""The InferenceProviderConfig ``dynamo`` registers (reference providers.md §1.1).

NVIDIA Dynamo serves vLLM and SGLang (aggregated or disaggregated) and TensorRT-LLM (aggregated) on GPUs, and
manages its own InferencePool (``<name>-pool``) for the Gateway integration. It is ready while the API server
serves DynamoGraphDeployments.
"""

from __future__ import annotations

from typing import Any

from airunway.api.builtin_providers import BUILT_IN_PROVIDERS, DYNAMO_NAMESPACE
from airunway.api.provider_annotations import HealthHints
from airunway.kube.client import Client
from airunway.kube.errors import NotFound
from airunway.kube.resources import Resource
from airunway.providers.metadata import provider_annotations
from airunway.providers.registration import ProviderConfig

PROVIDER_NAME = "dynamo"
DISPLAY_NAME = "Dynamo"
DYNAMO_VERSION = "1.1.1"
UPSTREAM_CRD_VERSION = "nvidia.com/v1alpha1"
DGD_KIND = "DynamoGraphDeployment"
DYNAMO_GRAPH_DEPLOYMENTS = Resource("nvidia.com", "v1alpha1", "dynamographdeployments", True, DGD_KIND)
NAMESPACE = DYNAMO_NAMESPACE
HELM_REPO_URL = "https://helm.ngc.nvidia.com/nvidia/ai-dynamo"
CHART_URL = f"{HELM_REPO_URL}/charts/dynamo-platform-{DYNAMO_VERSION}.tgz"
DOCUMENTATION_URL = "https://github.com/kaito-project/airunway/tree/main/docs/providers/dynamo.md"
GATEWAY = {"managesInferencePool": True, "inferencePoolNamePattern": "{name}-pool",
           "inferencePoolNamespace": "{namespace}"}


def spec() -> dict[str, Any]:
    return {
        "capabilities": {
            "engines": [
                {"name": "vllm", "servingModes": ["aggregated", "disaggregated"], "gpuSupport": True,
                 "gateway": dict(GATEWAY)},
                {"name": "sglang", "servingModes": ["aggregated", "disaggregated"], "gpuSupport": True,
                 "gateway": dict(GATEWAY)},
                {"name": "trtllm", "servingModes": ["aggregated"], "gpuSupport": True, "gateway": dict(GATEWAY)},
            ],
        },
        "selectionRules": [
            {"condition": "spec.engine.type == 'trtllm'", "priority": 100},
            {"condition": "spec.engine.type == 'sglang'", "priority": 100},
            {"condition": "has(spec.serving) && spec.serving.mode == 'disaggregated'", "priority": 90},
            {"condition": "has(spec.resources.gpu) && spec.resources.gpu.count > 0 && spec.engine.type == 'vllm'",
             "priority": 50},
        ],
    }


def installation() -> dict[str, Any]:
    command = (f"helm upgrade --install dynamo-platform {CHART_URL} --namespace {NAMESPACE} --create-namespace "
               "--set-json global.grove.install=true")
    return {
        "description": "NVIDIA Dynamo for high-performance GPU inference",
        "defaultNamespace": NAMESPACE,
        "helmRepos": [{"name": "nvidia-ai-dynamo", "url": HELM_REPO_URL}],
        "helmCharts": [{"name": "dynamo-platform", "chart": CHART_URL, "namespace": NAMESPACE,
                        "createNamespace": True, "values": {"global.grove.install": True}}],
        "steps": [{"title": "Install Dynamo Platform", "command": command,
                   "description": f"Install the Dynamo platform v{DYNAMO_VERSION} with Grove bundled; the chart "
                                  "includes the CRDs."}],
    }


def health() -> HealthHints:
    """The DynamoGraphDeployment CRD and the Dynamo operator pods."""
    return BUILT_IN_PROVIDERS[PROVIDER_NAME].upstream_health


def annotations() -> dict[str, str]:
    """The discovery metadata the dashboard reads from the InferenceProviderConfig."""
    return provider_annotations(display_name=DISPLAY_NAME, default_namespace=NAMESPACE,
                                documentation_url=DOCUMENTATION_URL, spec=spec(), health=health(),
                                installation=installation())


async def dgd_served(client: Client) -> bool:
    """Whether ``nvidia.com/v1alpha1`` serves DynamoGraphDeployments right now (fresh discovery on every check)."""
    try:
        listing = await client.request("GET", f"/apis/{UPSTREAM_CRD_VERSION}")
    except NotFound:
        return False
    return any(r.get("name") == DYNAMO_GRAPH_DEPLOYMENTS.plural for r in listing.get("resources") or [])


def config() -> ProviderConfig:
    return ProviderConfig(name=PROVIDER_NAME, spec=spec(), annotations=annotations(),
                          upstream_crd_version=UPSTREAM_CRD_VERSION, readiness=dgd_served)
