"""The API's answers as pydantic models, named and shaped as upstream's shared types (``@airunway/shared``).

The routes declare them with ``response_model=``; :class:`Router` serialises only the fields an answer sets
(``exclude_unset``), so a field the service leaves out stays out, as upstream omits it, and in the order the service
gave them. Every model allows fields
beyond those declared: the JSON the services build is answered as it is, and the schema documents what a client may
rely on. Numbers that may be whole or fractional are :data:`Number`, so ``1`` stays ``1`` and ``0.5`` stays ``0.5``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, PrivateAttr, model_serializer, model_validator

Number = int | float


class TypedRoute(APIRoute):
    """A route whose answer is serialised through its response model with only the fields the answer sets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True  # APIRouter passes its default (False) explicitly
        super().__init__(*args, **kwargs)


def Router(**kwargs: Any) -> APIRouter:  # noqa: N802 - used like the class it builds
    return APIRouter(route_class=TypedRoute, **kwargs)


def _documented(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The schema as upstream's types read: an optional field is left out when it has no value, so it is not
    nullable unless the model names it in ``NULLABLE`` (a field that is answered as ``null``); no titles."""
    required = set(schema.get("required", ()))
    nullable = getattr(model, "NULLABLE", frozenset())
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if name in required or name in nullable:
            continue
        options = [o for o in prop.get("anyOf", ()) if o.get("type") != "null"]
        if "anyOf" in prop and len(options) < len(prop["anyOf"]):
            del prop["anyOf"]
            prop.update(options[0] if len(options) == 1 else {"anyOf": options})
        if prop.get("default", 0) is None:
            del prop["default"]


class Answer(BaseModel):
    """An answer's fields; optional ones (``= None``) are left out of the answer when the service leaves them out."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_documented)
    NULLABLE: ClassVar[frozenset[str]] = frozenset()
    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, value: Any, handler: Any) -> Any:
        made = handler(value)
        if isinstance(value, dict):
            made._order = tuple(value)
        return made

    @model_serializer(mode="wrap")
    def _in_given_order(self, handler: Any):  # no return annotation: the schema stays the model's
        """The fields in the order the service gave them (the models declare them in upstream's order, which an
        answer need not follow, e.g. catalog entries)."""
        out = handler(self)
        if self._order and isinstance(out, dict):
            return {k: out[k] for k in self._order if k in out} | out
        return out


# -- shared pieces ---------------------------------------------------------------------------------------------


class Message(Answer):
    message: str


class Success(Answer):
    success: bool
    message: str | None = None


class StepResult(Answer):
    step: str
    success: bool
    output: str | None = None
    error: str | None = None


class InstallResult(Answer):
    success: bool
    message: str
    results: list[StepResult] | None = None
    alreadyInstalled: bool | None = None
    status: GPUOperatorStatus | None = None


class Progress(Answer):
    """An install or uninstall while it runs: the steps done and the one running now."""

    operation: str | None
    running: bool
    currentStep: str | None
    success: bool | None
    startedAt: str | None = None
    results: list[StepResult]


# -- health and cluster -------------------------------------------------------------------------------------------


class Health(Answer):
    status: str
    timestamp: str


class Version(Answer):
    version: str
    buildTime: str
    gitCommit: str


class CrdInstallation(Answer):
    installed: bool
    crdFound: bool
    message: str


class ClusterStatus(Answer):
    connected: bool
    namespace: str
    clusterName: str | None = None
    error: str | None = None
    providerInstallation: CrdInstallation | None


class Node(Answer):
    name: str
    ready: bool
    gpuCount: int


class NodeList(Answer):
    nodes: list[Node]


# -- models ---------------------------------------------------------------------------------------------------------


class Model(Answer):
    """A curated catalog entry (or a HuggingFace model shown as one)."""

    id: str
    name: str
    description: str | None = None
    size: str | None = None
    task: str | None = None
    conversational: bool | None = None
    contextLength: int | None = None
    supportedEngines: list[str]
    minGpuMemory: str | None = None
    minGpus: int | None = None
    license: str | None = None
    gated: bool | None = None
    estimatedGpuMemory: str | None = None
    estimatedGpuMemoryGb: Number | None = None
    parameterCount: Number | None = None
    fromHfSearch: bool | None = None


class ModelList(Answer):
    models: list[Model]


