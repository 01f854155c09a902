"""The AI Runway API (airunway.ai/v1alpha1): pydantic models of ModelDeployment and InferenceProviderConfig.

These models are the single source of truth for the CRDs (:mod:`airunway.api.crds` generates them) and the way
every component reads and writes the objects::

    md = ModelDeployment.model_validate(obj)   # a dict from the API server or a YAML file
    md.spec.engine.type, md.resolved_engine_type(), md.spec.validate_image_fields()
    obj = md.to_dict()                          # camelCase, unset fields left out
"""

from airunway.api.common import Condition, ConditionStatus, EnvVar, ObjectMeta, OwnerReference, Toleration
from airunway.api.modeldeployment import (
    AccessMode,
    DeploymentPhase,
    EngineType,
    ModelDeployment,
    ModelDeploymentList,
    ModelDeploymentSpec,
    ModelDeploymentStatus,
    ModelSource,
    ServingMode,
    StorageVolume,
    VolumePurpose,
)
from airunway.api.providerconfig import (
    EngineCapability,
    InferenceProviderConfig,
    InferenceProviderConfigList,
    InferenceProviderConfigSpec,
    InferenceProviderConfigStatus,
    InstallationInfo,
    ProviderCapabilities,
    SelectionRule,
)

__all__ = [
    "AccessMode",
    "Condition",
    "ConditionStatus",
    "DeploymentPhase",
    "EngineCapability",
    "EngineType",
    "EnvVar",
    "InferenceProviderConfig",
    "InferenceProviderConfigList",
    "InferenceProviderConfigSpec",
    "InferenceProviderConfigStatus",
    "InstallationInfo",
    "ModelDeployment",
    "ModelDeploymentList",
    "ModelDeploymentSpec",
    "ModelDeploymentStatus",
    "ModelSource",
    "ObjectMeta",
    "OwnerReference",
    "ProviderCapabilities",
    "SelectionRule",
    "ServingMode",
    "StorageVolume",
    "Toleration",
    "VolumePurpose",
]
