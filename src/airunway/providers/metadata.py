"""The discovery annotations a provider puts on its InferenceProviderConfig for the dashboard, written with the
codec the dashboard reads them with (:mod:`airunway.api.provider_annotations`)."""

from __future__ import annotations

from typing import Any

from airunway.api.provider_annotations import HealthHints, ProviderAnnotations, encode
from airunway.api.providerconfig import InstallationInfo


def provider_annotations(
    *, display_name: str, default_namespace: str, documentation_url: str, spec: dict[str, Any],
    health: HealthHints, installation: dict[str, Any],
) -> dict[str, str]:
    """Display name, description (from the installation info), default namespace, the documentation link under both
    its keys, and the capabilities, health hints and installation info as compact JSON."""
    info = InstallationInfo.model_validate(installation)
    return encode(ProviderAnnotations(
        display_name=display_name, description=info.description, default_namespace=default_namespace,
        documentation_url=documentation_url, documentation=documentation_url, capabilities=spec["capabilities"],
        health=health, installation=info,
    ))