class HfModelSearchResult(Answer):
    id: str
    author: str
    name: str
    downloads: int
    likes: int
    pipelineTag: str | None = None
    libraryName: str | None = None
    architectures: list[str] | None = None
    gated: bool
    parameterCount: Number | None = None
    estimatedGpuMemoryGb: Number | None = None
    supportedEngines: list[str]
    compatible: bool
    incompatibilityReason: str | None = None


class HfSearchResponse(Answer):
    models: list[HfModelSearchResult]
    total: int
    hasMore: bool
    query: str


class GgufFiles(Answer):
    files: list[str]


# -- settings and providers -----------------------------------------------------------------------------------------


class AppConfig(Answer):
    defaultNamespace: str | None = None


class EngineCapability(Answer):
    name: str
    servingModes: list[str] | None = None


class ProviderFeatures(Answer):
    """Optional abilities a provider declares (``modelStorage``: it mounts spec.model.storage volumes)."""

    modelStorage: bool | None = None


class ProviderCapabilities(Answer):
    engines: list[str]
    engineCapabilities: list[EngineCapability] | None = None
    modes: list[str]
    modelSources: list[str] | None = None
    routerModes: list[str] | None = None
    features: ProviderFeatures | None = None


class HealthCrd(Answer):
    name: str
    displayName: str | None = None


class OperatorPodProbe(Answer):
    namespace: str | None = None
    selectors: list[str]


class StatusRule(Answer):
    readyPath: str | None = None
    conditions: list[str] | None = None


class ProviderHealth(Answer):
    """How the dashboard tells whether the provider's upstream is installed (its ``airunway.ai/health`` hints)."""

    crds: list[str | HealthCrd] | None = None
    operatorPods: list[OperatorPodProbe] | None = None
    status: StatusRule | None = None


class DeploymentDefaults(Answer):
    """What the deploy form starts with for this provider."""

    defaultEngine: str | None = None
    defaultMode: str | None = None
    defaultResources: dict[str, Any] | None = None


class HelmRepo(Answer):
    name: str
    url: str


class HelmChart(Answer):
    name: str
    chart: str


class InstallationStep(Answer):
    title: str | None = None
    command: str | None = None
    description: str | None = None


class ProviderInfo(Answer):
    """A registered provider (from its InferenceProviderConfig) as the UI lists it."""

    id: str
    name: str
    description: str
    defaultNamespace: str | None = None
    documentationUrl: str | None = None
    icon: str | None = None
    warnings: list[Any] | None = None
    installable: bool | None = None
    requiresCRD: bool | None = None
    capabilities: ProviderCapabilities | None = None
    deploymentDefaults: DeploymentDefaults | None = None
    health: ProviderHealth | None = None
    preference: Number | None = None
    modelStorage: bool | None = None


class ProviderList(Answer):
    providers: list[ProviderInfo]


class CrdConfig(Answer):
    apiGroup: str
    apiVersion: str
    plural: str
    kind: str


class ProviderDetails(ProviderInfo):
    crdConfig: CrdConfig | None = None
    helmRepos: list[HelmRepo] | None = None
    helmCharts: list[HelmChart] | None = None
    installationSteps: list[InstallationStep] | None = None


class AuthConfig(Answer):
    enabled: bool


class Settings(Answer):
    config: AppConfig
    providers: list[ProviderInfo]
    auth: AuthConfig


class SettingsUpdated(Answer):
    message: str
    config: AppConfig


# -- deployments ----------------------------------------------------------------------------------------------------


class Condition(Answer):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    lastTransitionTime: str | None = None


class Replicas(Answer):
    desired: int | None = None
    ready: int | None = None
    available: int | None = None


class PodStatus(Answer):
    name: str
    phase: str
    ready: bool
    restarts: int
    node: str | None = None
    reason: str | None = None
    message: str | None = None


class StorageVolume(Answer):
    name: str | None = None
    mountPath: str | None = None
    purpose: Literal["modelCache", "compilationCache", "custom"] | None = None
    size: str | None = None
    claimName: str | None = None
    readOnly: bool | None = None
    accessMode: str | None = None
    storageClassName: str | None = None


class DeploymentStorage(Answer):
    volumes: list[StorageVolume] | None = None


class GatewayEndpoint(Answer):
    endpoint: str | None = None
    modelName: str | None = None


class ImageStatus(Answer):
    """The engine image: what was asked for and what the pods run (pinned by digest when resolved)."""

    requested: str | None = None
    resolved: str | None = None
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None


