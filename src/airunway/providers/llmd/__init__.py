"""llm-d provider: vLLM in plain Deployments and Services (decode and prefill workers in disaggregated mode), with
the llm-d inference scheduler as the gateway's endpoint picker.

``airunway provider llmd`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers, and its reconciler).
"""

from __future__ import annotations

from airunway.providers.descriptor import ProviderDescriptor
from airunway.providers.llmd.config import DISPLAY_NAME, PROVIDER_NAME, config
from airunway.providers.llmd.reconciler import LLMDReconciler

PROVIDER = ProviderDescriptor.without_flags(PROVIDER_NAME, DISPLAY_NAME, config, LLMDReconciler)

__all__ = ["PROVIDER", "LLMDReconciler", "config"]
