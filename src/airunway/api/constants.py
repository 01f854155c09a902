"""Names the AI Runway API shares with every component: group, kinds, condition types, reasons, annotations, labels.

The values are part of the compatibility contract with upstream AI Runway (objects, dashboards and scripts read
them), so they are spelled exactly as upstream spells them.
"""

from __future__ import annotations

from enum import StrEnum

GROUP = "airunway.ai"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

MODEL_DEPLOYMENT_KIND = "ModelDeployment"
MODEL_DEPLOYMENT_PLURAL = "modeldeployments"
INFERENCE_PROVIDER_CONFIG_KIND = "InferenceProviderConfig"
INFERENCE_PROVIDER_CONFIG_PLURAL = "inferenceproviderconfigs"


class ConditionType(StrEnum):
    """Condition types found in ModelDeployment status."""

    VALIDATED = "Validated"
    ENGINE_SELECTED = "EngineSelected"
    PROVIDER_SELECTED = "ProviderSelected"
    PROVIDER_COMPATIBLE = "ProviderCompatible"
    STORAGE_READY = "StorageReady"
    MODEL_DOWNLOADED = "ModelDownloaded"
    RESOURCE_CREATED = "ResourceCreated"
    READY = "Ready"
    GATEWAY_READY = "GatewayReady"
    IMAGE_RESOLVED = "ImageResolved"
    IMAGE_VERIFIED = "ImageVerified"
    UNSUPPORTED_IMAGE = "UnsupportedImage"
    RECIPE_RESOLVED = "RecipeResolved"
    NIGHTLY_AVAILABLE = "NightlyAvailable"
    HARDWARE_COMPATIBLE = "HardwareCompatible"
    DELETING = "Deleting"
    """Ours (additive): the deployment is being deleted and waits for its provider to release it."""


class ProviderConfigConditionType(StrEnum):
    """Condition types the core controller writes in InferenceProviderConfig status (ours, additive)."""

    SELECTION_RULES_VALID = "SelectionRulesValid"
    """True when every ``spec.selectionRules[].condition`` compiles as CEL."""


