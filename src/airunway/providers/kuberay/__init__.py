"""KubeRay provider: ModelDeployments served by Ray Serve + vLLM in a KubeRay ``RayService`` (ray.io/v1).

``airunway provider kuberay`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers; :func:`build`, its reconciler).
"""

from __future__ import annotations

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.descriptor import ProviderDescriptor, ProviderFlags
from airunway.providers.kuberay import config as _config
from airunway.providers.kuberay.reconciler import KubeRayReconciler
from airunway.providers.registration import ProviderConfig


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, flags: ProviderFlags) -> KubeRayReconciler:
    return KubeRayReconciler(client, cache)


PROVIDER = ProviderDescriptor(_config.PROVIDER_NAME, _config.DISPLAY_NAME, config, build, ProviderFlags)


__all__ = ["PROVIDER", "KubeRayReconciler", "build", "config"]