class DeploymentStatus(Answer):
    name: str
    namespace: str
    modelId: str | None = None
    servedModelName: str | None = None
    engine: str | None = None
    mode: str
    phase: str
    provider: str
    replicas: Replicas
    conditions: list[Condition] | None = None
    pods: list[PodStatus]
    createdAt: str
    frontendService: str | None = None
    prefillReplicas: Replicas | None = None
    decodeReplicas: Replicas | None = None
    gateway: GatewayEndpoint | None = None
    image: ImageStatus | None = None
    storage: DeploymentStorage | None = None


class Pagination(Answer):
    total: int
    limit: int
    offset: int
    hasMore: bool


class DeploymentList(Answer):
    deployments: list[DeploymentStatus]
    pagination: Pagination


class DeploymentCreated(Answer):
    message: str
    name: str
    namespace: str
    warnings: list[str] | None = None


class ObjectMeta(Answer):
    name: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class KubeResource(Answer):
    """A Kubernetes object as the API server holds it (or would create it)."""

    apiVersion: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: dict[str, Any] | None = None


class ManifestResource(Answer):
    kind: str
    apiVersion: str
    name: str
    manifest: KubeResource


class ResourceKind(Answer):
    kind: str
    apiVersion: str


class ManifestAnswer(Answer):
    resources: list[ManifestResource]
    primaryResource: ResourceKind


class EngineChoice(Answer):
    type: str
    reason: str | None = None


class ProviderChoice(Answer):
    name: str
    reason: str | None = None


class BrokenRule(Answer):
    index: int
    condition: str
    error: str | None = None


class Verdict(Answer):
    name: str
    outcome: str
    explanation: str | None = None
    brokenRules: list[BrokenRule]


class Selection(Answer):
    NULLABLE = frozenset({"failure"})
    errors: list[str]
    warnings: list[str]
    failure: str | None = None
    configProblems: list[Any] | None = None
    engine: EngineChoice | None = None
    provider: ProviderChoice | None = None
    verdicts: list[Verdict] | None = None


class Pvc(Answer):
    name: str
    status: str
    storageClass: str
    capacity: str


class PvcList(Answer):
    pvcs: list[Pvc]


class PodList(Answer):
    pods: list[PodStatus]


class PendingReason(Answer):
    reason: str
    message: str
    isResourceConstraint: bool
    resourceType: Literal["gpu", "cpu", "memory"] | None = None
    canAutoscalerHelp: bool


class PendingReasons(Answer):
    reasons: list[PendingReason]


class RawMetric(Answer):
    name: str
    value: Number
    labels: dict[str, str] | None = None


class MetricsResponse(Answer):
    available: bool
    error: str | None = None
    timestamp: str | None = None
    runningOffCluster: bool | None = None
    metrics: list[RawMetric]


class Logs(Answer):
    logs: str
    podName: str
    container: str | None = None
    message: str | None = None


# -- installation, runtimes, GPUs -----------------------------------------------------------------------------------


class HelmStatus(Answer):
    available: bool
    version: str | None = None
    error: str | None = None


class GPUOperatorStatus(Answer):
    installed: bool
    crdFound: bool
    operatorRunning: bool
    gpusAvailable: bool
    totalGPUs: int
    gpuNodes: list[str]
    message: str
    helmCommands: list[str] | None = None


class NodeGpus(Answer):
    nodeName: str
    totalGpus: int
    allocatedGpus: int
    availableGpus: int


class GpuTotals(Answer):
    totalGpus: int
    allocatedGpus: int
    availableGpus: int
    maxContiguousAvailable: int
    maxNodeGpuCapacity: int
    gpuNodeCount: int
    totalMemoryGb: Number | None = None


class ClusterGpuCapacity(GpuTotals):
    nodes: list[NodeGpus]


class NodePool(Answer):
    name: str
    gpuCount: int
    nodeCount: int
    availableGpus: int
    gpuModel: str | None = None


class DetailedClusterCapacity(GpuTotals):
    nodePools: list[NodePool]


class Throughput(Answer):
    gpuModel: str | None = None
    perGpuMemoryGb: Number | None = None
    memBandwidthGBs: Number | None = None
    tpSize: int | None = None
    contextLen: int | None = None
    kvCacheDtype: str | None = None
    fp8Supported: bool | None = None
    capacityLabel: str | None = None
    perChatTokensPerSec: Number
    concurrentSequences: int | None = None
    aggregateTokensPerSec: Number | None = None
    lowConfidence: bool | None = None
    doesNotFit: bool | None = None


