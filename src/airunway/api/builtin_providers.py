"""Facts about the five built-in providers that upstream's InferenceProviderConfig format cannot carry, or that a
config registered by an older shim may lack: one table, read by the providers and by the dashboard.

Everything else the dashboard knows about a provider (engines, serving modes, namespace, installation, health
hints) it reads from the registered config, so a provider that is not in this table needs no change here: it is
offered last, without storage volumes unless its capabilities annotation says ``"features": {"modelStorage": true}``,
and judged by its own health annotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from airunway.api.provider_annotations import HealthCRD, HealthHints, OperatorPodProbe


@dataclass(frozen=True)
class BuiltInProvider:
    name: str
    preference: int
    """Which provider the deploy form offers first among those that fit a model: higher first (upstream's order
    Dynamo, KubeRay, KAITO, llm-d, Direct vLLM); providers not in this table have 0."""
    model_storage: bool
    """The provider mounts ``spec.model.storage`` volumes (the others ignore them), so the form offers them."""
    upstream_health: HealthHints | None = None
    """What shows the upstream operator is installed: the provider publishes it as its ``airunway.ai/health``
    annotation, and the dashboard uses it for a config of this name that carries none."""


KAITO_NAMESPACE = "kaito-workspace"
DYNAMO_NAMESPACE = "dynamo-system"
KUBERAY_NAMESPACE = "ray-system"

_KAITO_OPERATOR = "app.kubernetes.io/name=workspace"
_DYNAMO_OPERATOR = "app.kubernetes.io/name=dynamo-operator"
_KUBERAY_OPERATOR = "app.kubernetes.io/name=kuberay-operator"

BUILT_IN_PROVIDERS: dict[str, BuiltInProvider] = {p.name: p for p in (
    BuiltInProvider("dynamo", preference=50, model_storage=True, upstream_health=HealthHints(
        crds=[HealthCRD(name="dynamographdeployments.nvidia.com", display_name="DynamoGraphDeployment CRD")],
        operator_pods=[
            OperatorPodProbe(namespace=DYNAMO_NAMESPACE, selectors=[
                f"control-plane=controller-manager,{_DYNAMO_OPERATOR},app.kubernetes.io/instance=dynamo-platform",
                _DYNAMO_OPERATOR, "control-plane=controller-manager"]),
            OperatorPodProbe(selectors=[_DYNAMO_OPERATOR]),
        ])),
    BuiltInProvider("kuberay", preference=40, model_storage=False, upstream_health=HealthHints(
        crds=[HealthCRD(name="rayservices.ray.io", display_name="KubeRay RayService CRD")],
        operator_pods=[
            OperatorPodProbe(namespace=KUBERAY_NAMESPACE, selectors=[
                f"{_KUBERAY_OPERATOR},app.kubernetes.io/instance=kuberay-operator", _KUBERAY_OPERATOR]),
            OperatorPodProbe(selectors=[_KUBERAY_OPERATOR]),
        ])),
    BuiltInProvider("kaito", preference=30, model_storage=False, upstream_health=HealthHints(
        crds=[HealthCRD(name="workspaces.kaito.sh", display_name="KAITO workspace CRD")],
        operator_pods=[
            OperatorPodProbe(namespace=KAITO_NAMESPACE, selectors=[
                f"{_KAITO_OPERATOR},app.kubernetes.io/instance=kaito-workspace", _KAITO_OPERATOR]),
            # the AKS AI toolchain operator add-on runs in kube-system
            OperatorPodProbe(selectors=[_KAITO_OPERATOR, "app=ai-toolchain-operator"]),
        ])),
    BuiltInProvider("llmd", preference=20, model_storage=False),
    BuiltInProvider("vllm", preference=10, model_storage=True),
)}
