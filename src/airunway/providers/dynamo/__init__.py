"""NVIDIA Dynamo provider: a ModelDeployment served as one ``DynamoGraphDeployment`` (nvidia.com/v1alpha1).

``airunway provider dynamo`` runs it: :func:`config` is the InferenceProviderConfig it registers, :func:`build`
its reconciler.
"""

from __future__ import annotations

from typing import Any

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.dynamo import config as _config
from airunway.providers.dynamo.reconciler import DynamoReconciler
from airunway.providers.registration import ProviderConfig


def config() -> ProviderConfig:
    return _config.config()


def build(client: Client, cache: Cache, options: Any) -> DynamoReconciler:
    extra = getattr(options, "extra", None) or {}
    return DynamoReconciler(client, cache, extra.get("download_job_image", ""))


__all__ = ["DynamoReconciler", "build", "config"]
