"""``InferenceProviderConfig`` (airunway.ai/v1alpha1, cluster-scoped): how a provider registers itself.

Each provider controller writes one, named after itself, with what it can run (engines, serving modes, GPU/CPU,
gateway behaviour) and CEL rules that make the core controller pick it; it heartbeats ``status``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from airunway.api.common import K8sModel, KubernetesObject, NonNegativeInt32, Time, WithConditions, enum_field, list_map
from airunway.api.constants import ANNOTATION_INSTALLATION, API_VERSION, INFERENCE_PROVIDER_CONFIG_KIND
from airunway.api.modeldeployment import EngineType, ServingMode

PROVIDER_STALENESS_SECONDS = 180.0
"""A provider whose ``status.lastHeartbeat`` is older than this (three missed heartbeats of a minute) has stopped reporting:
the dashboard shows it so, the core controller does not choose it automatically and finishes the deletion of the
deployments it holds. A config with no heartbeat at all is not stale (its provider never reported)."""


class EndpointPickerConfig(K8sModel):
    """The endpoint picker (EPP) the core controller deploys for this provider's InferencePools."""

    image: str | None = None
    """Container image of the endpoint picker."""
    config_data: str | None = None
    """Endpoint picker configuration (YAML) handed to it as its config file."""


class GatewayCapabilities(K8sModel):
    """How an engine of this provider works with the Gateway API Inference Extension."""

    manages_inference_pool: bool | None = None
    """The provider creates the InferencePool itself, so the core controller only routes to it."""
    inference_pool_name_pattern: str | None = None
    """Name of the provider's InferencePool; {name} and {namespace} stand for the ModelDeployment's."""
    inference_pool_namespace: str | None = None
    """Namespace of the provider's InferencePool; {name} and {namespace} are substituted."""
    endpoint_picker: EndpointPickerConfig | None = None
    """A custom endpoint picker (ignored when the provider manages the InferencePool)."""
    ignores_served_name: bool | None = None
    """The engine does not serve the model under spec.model.servedName, so routing must not use it."""


class EngineCapability(K8sModel):
    """What a provider can do with one engine."""

    name: enum_field(EngineType)
    """The engine."""
    serving_modes: list[enum_field(ServingMode)] | None = None
    """Serving modes supported with this engine (none when empty)."""
    gpu_support: bool | None = None
    """The engine runs on GPUs with this provider."""
    cpu_support: bool | None = None
    """The engine runs on CPUs only with this provider."""
    requires_crd: bool | None = Field(default=None, alias="requiresCRD")
    """The provider needs an upstream CRD for this engine (treated as true when unset)."""
    gateway: GatewayCapabilities | None = None
    """Gateway integration details for this engine."""

    def supports_serving_mode(self, mode: str) -> bool:
        return mode in (self.serving_modes or [])

    def supports_gpu(self) -> bool:
        return bool(self.gpu_support)

    def supports_cpu(self) -> bool:
        return bool(self.cpu_support)


class ProviderCapabilities(K8sModel):
    """What a provider can run."""

    engines: list[EngineCapability] | None = Field(default=None, json_schema_extra=list_map("name"))
    """The engines the provider runs, each with its own capabilities (names unique)."""

    def get_engine_capability(self, engine: str) -> EngineCapability | None:
        return next((cap for cap in self.engines or [] if cap.name == engine), None)

    def has_engine(self, engine: str) -> bool:
        return self.get_engine_capability(engine) is not None

    def supports_serving_mode(self, engine: str, mode: str) -> bool:
        cap = self.get_engine_capability(engine)
        return cap is not None and cap.supports_serving_mode(mode)

    def supports_gpu(self, engine: str) -> bool:
        cap = self.get_engine_capability(engine)
        return cap is not None and cap.supports_gpu()

    def supports_cpu(self, engine: str) -> bool:
        cap = self.get_engine_capability(engine)
        return cap is not None and cap.supports_cpu()

    def engine_names(self) -> list[str]:
        """Engine names in declaration order."""
        return [cap.name for cap in self.engines or []]


class SelectionRule(K8sModel):
    """A CEL condition that, when true, makes the provider a candidate with the given priority."""

    condition: str
    """CEL expression over the ModelDeployment spec (variable spec), for example
    has(spec.resources.gpu) && spec.resources.gpu.count > 0."""
    priority: NonNegativeInt32 = 0
    """Priority when the condition holds; the highest priority among candidate providers wins."""


class InferenceProviderConfigSpec(K8sModel):
    """The provider's capabilities and selection rules."""

    capabilities: ProviderCapabilities | None = None
    """What the provider can run."""
    selection_rules: list[SelectionRule] | None = None
    """Rules for automatic provider selection."""


