"""KAITO provider: a ModelDeployment served by a KAITO ``Workspace`` (kaito.sh/v1beta1): a vLLM preset, or
llama.cpp on GPUs or CPUs.

``airunway provider kaito`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers, and its reconciler).
"""

from __future__ import annotations

from airunway.providers.descriptor import ProviderDescriptor
from airunway.providers.kaito.config import DISPLAY_NAME, PROVIDER_NAME, config
from airunway.providers.kaito.reconciler import KaitoReconciler

PROVIDER = ProviderDescriptor.without_flags(PROVIDER_NAME, DISPLAY_NAME, config, KaitoReconciler)

__all__ = ["PROVIDER", "KaitoReconciler", "config"]