class ShimHealth(Answer):
    healthy: bool
    reason: str | None = None
    message: str | None = None
    stale: bool | None = None


class ProviderStatus(Answer):
    NULLABLE = frozenset({"version"})
    providerId: str
    providerName: str
    installed: bool
    crdFound: bool
    operatorRunning: bool
    requiresCRD: bool | None = None
    version: str | None = None
    message: str | None = None
    installable: bool | None = None
    installationSteps: list[InstallationStep] | None = None
    helmCommands: list[str] | None = None


class ProviderCommands(Answer):
    providerId: str
    providerName: str
    commands: list[str]
    steps: list[InstallationStep]


class RuntimeStatus(ProviderInfo):
    """A registered provider with its installation status."""

    NULLABLE = frozenset({"version", "operatorRunning"})

    installed: bool
    healthy: bool
    crdFound: bool | None = None
    operatorRunning: bool | None = None
    version: str | None = None
    message: str | None = None


class RuntimesStatus(Answer):
    runtimes: list[RuntimeStatus]
    error: str | None = None


# -- gateway --------------------------------------------------------------------------------------------------------


class GatewayInfo(Answer):
    available: bool
    endpoint: str | None = None


class GatewayModel(Answer):
    name: str
    deploymentName: str
    namespace: str
    provider: str | None = None
    ready: bool


class GatewayModels(Answer):
    models: list[GatewayModel]


class GatewayCrdStatus(Answer):
    gatewayApiInstalled: bool
    inferenceExtInstalled: bool
    pinnedVersion: str
    gatewayAvailable: bool
    gatewayEndpoint: str | None = None
    message: str | None = None
    installCommands: list[str]


# -- secrets and OAuth ----------------------------------------------------------------------------------------------


class SecretNamespace(Answer):
    name: str
    exists: bool


class HfUser(Answer):
    NULLABLE = frozenset({"id", "name", "fullname", "email", "avatarUrl"})
    id: str | None = None
    name: str | None = None
    fullname: str | None = None
    email: str | None = None
    avatarUrl: str | None = None


class HfSecretStatus(Answer):
    configured: bool
    namespaces: list[SecretNamespace]
    user: HfUser | None = None


class NamespaceResult(Answer):
    namespace: str
    success: bool
    error: str | None = None


class HfSecretSaved(Answer):
    success: bool
    message: str
    user: HfUser | None = None
    results: list[NamespaceResult]


class HfSecretDeleted(Answer):
    success: bool
    message: str
    results: list[NamespaceResult]


class OAuthConfig(Answer):
    clientId: str
    authorizeUrl: str
    scopes: list[str]


class OAuthStart(Answer):
    authorizationUrl: str
    state: str


class OAuthToken(Answer):
    accessToken: str
    tokenType: str
    expiresIn: int | None = None
    scope: str | None = None
    user: HfUser


# -- autoscaler -----------------------------------------------------------------------------------------------------


class AutoscalerDetection(Answer):
    type: Literal["aks-managed", "cluster-autoscaler", "none", "unknown"]
    detected: bool
    healthy: bool
    nodeGroupCount: int | None = None
    message: str


class NodeGroup(Answer):
    NULLABLE = frozenset({"minSize", "maxSize"})
    name: str
    minSize: int | None = None
    maxSize: int | None = None
    currentSize: int


class AutoscalerStatus(Answer):
    health: str
    nodeGroups: list[NodeGroup]
    lastUpdateTime: str | None = None


# -- costs ----------------------------------------------------------------------------------------------------------


class CostAmount(Answer):
    hourly: Number
    monthly: Number


class CostEstimate(CostAmount):
    currency: str
    source: str
    confidence: str


class CostBreakdown(Answer):
    estimate: CostEstimate
    perGpu: CostAmount
    totalGpus: int
    gpuModel: str
    normalizedGpuModel: str
    notes: list[str]


class CostEstimateResponse(Answer):
    success: bool
    breakdown: CostBreakdown


class RealtimePricing(Answer):
    NULLABLE = frozenset({"region"})
    instanceType: str
    hourlyPrice: Number
    monthlyPrice: Number
    currency: str
    region: str | None = None
    source: Literal["cached", "realtime"] | None = None


