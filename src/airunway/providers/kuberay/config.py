"""The InferenceProviderConfig ``kuberay`` registers (reference providers.md §3.1).

KubeRay serves vLLM on GPUs through Ray Serve, in both serving modes; its one selection rule prefers it for
multi-GPU vLLM deployments. The provider is ready while the API server serves ``rayservices`` in ``ray.io/v1``,
looked up afresh on every heartbeat so that installing or removing KubeRay shows within a minute.
"""

from __future__ import annotations

from typing import Any

from airunway.api.builtin_providers import BUILT_IN_PROVIDERS, KUBERAY_NAMESPACE
from airunway.api.provider_annotations import HealthHints
from airunway.kube.client import Client
from airunway.kube.errors import NotFound
from airunway.kube.resources import Resource
from airunway.providers.metadata import provider_annotations
from airunway.providers.registration import ProviderConfig

PROVIDER_NAME = "kuberay"
DISPLAY_NAME = "KubeRay"

RAY_API_GROUP = "ray.io"
RAY_API_VERSION = "v1"
RAY_SERVICE_KIND = "RayService"
RAY_SERVICE_PLURAL = "rayservices"
UPSTREAM_CRD_VERSION = f"{RAY_API_GROUP}/{RAY_API_VERSION}"
RAY_SERVICES = Resource(RAY_API_GROUP, RAY_API_VERSION, RAY_SERVICE_PLURAL, True, RAY_SERVICE_KIND)

DOCUMENTATION_URL = "https://github.com/kaito-project/airunway/tree/main/docs/providers/kuberay.md"

OPERATOR_NAMESPACE = KUBERAY_NAMESPACE
OPERATOR_CHART_VERSION = "1.3.0"
HELM_REPO_URL = "https://ray-project.github.io/kuberay-helm/"


def spec() -> dict[str, Any]:
    """Capabilities and selection rules: vLLM on GPUs, aggregated or disaggregated; preferred above one GPU."""
    return {
        "capabilities": {
            "engines": [
                {"name": "vllm", "servingModes": ["aggregated", "disaggregated"], "gpuSupport": True},
            ],
        },
        "selectionRules": [
            {
                "condition": "has(spec.resources.gpu) && spec.resources.gpu.count > 1 && spec.engine.type == 'vllm'",
                "priority": 80,
            },
        ],
    }


def installation() -> dict[str, Any]:
    """How to install the KubeRay operator (the dashboard's install page reads this)."""
    install = (
        f"helm upgrade --install kuberay-operator kuberay/kuberay-operator --version {OPERATOR_CHART_VERSION} "
        f"-n {OPERATOR_NAMESPACE} --create-namespace --wait"
    )
    return {
        "description": "Ray Serve via KubeRay for distributed Ray-based model serving with vLLM",
        "defaultNamespace": OPERATOR_NAMESPACE,
        "helmRepos": [{"name": "kuberay", "url": HELM_REPO_URL}],
        "helmCharts": [{
            "name": "kuberay-operator",
            "chart": "kuberay/kuberay-operator",
            "version": OPERATOR_CHART_VERSION,
            "namespace": OPERATOR_NAMESPACE,
            "createNamespace": True,
        }],
        "steps": [
            {"title": "Add KubeRay Helm Repository", "command": f"helm repo add kuberay {HELM_REPO_URL}",
             "description": "Register the KubeRay chart repository with Helm."},
            {"title": "Update Helm Repositories", "command": "helm repo update",
             "description": "Refresh the local chart index."},
            {"title": "Install KubeRay Operator", "command": install,
             "description": f"Install the KubeRay operator {OPERATOR_CHART_VERSION} into {OPERATOR_NAMESPACE}."},
        ],
    }


def health() -> HealthHints:
    """Where the dashboard looks to judge KubeRay's health: its CRD and its operator pods."""
    return BUILT_IN_PROVIDERS[PROVIDER_NAME].upstream_health


def annotations() -> dict[str, str]:
    """The discovery metadata the dashboard reads from the InferenceProviderConfig."""
    return provider_annotations(display_name=DISPLAY_NAME, default_namespace=OPERATOR_NAMESPACE,
                                documentation_url=DOCUMENTATION_URL, spec=spec(), health=health(),
                                installation=installation())


async def rayservice_crd_served(client: Client) -> bool:
    """Whether ``ray.io/v1`` serves ``rayservices`` right now (fresh discovery, never a cached answer)."""
    try:
        listing = await client.request("GET", f"/apis/{UPSTREAM_CRD_VERSION}")
    except NotFound:
        return False
    return any(r.get("name") == RAY_SERVICE_PLURAL for r in listing.get("resources") or [])


def config() -> ProviderConfig:
    return ProviderConfig(
        name=PROVIDER_NAME,
        spec=spec(),
        annotations=annotations(),
        upstream_crd_version=UPSTREAM_CRD_VERSION,
        readiness=rayservice_crd_served,
    )
