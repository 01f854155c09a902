"""llm-d provider: vLLM in plain Deployments and Services (decode and prefill workers in disaggregated mode), with
the llm-d inference scheduler as the gateway's endpoint picker.

``airunway provider llmd`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers; :func:`build`, its reconciler).
"""

from __future__ import annotations

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.descriptor import ProviderDescriptor, ProviderFlags
from airunway.providers.llmd import config as _config
from airunway.providers.llmd.reconciler import LLMDReconciler
from airunway.providers.registration import ProviderConfig


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, flags: ProviderFlags) -> LLMDReconciler:
    return LLMDReconciler(client, cache)


PROVIDER = ProviderDescriptor(_config.PROVIDER_NAME, _config.DISPLAY_NAME, config, build, ProviderFlags)


__all__ = ["PROVIDER", "LLMDReconciler", "build", "config"]