class Reason(StrEnum):
    """Condition reasons. The comment before each group names the condition types that use them."""

    # Validated (core)
    VALIDATION_PASSED = "ValidationPassed"
    VALIDATION_FAILED = "ValidationFailed"
    # ImageResolved (core, on conflicting spec.image / spec.engine.image)
    CONFLICTING_IMAGE_FIELDS = "ConflictingImageFields"
    # EngineSelected and ProviderSelected (core)
    EXPLICIT_SELECTION = "ExplicitSelection"
    AUTO_SELECTED = "AutoSelected"
    SELECTION_FAILED = "SelectionFailed"
    # ProviderSelected (core)
    NO_PROVIDER = "NoProvider"
    PROVIDER_CHANGE_NOT_SUPPORTED = "ProviderChangeNotSupported"
    # GatewayReady (core)
    GATEWAY_CONFIGURED = "GatewayConfigured"
    CRDS_NOT_AVAILABLE = "CRDsNotAvailable"
    NO_GATEWAY = "NoGateway"
    GATEWAY_PATCH_FAILED = "GatewayPatchFailed"
    EPP_FAILED = "EPPFailed"
    INFERENCE_POOL_FAILED = "InferencePoolFailed"
    HTTP_ROUTE_FAILED = "HTTPRouteFailed"
    GATEWAY_DISABLED = "GatewayDisabled"
    # ProviderCompatible (providers)
    COMPATIBILITY_VERIFIED = "CompatibilityVerified"
    INCOMPATIBLE_CONFIGURATION = "IncompatibleConfiguration"
    # ResourceCreated (providers; ResourceConflict also on Ready)
    RESOURCE_CREATED = "ResourceCreated"
    TRANSFORM_FAILED = "TransformFailed"
    CREATE_FAILED = "CreateFailed"
    RESOURCE_CONFLICT = "ResourceConflict"
    # Ready (providers)
    DEPLOYMENT_READY = "DeploymentReady"
    DEPLOYMENT_FAILED = "DeploymentFailed"
    DEPLOYMENT_IN_PROGRESS = "DeploymentInProgress"
    # StorageReady and ModelDownloaded (providers with managed storage)
    PVCS_BOUND = "PVCsBound"
    PVCS_PENDING = "PVCsPending"
    PVC_FAILED = "PVCFailed"
    DOWNLOAD_COMPLETE = "DownloadComplete"
    DOWNLOAD_IN_PROGRESS = "DownloadInProgress"
    DOWNLOAD_FAILED = "DownloadFailed"
    # ImageResolved, ImageVerified, UnsupportedImage, RecipeResolved (image-resolving providers)
    IMAGE_RESOLVED = "ImageResolved"
    IMAGE_RESOLUTION_REUSED = "ImageResolutionReused"
    IMAGE_RESOLUTION_FAILED = "ImageResolutionFailed"
    VERIFICATION_NOT_IMPLEMENTED = "VerificationNotImplemented"
    CUSTOM_IMAGE = "CustomImage"
    SUPPORTED_IMAGE = "SupportedImage"
    RECIPE_PROVENANCE_RESOLVED = "RecipeProvenanceResolved"
    # Deleting (core, ours): waiting for the provider, or its finalizer removed because it stopped reporting
    WAITING_FOR_PROVIDER = "WaitingForProvider"
    PROVIDER_FINALIZER_REMOVED = "ProviderFinalizerRemoved"
    # SelectionRulesValid on InferenceProviderConfig (core, ours)
    SELECTION_RULES_COMPILED = "SelectionRulesCompiled"
    INVALID_SELECTION_RULE = "InvalidSelectionRule"


# Messages the core controller writes with the reasons above (fixed texts only; the others carry error text).
MESSAGE_VALIDATION_PASSED = "Schema validation passed"
MESSAGE_ENGINE_EXPLICIT = "Engine explicitly specified in spec"
MESSAGE_PROVIDER_EXPLICIT = "Provider explicitly specified in spec"
MESSAGE_NO_PROVIDER = "No provider specified and provider-selector not enabled"
MESSAGE_GATEWAY_CONFIGURED = "InferencePool and HTTPRoute created"
MESSAGE_GATEWAY_CRDS_MISSING = "Gateway API Inference Extension CRDs are not installed in the cluster"
MESSAGE_GATEWAY_DISABLED = "Gateway resources cleaned up"


# Reasons of the Warning Events the core controller records (ours: upstream's core records none).
EVENT_PROVIDER_FINALIZER_REMOVED = Reason.PROVIDER_FINALIZER_REMOVED.value
"""On a ModelDeployment whose provider stopped reporting while it was being deleted."""
EVENT_INVALID_SELECTION_RULE = Reason.INVALID_SELECTION_RULE.value
"""On an InferenceProviderConfig (in namespace ``default``) with a selection rule that does not compile."""


def message_engine_auto_selected(engine: str) -> str:
    return f"Engine {engine} auto-selected from provider capabilities"


def message_provider_auto_selected(provider: str) -> str:
    return f"Provider {provider} auto-selected"


