"""``ModelDeployment`` (airunway.ai/v1alpha1, namespaced): one model, served by any engine on any provider.

The models below are the single source of the CRD schema (see :mod:`airunway.api.crds`): field docstrings become
the OpenAPI descriptions, defaults and constraints become the OpenAPI defaults and validations.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from airunway.api.common import (
    EnvVar,
    GoJSON,
    Int32,
    Int64,
    K8sModel,
    KubernetesObject,
    NonNegativeInt32,
    Quantity,
    Toleration,
    WithConditions,
    enum_field,
    go_json,
    list_map,
)
from airunway.api.constants import API_VERSION, MODEL_DEPLOYMENT_KIND


class EngineType(StrEnum):
    """An inference engine."""

    VLLM = "vllm"
    SGLANG = "sglang"
    TRTLLM = "trtllm"
    LLAMACPP = "llamacpp"


class ServingMode(StrEnum):
    """How prefill and decode are placed: together (aggregated) or on separate workers (disaggregated)."""

    AGGREGATED = "aggregated"
    DISAGGREGATED = "disaggregated"


class ModelSource(StrEnum):
    HUGGINGFACE = "huggingface"
    CUSTOM = "custom"


class VolumePurpose(StrEnum):
    MODEL_CACHE = "modelCache"
    COMPILATION_CACHE = "compilationCache"
    CUSTOM = "custom"


class AccessMode(StrEnum):
    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_WRITE_MANY = "ReadWriteMany"
    READ_ONLY_MANY = "ReadOnlyMany"
    READ_WRITE_ONCE_POD = "ReadWriteOncePod"


class DeploymentPhase(StrEnum):
    PENDING = "Pending"
    DEPLOYING = "Deploying"
    RUNNING = "Running"
    FAILED = "Failed"
    TERMINATING = "Terminating"


def go_quote(text: str) -> str:
    """``text`` in double quotes with escapes, as Go's ``%q`` writes it in the messages users see."""
    return json.dumps(text, ensure_ascii=False)


# --------------------------------------------------------------------------------------------- spec


class StorageVolume(K8sModel):
    """A PersistentVolumeClaim mounted into the inference containers."""

    name: Annotated[str, Field(max_length=63, pattern=r"^[a-z0-9]([a-z0-9\-]*[a-z0-9])?$"), GoJSON.KEEP_ZERO]
    """Unique name of this volume (a DNS label)."""
    claim_name: str | None = None
    """The PersistentVolumeClaim in the same namespace. Required when size is not set (an existing claim); when size
    is set it is generated as <deployment>-<volume>."""
    mount_path: str | None = None
    """Absolute path of the mount in the container. Defaults to /model-cache for modelCache and /compilation-cache
    for compilationCache; required for custom."""
    purpose: enum_field(VolumePurpose) = VolumePurpose.CUSTOM.value
    """What the volume holds, so engines and providers can use it: modelCache, compilationCache or custom."""
    read_only: bool = False
    """Mount the volume read-only. Not allowed with size (a created claim must be writable)."""
    size: Annotated[Quantity | None, GoJSON.KEEP_ZERO] = None
    """Requested capacity (for example 100Gi). When set, AI Runway creates and owns the claim."""
    storage_class_name: Annotated[str | None, GoJSON.KEEP_ZERO] = None
    """StorageClass of a created claim (only with size). Unset uses the cluster default; "" asks for no class."""
    access_mode: enum_field(AccessMode) | None = None
    """Access mode of a created claim (only with size); ReadWriteMany when unset."""

    def resolved_claim_name(self, deployment_name: str) -> str:
        """The claim this volume mounts: claimName, else ``<deployment>-<volume>``."""
        return self.claim_name or f"{deployment_name}-{self.name}"


class ModelStorage(K8sModel):
    """Persistent storage for model data such as weights and compilation caches."""

    volumes: Annotated[list[StorageVolume], Field(max_length=8)] | None = Field(
        default=None, json_schema_extra=list_map("name")
    )
    """Claims to mount into the inference containers (at most 8, names unique)."""


