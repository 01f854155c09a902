"""KubeRay provider: ModelDeployments served by Ray Serve + vLLM in a KubeRay ``RayService`` (ray.io/v1).

``airunway provider kuberay`` runs it: :func:`config` is the InferenceProviderConfig it registers, :func:`build`
its reconciler.
"""

from __future__ import annotations

from typing import Any

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.registration import ProviderConfig
from airunway.providers.kuberay import config as _config
from airunway.providers.kuberay.reconciler import KubeRayReconciler


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, options: Any) -> KubeRayReconciler:
    return KubeRayReconciler(client, cache)


__all__ = ["KubeRayReconciler", "build", "config"]