# --- annotations on ModelDeployment (and on objects the controllers own) ---
ANNOTATION_RECONCILE_PAUSED = "airunway.ai/reconcile-paused"
"""Set to "true": the core controller and the providers leave the object alone (no status write either)."""
ANNOTATION_HTTPROUTE_CREATED = "airunway.ai/httproute-created"
"""Set to "true" on a ModelDeployment once the core controller has created its HTTPRoute."""
ANNOTATION_BBR_RESTARTED = "airunway.ai/bbr-restarted"
"""Set to "true" on a ModelDeployment after the one-shot Body-Based Router restart (provider-managed pools)."""
ANNOTATION_DYNAMO_TEST_BACKEND = "airunway.ai/dynamo-test-backend"
"""With value "mocker" and spec.provider.name == "dynamo": Dynamo runs its mocker backend (tests)."""
DYNAMO_TEST_BACKEND_MOCKER = "mocker"
ANNOTATION_BBR_NAMESPACE = "airunway.ai/bbr-namespace"
"""On a Gateway: the namespace of its Body-Based Router."""
ANNOTATION_RESTARTED_AT = "airunway.ai/restartedAt"
"""Pod-template annotation written (RFC 3339, UTC) to restart the Body-Based Router."""
ANNOTATION_GENERATED_BY = "airunway.ai/generated-by"
"""Who generated a ModelDeployment (e.g. "vllm-recipe-resolver")."""
ANNOTATION_RECIPE_PREFIX = "airunway.ai/recipe."
"""Prefix of the recipe-provenance annotations (airunway.ai/recipe.source, .id, .strategy, ...)."""

# --- labels ---
LABEL_MODEL_DEPLOYMENT = "airunway.ai/model-deployment"
"""The ModelDeployment's name, on pods behind an InferencePool and on managed PVCs and Jobs."""
LABEL_MANAGED_BY = "airunway.ai/managed-by"
MANAGED_BY_VALUE = "airunway"
LABEL_JOB_TYPE = "airunway.ai/job-type"
JOB_TYPE_MODEL_DOWNLOAD = "model-download"
LABEL_INFERENCE_GATEWAY = "airunway.ai/inference-gateway"
"""Set to "true" on the Gateway AI Runway routes through when several exist."""
LABEL_DEPLOYMENT = "airunway.ai/deployment"
"""The ModelDeployment's name, on workloads the providers render."""
LABEL_ENGINE_TYPE = "airunway.ai/engine-type"
LABEL_MODEL_SOURCE = "airunway.ai/model-source"

# --- annotations on InferenceProviderConfig (read by the dashboard, not by the controllers; the codec is
#     airunway.api.provider_annotations) ---
ANNOTATION_DISPLAY_NAME = "airunway.ai/display-name"
ANNOTATION_DESCRIPTION = "airunway.ai/description"
ANNOTATION_DEFAULT_NAMESPACE = "airunway.ai/default-namespace"
ANNOTATION_DOCUMENTATION_URL = "airunway.ai/documentation-url"
ANNOTATION_DOCUMENTATION = "airunway.ai/documentation"
"""Legacy spelling of the documentation URL annotation."""
ANNOTATION_CAPABILITIES = "airunway.ai/capabilities"
"""JSON copy of spec.capabilities."""
ANNOTATION_HEALTH = "airunway.ai/health"
"""JSON hints for probing the provider's health (CRDs, operator pods, status path)."""
ANNOTATION_INSTALLATION = "airunway.ai/installation"
"""JSON InstallationInfo: how to install the provider's upstream (see providerconfig.InstallationInfo)."""
ANNOTATION_ICON = "airunway.ai/icon"
ANNOTATION_DEPLOYMENT_DEFAULTS = "airunway.ai/deployment-defaults"
"""JSON defaults of the dashboard's deploy form (defaultEngine, defaultMode, defaultResources)."""
ANNOTATION_PROVIDER_NAME = "airunway.ai/provider-name"
"""A display name that takes precedence over every other."""
ANNOTATION_ALLOW_HOST_ACCESS = "airunway.ai/allow-host-access"
"""``"true"``: the cluster admin lets ``spec.provider.overrides`` of deployments on this provider grant host access
(read by the core controller's admission; see :mod:`airunway.policy.overrides`)."""

TRUE = "true"


def provider_finalizer(provider: str) -> str:
    """The finalizer a provider controller puts on the ModelDeployments it runs."""
    return f"airunway.ai/{provider}-provider"