class ModelSpec(K8sModel):
    """The model to serve."""

    id: str | None = None
    """The model identifier, for example a Hugging Face repository id. Required when source is huggingface."""
    served_name: str | None = None
    """The model name clients use in API requests; the id's last path segment by default. Ignored for custom
    sources."""
    source: enum_field(ModelSource) = ModelSource.HUGGINGFACE.value
    """Where the model comes from: huggingface, or custom (baked into the image). Cannot be changed."""
    storage: ModelStorage | None = None
    """Persistent volumes for model data."""


class ProviderSpec(K8sModel):
    """Which provider runs the deployment."""

    name: str | None = None
    """The provider (dynamo, kaito, kuberay, llmd, vllm, ...). Chosen automatically when empty; cannot be changed
    once set or selected."""
    overrides: Annotated[dict[str, Any] | None, GoJSON.KEEP_ZERO] = None
    """Provider-specific settings deep-merged into the rendered resources; a JSON object. Keys that touch security or
    sizing are refused."""


class EngineSpec(K8sModel):
    """The inference engine and its settings."""

    type: enum_field(EngineType) | None = None
    """The engine: vllm, sglang, trtllm or llamacpp. Chosen from the providers' capabilities when empty; cannot be
    changed once set."""
    image: str | None = None
    """Container image of the engine, preferred over the legacy spec.image. Must equal spec.image when both are
    set."""
    context_length: Annotated[Int32 | None, GoJSON.KEEP_ZERO] = None
    """Maximum context length in tokens (for vllm, --max-model-len). Ignored by trtllm (fixed at build time)."""
    trust_remote_code: bool = False
    """Let the engine run code shipped with the model (vllm and sglang)."""
    enable_prefix_caching: bool = True
    """Cache the KV blocks of shared prompt prefixes (vllm and sglang); KV-cache-aware routing relies on it."""
    enforce_eager: bool = False
    """Run in eager mode without CUDA graphs (vllm and sglang)."""
    args: dict[str, str] | None = None
    """Named engine flags: key k becomes --k value (or --k when the value is empty)."""
    extra_args: list[str] | None = None
    """Raw flags appended to the engine command line. A flag may not also be a key of args."""


class ServingSpec(K8sModel):
    """How the model is served."""

    mode: enum_field(ServingMode) = ServingMode.AGGREGATED.value
    """aggregated, or disaggregated (separate prefill and decode workers). Cannot be changed."""


class GPUSpec(K8sModel):
    """GPUs requested per replica."""

    count: NonNegativeInt32 = 0
    """Number of GPUs (at most 64)."""
    type: str = "nvidia.com/gpu"
    """Extended resource name of the GPU (set it for AMD or Intel GPUs)."""


class ComponentScaling(K8sModel):
    """Size of one worker group in disaggregated serving."""

    replicas: NonNegativeInt32 = 1
    """Number of workers (at most 32)."""
    gpu: GPUSpec | None = None
    """GPUs per worker; a count above 0 is required in disaggregated mode."""
    memory: str | None = None
    """Memory per worker, a quantity up to 4Ti (for example 64Gi)."""


class ScalingSpec(K8sModel):
    """How many replicas run."""

    replicas: NonNegativeInt32 = 1
    """Number of replicas in aggregated mode (at most 32)."""
    prefill: ComponentScaling | None = None
    """Prefill workers; required in disaggregated mode."""
    decode: ComponentScaling | None = None
    """Decode workers; required in disaggregated mode."""


class ResourceSpec(K8sModel):
    """Compute resources per replica. In disaggregated mode use scaling.prefill and scaling.decode instead."""

    gpu: GPUSpec | None = None
    """GPUs per replica."""
    memory: str | None = None
    """Memory per replica, a quantity up to 4Ti (for example 32Gi)."""
    cpu: str | None = None
    """CPU per replica, a quantity up to 512 (for example 4 or 500m)."""


class PodTemplateMetadata(K8sModel):
    """Labels and annotations added to the pods."""

    labels: dict[str, str] | None = None
    """Labels added to the pods."""
    annotations: dict[str, str] | None = None
    """Annotations added to the pods."""


class PodTemplateSpec(K8sModel):
    """Customisation of the pods."""

    metadata: PodTemplateMetadata | None = None
    """Pod labels and annotations."""