class NodePoolCost(Answer):
    poolName: str
    gpuModel: str
    availableGpus: int
    costBreakdown: CostBreakdown
    realtimePricing: RealtimePricing | None = None


class CacheStats(Answer):
    size: int
    ttlMs: int
    maxEntries: int


class NodePoolCosts(Answer):
    success: bool
    nodePoolCosts: list[NodePoolCost]
    pricingSource: str
    cacheStats: CacheStats


class InstancePrice(Answer):
    instanceType: str
    hourlyPrice: Number
    currency: str | None = None
    region: str | None = None


class InstancePriceResponse(Answer):
    success: bool
    price: InstancePrice
    cached: bool


class GpuModelInfo(Answer):
    model: str
    memoryGb: Number
    generation: str


class GpuModels(Answer):
    success: bool
    models: list[GpuModelInfo]
    note: str


class GpuInfo(Answer):
    memoryGb: Number
    generation: str


class NormalizedGpu(Answer):
    success: bool
    originalLabel: str
    normalizedModel: str
    gpuInfo: GpuInfo | None


# -- AIKit ----------------------------------------------------------------------------------------------------------


class PremadeModel(Answer):
    id: str
    name: str
    size: str
    image: str
    modelName: str
    license: str
    description: str
    computeType: Literal["cpu", "gpu"]


class PremadeModels(Answer):
    models: list[PremadeModel]
    total: int


class BuildPreview(Answer):
    imageRef: str
    wasPremade: bool
    requiresBuild: bool
    registryUrl: str


class BuildResult(Answer):
    success: bool
    imageRef: str | None = None
    buildTime: Number | None = None
    wasPremade: bool | None = None
    message: str | None = None


class RegistryStatus(Answer):
    ready: bool
    url: str | None = None
    message: str | None = None


class BuilderStatus(Answer):
    name: str | None = None
    driver: str | None = None
    exists: bool | None = None
    ready: bool | None = None
    running: bool | None = None
    message: str | None = None


class InfrastructureStatus(Answer):
    ready: bool
    registry: RegistryStatus
    builder: BuilderStatus
    error: str | None = None


class InfrastructureSetup(Answer):
    success: bool
    message: str
    registry: RegistryStatus
    builder: BuilderStatus


# -- AI Configurator ------------------------------------------------------------------------------------------------


class AIConfiguratorStatus(Answer):
    available: bool
    version: str | None = None
    error: str | None = None
    runningInCluster: bool | None = None


class AIConfiguratorConfig(Answer):
    tensorParallelDegree: int
    pipelineParallelDegree: int | None = None
    maxBatchSize: int
    gpuMemoryUtilization: Number
    maxModelLen: int
    maxNumSeqs: int | None = None
    prefillTensorParallel: int | None = None
    decodeTensorParallel: int | None = None


class EstimatedPerformance(Answer):
    throughputTokensPerSec: Number
    latencyP50Ms: Number
    latencyP99Ms: Number
    gpuUtilization: Number


class AIConfiguratorResult(Answer):
    success: bool
    config: AIConfiguratorConfig
    mode: Literal["aggregated", "disaggregated"] | None = None
    replicas: int | None = None
    prefillReplicas: int | None = None
    decodeReplicas: int | None = None
    estimatedPerformance: EstimatedPerformance | None = None
    warnings: list[str] | None = None
    error: str | None = None


class NormalizedGpuType(Answer):
    gpuProduct: str
    normalized: str


# -- vLLM recipes ---------------------------------------------------------------------------------------------------


class RecipeSummary(Answer):
    """An entry of the recipes' index (the vLLM project's fields, passed on as they are)."""


class RecipeList(Answer):
    recipes: list[RecipeSummary]
    total: int
    source: str


class Recipe(Answer):
    """A recipe as the vLLM project publishes it."""


class RecipeAnswer(Answer):
    modelId: str
    source: str
    recipe: Recipe


class ResolvedRecipe(Answer):
    provider: str
    engine: str
    mode: Literal["aggregated", "disaggregated"]
    imageRef: str | None = None
    resources: dict[str, Any]
    engineArgs: dict[str, Any]
    engineExtraArgs: list[str]
    env: dict[str, str]
    annotations: dict[str, str]
    recipeProvenance: dict[str, Any]
    warnings: list[str]


InstallResult.model_rebuild()
