"""KAITO provider: a ModelDeployment served by a KAITO ``Workspace`` (kaito.sh/v1beta1): a vLLM preset, or
llama.cpp on GPUs or CPUs.

``airunway provider kaito`` runs it: :func:`config` is the InferenceProviderConfig it registers, :func:`build` its
reconciler.
"""

from __future__ import annotations

from typing import Any

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.registration import ProviderConfig
from airunway.providers.kaito import config as _config
from airunway.providers.kaito.reconciler import KaitoReconciler


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, options: Any) -> KaitoReconciler:
    return KaitoReconciler(client, cache)


__all__ = ["KaitoReconciler", "build", "config"]
