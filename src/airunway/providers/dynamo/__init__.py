"""NVIDIA Dynamo provider: a ModelDeployment served as one ``DynamoGraphDeployment`` (nvidia.com/v1alpha1).

``airunway provider dynamo`` runs it: :data:`PROVIDER` describes it (:func:`config`, the InferenceProviderConfig it
registers; :func:`build`, its reconciler; :class:`DynamoFlags`, its options).
"""

from __future__ import annotations

from typing import Annotated

from airunway.kube.client import Client
from airunway.kube.informer import Cache
from airunway.providers.descriptor import Flag, ProviderDescriptor, ProviderFlags
from airunway.providers.dynamo.config import DISPLAY_NAME, PROVIDER_NAME, config
from airunway.providers.dynamo.reconciler import DynamoReconciler
from airunway.providers.storage import DEFAULT_DOWNLOAD_IMAGE


class DynamoFlags(ProviderFlags):
    download_job_image: Annotated[str, Flag(
        "--download-job-image", f"Image of the model download Job (default: {DEFAULT_DOWNLOAD_IMAGE}).", metavar="IMAGE",
    )] = ""


def build(client: Client, cache: Cache, flags: DynamoFlags) -> DynamoReconciler:
    return DynamoReconciler(client, cache, flags.download_job_image)


PROVIDER = ProviderDescriptor(PROVIDER_NAME, DISPLAY_NAME, config, build, DynamoFlags)

__all__ = ["PROVIDER", "DynamoFlags", "DynamoReconciler", "build", "config"]
