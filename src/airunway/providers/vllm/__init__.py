"""Direct vLLM provider: a ModelDeployment served by ``vllm serve`` in a plain Deployment and Service.

``airunway provider vllm`` runs it: :func:`config` is the InferenceProviderConfig it registers, :func:`build` its
reconciler. Image tags are pinned to digests only through registry endpoints the operator names in the environment
variable ``AIRUNWAY_VLLM_REGISTRY_ENDPOINTS`` (``REGISTRY=URL`` pairs separated by commas, ``default`` for images
named without a registry host); images of other registries run as written.
"""

from __future__ import annotations

import os
from typing import Any

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.registration import ProviderConfig
from airunway.providers.vllm import config as _config
from airunway.providers.vllm.image import RegistryResolver
from airunway.providers.vllm.reconciler import VLLMReconciler

ENDPOINTS_ENV = "AIRUNWAY_VLLM_REGISTRY_ENDPOINTS"


def registry_endpoints(text: str) -> dict[str, str]:
    """``default=http://127.0.0.1:5000,other.host=https://…`` → {registry: URL}."""
    endpoints = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        registry, sep, url = item.partition("=")
        if not sep or not registry.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"{ENDPOINTS_ENV}: {item!r} is not REGISTRY=http(s)://HOST[:PORT]")
        endpoints[registry.strip()] = url.strip()
    return endpoints


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, options: Any) -> VLLMReconciler:
    endpoints = registry_endpoints(os.environ.get(ENDPOINTS_ENV, ""))
    endpoints.update((getattr(options, "extra", None) or {}).get("image_registry_endpoints") or {})
    return VLLMReconciler(client, cache, RegistryResolver(endpoints))


__all__ = ["VLLMReconciler", "build", "config", "registry_endpoints"]
