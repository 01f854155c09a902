"""llm-d provider: vLLM in plain Deployments and Services (decode and prefill workers in disaggregated mode), with
the llm-d inference scheduler as the gateway's endpoint picker.

``airunway provider llmd`` runs it: :func:`config` is the InferenceProviderConfig it registers, :func:`build` its
reconciler.
"""

from __future__ import annotations

from typing import Any

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.registration import ProviderConfig
from airunway.providers.llmd import config as _config
from airunway.providers.llmd.reconciler import LLMDReconciler


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, options: Any) -> LLMDReconciler:
    return LLMDReconciler(client, cache)


__all__ = ["LLMDReconciler", "build", "config"]