class SecretsSpec(K8sModel):
    """Secrets the deployment uses."""

    hugging_face_token: str | None = None
    """Name of a Secret in the same namespace whose HF_TOKEN key holds a Hugging Face token."""


class GatewaySpec(K8sModel):
    """Routing through the Gateway API Inference Extension."""

    enabled: Annotated[bool | None, GoJSON.KEEP_ZERO] = None
    """Create an InferencePool and HTTPRoute for this model. When unset, enabled if a Gateway is detected."""
    model_name: str | None = None
    """Model name to route on; the served name or model id by default."""
    http_route_ref: str | None = None
    """Name of an existing HTTPRoute in this namespace to use instead of creating one."""


class ModelDeploymentSpec(K8sModel):
    """What to deploy and how."""

    model: ModelSpec
    """The model to serve."""
    provider: ProviderSpec | None = None
    """Provider selection and provider-specific overrides."""
    engine: Annotated[EngineSpec | None, GoJSON.ALWAYS] = None
    """Inference engine and its settings."""
    serving: ServingSpec | None = None
    """Serving mode."""
    scaling: ScalingSpec | None = None
    """Replica counts."""
    resources: ResourceSpec | None = None
    """Compute resources per replica (aggregated mode)."""
    image: str | None = None
    """Legacy provider-level image override; prefer engine.image."""
    env: list[EnvVar] | None = None
    """Environment variables of the inference container."""
    pod_template: PodTemplateSpec | None = None
    """Pod labels and annotations."""
    secrets: SecretsSpec | None = None
    """Secret references."""
    gateway: GatewaySpec | None = None
    """Gateway API integration."""
    node_selector: dict[str, str] | None = None
    """Node labels the pods must be scheduled on."""
    tolerations: list[Toleration] | None = None
    """Taints the pods tolerate."""

    def go_json(self) -> dict[str, Any]:
        """The spec as upstream's Go controller marshals it (zero values of omitempty fields left out, engine always
        present). The CEL selection rules see this shape, so has() answers as upstream."""
        return go_json(self)

    def resolved_serving_mode(self) -> str:
        """spec.serving.mode, or aggregated when unset."""
        return (self.serving.mode if self.serving else None) or ServingMode.AGGREGATED.value

    def image_override(self) -> str:
        """The image the user asked for: engine.image, else the legacy spec.image, else ""."""
        return (self.engine.image if self.engine else None) or self.image or ""

    def validate_image_fields(self) -> str | None:
        """The error message when spec.image and spec.engine.image are both set and differ, else None."""
        legacy, preferred = self.image or "", (self.engine.image if self.engine else None) or ""
        if legacy and preferred and legacy != preferred:
            return (
                f"spec.image {go_quote(legacy)} conflicts with spec.engine.image {go_quote(preferred)}; "
                "remove spec.image or set both fields to the same value (spec.engine.image is preferred)"
            )
        return None

    def validate_engine_args(self) -> str | None:
        """The error message when a flag is given both in engine.args and as --flag in engine.extraArgs, else None."""
        args = (self.engine.args if self.engine else None) or {}
        extra_args = (self.engine.extra_args if self.engine else None) or []
        if not args or not extra_args:
            return None
        for token in extra_args:
            if not token.startswith("--") or token.startswith("---"):
                continue
            key = token[2:].split("=", 1)[0].strip()
            if key and key in args:
                return (
                    f"launch flag {go_quote(key)} is set in both spec.engine.args and spec.engine.extraArgs "
                    f"({go_quote(token)}); set it in exactly one place so the engine does not receive "
                    "conflicting values"
                )
        return None


# --------------------------------------------------------------------------------------------- status


class ProviderStatus(K8sModel):
    """The provider running the deployment."""

    name: str | None = None
    """The selected provider."""
    resource_name: str | None = None
    """Name of the main resource the provider created."""
    resource_kind: str | None = None
    """Kind of the main resource the provider created."""
    selected_reason: str | None = None
    """Why this provider was selected."""


class EngineStatus(K8sModel):
    """The engine the deployment runs."""

    type: enum_field(EngineType) | None = None
    """The selected engine."""
    selected_reason: str | None = None
    """Why this engine was selected."""


