"""Direct vLLM provider: a ModelDeployment served by ``vllm serve`` in a plain Deployment and Service.

``airunway provider vllm`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers; :func:`build`, its reconciler; :class:`VLLMFlags`, its options). Image tags are pinned to digests only
through registry endpoints the operator names, with ``--image-registry-endpoint REGISTRY=URL`` or in the environment
variable ``AIRUNWAY_VLLM_REGISTRY_ENDPOINTS`` (``REGISTRY=URL`` pairs separated by commas; ``default`` for images
named without a registry host; the flag wins for a registry named in both); images of other registries run as
written.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import field_validator

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.descriptor import Flag, ProviderDescriptor, ProviderFlags
from airunway.providers.vllm.config import DISPLAY_NAME, PROVIDER_NAME, config
from airunway.providers.vllm.image import RegistryResolver
from airunway.providers.vllm.reconciler import VLLMReconciler

ENDPOINTS_ENV = "AIRUNWAY_VLLM_REGISTRY_ENDPOINTS"


def endpoint(item: str) -> tuple[str, str]:
    """``REGISTRY=http(s)://HOST[:PORT]`` → (registry, URL)."""
    registry, sep, url = item.partition("=")
    if not sep or not registry.strip() or not url.strip().startswith(("http://", "https://")):
        raise ValueError(f"{item!r} is not REGISTRY=http(s)://HOST[:PORT]")
    return registry.strip(), url.strip()


def registry_endpoints(text: str) -> dict[str, str]:
    """``default=http://127.0.0.1:5000,other.host=https://…`` → {registry: URL}."""
    try:
        return dict(endpoint(item) for item in filter(None, (part.strip() for part in text.split(","))))
    except ValueError as exc:
        raise ValueError(f"{ENDPOINTS_ENV}: {exc}") from None


class VLLMFlags(ProviderFlags):
    image_registry_endpoints: Annotated[dict[str, str], Flag(
        "--image-registry-endpoint",
        "REGISTRY=URL of a registry's HTTP API for pinning image tags to digests (repeatable; REGISTRY 'default' for "
        "images named without a registry host). Images of other registries run as written.",
        repeated=True, metavar="REGISTRY=URL",
    )] = {}

    @field_validator("image_registry_endpoints", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        return dict(endpoint(item) for item in value) if isinstance(value, (list, tuple)) else value


def build(client: Client, cache: Cache, flags: VLLMFlags) -> VLLMReconciler:
    endpoints = registry_endpoints(os.environ.get(ENDPOINTS_ENV, ""))
    endpoints.update(flags.image_registry_endpoints)
    return VLLMReconciler(client, cache, RegistryResolver(endpoints))


PROVIDER = ProviderDescriptor(PROVIDER_NAME, DISPLAY_NAME, config, build, VLLMFlags)

__all__ = ["PROVIDER", "VLLMFlags", "VLLMReconciler", "build", "config", "registry_endpoints"]
