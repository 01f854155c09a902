"""KubeRay provider: ModelDeployments served by Ray Serve + vLLM in a KubeRay ``RayService`` (ray.io/v1).

``airunway provider kuberay`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers, and its reconciler).
"""

from __future__ import annotations

from airunway.providers.descriptor import ProviderDescriptor
from airunway.providers.kuberay.config import DISPLAY_NAME, PROVIDER_NAME, config
from airunway.providers.kuberay.reconciler import KubeRayReconciler

PROVIDER = ProviderDescriptor.without_flags(PROVIDER_NAME, DISPLAY_NAME, config, KubeRayReconciler)

__all__ = ["PROVIDER", "KubeRayReconciler", "config"]