class GatewayStatus(K8sModel):
    """How to reach the model through the Gateway."""

    endpoint: str | None = None
    """Address of the Gateway serving the model."""
    model_name: str | None = None
    """The model name to send in API requests."""
    gateway_namespace: str | None = None
    """Namespace of the Gateway used for routing."""


class ImageStatus(K8sModel):
    """The engine image: what was asked for and what it resolved to."""

    requested: str | None = None
    """The image reference asked for."""
    resolved: str | None = None
    """The reference the pods run, pinned by digest when it could be resolved."""
    repository: str | None = None
    """Repository part of the reference."""
    tag: str | None = None
    """Tag part of the reference."""
    digest: str | None = None
    """Digest of the resolved image."""
    source: str | None = None
    """Where the image comes from: stable, nightly, launch or custom."""
    created_at: str | None = None
    """When the image was built (RFC 3339), if known."""
    revision: str | None = None
    """Source revision the image was built from, if known."""
    age: str | None = None
    """Age of the image when it was resolved (for example 3d)."""
    in_nightly: bool | None = None
    """Whether the image is a nightly build."""
    verified: bool | None = None
    """Whether the image's signature or attestation was verified."""
    verification_message: str | None = None
    """Outcome of the verification."""
    message: str | None = None
    """Human-readable summary of the image resolution."""


class ReplicaStatus(K8sModel):
    """Replica counts."""

    desired: Int32 | None = None
    """Replicas asked for."""
    ready: Int32 | None = None
    """Replicas that are ready."""
    available: Int32 | None = None
    """Replicas that are available."""


class EndpointStatus(K8sModel):
    """The in-cluster Service serving the model."""

    service: str | None = None
    """Name of the Service."""
    port: Int32 | None = None
    """Port of the Service."""


class ModelDeploymentStatus(WithConditions):
    """What the controllers observed and did."""

    phase: enum_field(DeploymentPhase) | None = None
    """Pending, Deploying, Running, Failed or Terminating."""
    message: str | None = None
    """Human-readable summary of the current state."""
    provider: ProviderStatus | None = None
    """The selected provider and the resource it created."""
    engine: EngineStatus | None = None
    """The selected engine."""
    gateway: GatewayStatus | None = None
    """Gateway routing details."""
    image: ImageStatus | None = None
    """Engine image resolution."""
    replicas: ReplicaStatus | None = None
    """Replica counts."""
    endpoint: EndpointStatus | None = None
    """The Service serving the model."""
    observed_generation: Int64 | None = None
    """The metadata.generation last acted on by the core controller."""


# --------------------------------------------------------------------------------------------- objects


class ModelDeployment(KubernetesObject):
    """A model served by an inference engine on an inference provider."""

    api_version: Literal["airunway.ai/v1alpha1"] = API_VERSION
    kind: Literal["ModelDeployment"] = MODEL_DEPLOYMENT_KIND
    spec: ModelDeploymentSpec
    status: ModelDeploymentStatus = Field(default_factory=ModelDeploymentStatus)

    def resolved_engine_type(self) -> str:
        """spec.engine.type, else the engine recorded in status, else ""."""
        return (
            (self.spec.engine.type if self.spec.engine else None)
            or (self.status.engine.type if self.status.engine else None)
            or ""
        )

    def owner_reference(self) -> dict[str, Any]:
        """The ownerReference that makes this deployment the controller of an object created for it, so that the
        garbage collector deletes the object with the deployment."""
        if not self.metadata.uid:
            raise ValueError(f"ModelDeployment {self.namespace}/{self.name} has no metadata.uid: an owner reference "
                             "needs the deployment as the API server returned it")
        return {"apiVersion": self.api_version, "kind": self.kind, "name": self.name, "uid": self.metadata.uid,
                "controller": True, "blockOwnerDeletion": True}


class ModelDeploymentList(K8sModel):
    """A page of ModelDeployments as the API server lists them."""

    api_version: str = API_VERSION
    kind: str = f"{MODEL_DEPLOYMENT_KIND}List"
    metadata: dict[str, Any] = Field(default_factory=dict)
    items: list[ModelDeployment] = Field(default_factory=list)