class InferenceProviderConfigStatus(WithConditions):
    """Provider health, written by the provider controller."""

    ready: bool | None = None
    """The provider accepts ModelDeployments."""
    version: str | None = None
    """Version of the provider controller."""
    last_heartbeat: Time | None = None
    """When the provider controller last refreshed this status."""
    upstream_crd_version: str | None = Field(default=None, alias="upstreamCRDVersion")
    """API version of the upstream resource the provider creates."""
    upstream_schema_hash: str | None = None
    """Hash of the upstream CRD schema, to notice upstream upgrades."""

    def seconds_since_heartbeat(self, now: datetime) -> float | None:
        """How long ago the provider last reported (``lastHeartbeat``); None when it never did."""
        return None if self.last_heartbeat is None else (now - self.last_heartbeat).total_seconds()

    def stale_for(self, now: datetime, window: float | None) -> float | None:
        """The heartbeat's age when it is older than ``window`` seconds (the provider stopped reporting), else None.
        ``window`` None or 0 turns the check off."""
        age = self.seconds_since_heartbeat(now)
        return age if window and age is not None and age > window else None


class HelmRepo(K8sModel):
    name: str
    url: str


class HelmChart(K8sModel):
    name: str
    chart: str
    version: str | None = None
    namespace: str
    create_namespace: bool | None = None
    skip_crds: bool | None = None
    fetch_url: str | None = None
    pre_crd_urls: list[str] | None = None
    pre_install_missing_crds: bool | None = None
    values: dict[str, Any] | None = None
    """Values given with --set-json: key path to JSON value."""


class InstallationStep(K8sModel):
    title: str
    command: str | None = None
    description: str


class InstallationInfo(K8sModel):
    """How to install a provider's upstream; the JSON of the ``airunway.ai/installation`` annotation."""

    description: str | None = None
    default_namespace: str | None = None
    helm_repos: list[HelmRepo] | None = None
    helm_charts: list[HelmChart] | None = None
    steps: list[InstallationStep] | None = None


class InferenceProviderConfig(KubernetesObject):
    """A provider's registration: capabilities, selection rules and health."""

    api_version: Literal["airunway.ai/v1alpha1"] = API_VERSION
    kind: Literal["InferenceProviderConfig"] = INFERENCE_PROVIDER_CONFIG_KIND
    spec: InferenceProviderConfigSpec = Field(default_factory=InferenceProviderConfigSpec)
    status: InferenceProviderConfigStatus = Field(default_factory=InferenceProviderConfigStatus)

    # The helpers below treat absent capabilities as "supports nothing", like upstream's nil-safe helpers.

    @property
    def capabilities(self) -> ProviderCapabilities | None:
        return self.spec.capabilities

    @property
    def ready(self) -> bool:
        return bool(self.status.ready)

    def get_engine_capability(self, engine: str) -> EngineCapability | None:
        return self.capabilities.get_engine_capability(engine) if self.capabilities else None

    def seconds_since_heartbeat(self, now: datetime) -> float | None:
        """How long ago the provider last reported (``status.lastHeartbeat``); None when it never did."""
        return self.status.seconds_since_heartbeat(now)

    def stale_for(self, now: datetime, window: float | None) -> float | None:
        """The heartbeat's age when it is older than ``window`` seconds, else None (see the status's)."""
        return self.status.stale_for(now, window)

    def has_engine(self, engine: str) -> bool:
        return bool(self.capabilities and self.capabilities.has_engine(engine))

    def supports_serving_mode(self, engine: str, mode: str) -> bool:
        return bool(self.capabilities and self.capabilities.supports_serving_mode(engine, mode))

    def supports_gpu(self, engine: str) -> bool:
        return bool(self.capabilities and self.capabilities.supports_gpu(engine))

    def supports_cpu(self, engine: str) -> bool:
        return bool(self.capabilities and self.capabilities.supports_cpu(engine))

    def engine_names(self) -> list[str] | None:
        """Engine names in declaration order; None when the provider declares no capabilities."""
        return self.capabilities.engine_names() if self.capabilities else None

    def installation(self) -> InstallationInfo | None:
        """The ``airunway.ai/installation`` annotation, decoded strictly; None when absent.

        Raises :class:`~airunway.api.provider_annotations.AnnotationError` (a ``ValueError``) naming what is wrong
        when the annotation is not valid JSON of that shape.
        """
        from airunway.api.provider_annotations import decode  # the codec builds on the models of this module

        raw = self.annotation(ANNOTATION_INSTALLATION)
        return decode({ANNOTATION_INSTALLATION: raw}, strict=True).installation if raw else None


class InferenceProviderConfigList(K8sModel):
    """InferenceProviderConfigs as the API server lists them."""

    api_version: str = API_VERSION
    kind: str = f"{INFERENCE_PROVIDER_CONFIG_KIND}List"
    metadata: dict[str, Any] = Field(default_factory=dict)
    items: list[InferenceProviderConfig] = Field(default_factory=list)
