"""KAITO provider: a ModelDeployment served by a KAITO ``Workspace`` (kaito.sh/v1beta1): a vLLM preset, or
llama.cpp on GPUs or CPUs.

``airunway provider kaito`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers; :func:`build`, its reconciler).
"""

from __future__ import annotations

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.descriptor import ProviderDescriptor, ProviderFlags
from airunway.providers.kaito import config as _config
from airunway.providers.kaito.reconciler import KaitoReconciler
from airunway.providers.registration import ProviderConfig


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, flags: ProviderFlags) -> KaitoReconciler:
    return KaitoReconciler(client, cache)


PROVIDER = ProviderDescriptor(_config.PROVIDER_NAME, _config.DISPLAY_NAME, config, build, ProviderFlags)


__all__ = ["PROVIDER", "KaitoReconciler", "build", "config"]
