"""The InferenceProviderConfig ``kaito`` registers (reference providers.md §2.1, §2.4).

KAITO runs vLLM presets on GPUs and llama.cpp on GPUs or CPUs; it is the provider for deployments without GPUs.
It is ready while its upstream controller is: the Workspace CRD is served and a KAITO workspace controller
Deployment has a ready replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airunway.api.builtin_providers import BUILT_IN_PROVIDERS, KAITO_NAMESPACE
from airunway.api.provider_annotations import HealthHints
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, NotFound
from airunway.kube.resources import DEPLOYMENTS, Resource
from airunway.providers.metadata import provider_annotations
from airunway.providers.registration import ProviderConfig

PROVIDER_NAME = "kaito"
DISPLAY_NAME = "KAITO"
UPSTREAM_CRD_VERSION = "kaito.sh/v1beta1"
WORKSPACES = Resource("kaito.sh", "v1beta1", "workspaces", True, "Workspace")
NAMESPACE = KAITO_NAMESPACE
CHART_VERSION = "0.10.0"
HELM_REPO_URL = "https://kaito-project.github.io/kaito/charts/kaito"
DOCUMENTATION_URL = "https://github.com/kaito-project/airunway/tree/main/docs/providers/kaito.md"
CONTROLLER_SELECTOR = "app.kubernetes.io/name in (workspace,ai-toolchain-operator)"


def spec() -> dict[str, Any]:
    return {
        "capabilities": {
            "engines": [
                {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True},
                {"name": "llamacpp", "servingModes": ["aggregated"], "gpuSupport": True, "cpuSupport": True,
                 "gateway": {"ignoresServedName": True}},
            ],
        },
        "selectionRules": [
            {"condition": "!has(spec.resources.gpu) || spec.resources.gpu.count == 0", "priority": 100},
            {"condition": "spec.engine.type == 'llamacpp'", "priority": 100},
        ],
    }


def installation() -> dict[str, Any]:
    install = (
        f"helm upgrade --install kaito-workspace kaito/workspace --version {CHART_VERSION} -n {NAMESPACE} "
        "--create-namespace --set featureGates.disableNodeAutoProvisioning=true --set nvidiaDevicePlugin.enabled=false "
        "--set localCSIDriver.useLocalCSIDriver=false --set gpu-feature-discovery.gfd.enabled=false "
        "--set gpu-feature-discovery.nfd.master.deploy=false --set gpu-feature-discovery.nfd.worker.deploy=false --wait"
    )
    return {
        "description": "Kubernetes AI Toolchain Operator for simplified model deployment",
        "defaultNamespace": NAMESPACE,
        "helmRepos": [{"name": "kaito", "url": HELM_REPO_URL}],
        "helmCharts": [{"name": "kaito-workspace", "chart": "kaito/workspace", "version": CHART_VERSION,
                        "namespace": NAMESPACE, "createNamespace": True}],
        "steps": [
            {"title": "Add KAITO Helm Repository", "command": f"helm repo add kaito {HELM_REPO_URL}",
             "description": "Register the KAITO chart repository with Helm."},
            {"title": "Update Helm Repositories", "command": "helm repo update kaito",
             "description": "Refresh the KAITO chart index."},
            {"title": "Install KAITO Workspace Controller", "command": install,
             "description": "Install the workspace controller on your own GPU/CPU nodes (no node auto-provisioning)."},
        ],
    }


def health() -> HealthHints:
    """The KAITO workspace CRD and controller pods (in its namespace, or the AKS add-on's anywhere)."""
    return BUILT_IN_PROVIDERS[PROVIDER_NAME].upstream_health


def annotations() -> dict[str, str]:
    """The discovery metadata the dashboard reads from the InferenceProviderConfig."""
    return provider_annotations(display_name=DISPLAY_NAME, default_namespace=NAMESPACE,
                                documentation_url=DOCUMENTATION_URL, spec=spec(), health=health(),
                                installation=installation())


@dataclass
class Probe:
    healthy: bool
    reason: str
    message: str


async def probe_upstream(client: Client) -> Probe:
    """Whether KAITO can act on Workspaces: its CRD served and its workspace controller ready."""
    try:
        listing = await client.request("GET", f"/apis/{UPSTREAM_CRD_VERSION}")
    except NotFound:
        listing = {}
    except ApiError as exc:
        return Probe(False, "ProbeFailed", f"check workspace crd: {exc}")
    if not any(r.get("name") == WORKSPACES.plural for r in listing.get("resources") or []):
        return Probe(False, "CRDMissing", "KAITO Workspace CRD not found. Install KAITO.")
    try:
        deployments = (await client.list_all(DEPLOYMENTS, label_selector=CONTROLLER_SELECTOR)).items
    except ApiError as exc:
        return Probe(False, "ProbeFailed", f"list deployments: {exc}")
    if not deployments:
        return Probe(False, "UpstreamControllerMissing", (
            "The KAITO workspace controller is not running. Install it with `helm install kaito-workspace "
            "kaito/workspace` (check the kaito-workspace namespace), or via the AKS AI toolchain operator add-on "
            "`az aks update --enable-ai-toolchain-operator ...` (check the kube-system namespace)."))
    ready = next((d for d in deployments if ((d.get("status") or {}).get("readyReplicas") or 0) > 0), None)
    if ready is not None:
        meta = ready["metadata"]
        return Probe(True, "UpstreamHealthy", f"KAITO workspace controller {meta['namespace']}/{meta['name']} is ready")
    meta = deployments[0]["metadata"]
    return Probe(False, "UpstreamControllerNotReady", (
        f"The KAITO workspace controller Deployment {meta['namespace']}/{meta['name']} exists but has no ready "
        "replicas."))


async def upstream_ready(client: Client) -> bool:
    return (await probe_upstream(client)).healthy


def config() -> ProviderConfig:
    return ProviderConfig(name=PROVIDER_NAME, spec=spec(), annotations=annotations(),
                          upstream_crd_version=UPSTREAM_CRD_VERSION, readiness=upstream_ready)
