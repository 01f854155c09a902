"""The discovery annotations a provider puts on its InferenceProviderConfig for the dashboard."""

from __future__ import annotations

import json
from typing import Any

from airunway.api.constants import (
    ANNOTATION_CAPABILITIES,
    ANNOTATION_DEFAULT_NAMESPACE,
    ANNOTATION_DESCRIPTION,
    ANNOTATION_DISPLAY_NAME,
    ANNOTATION_DOCUMENTATION,
    ANNOTATION_DOCUMENTATION_URL,
    ANNOTATION_HEALTH,
    ANNOTATION_INSTALLATION,
)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def provider_annotations(
    *, display_name: str, default_namespace: str, documentation_url: str, spec: dict[str, Any],
    health: dict[str, Any], installation: dict[str, Any],
) -> dict[str, str]:
    """Display name, description (from the installation info), default namespace, documentation links, and the
    capabilities, health hints and installation info as compact JSON."""
    return {
        ANNOTATION_DISPLAY_NAME: display_name,
        ANNOTATION_DESCRIPTION: installation["description"],
        ANNOTATION_DEFAULT_NAMESPACE: default_namespace,
        ANNOTATION_DOCUMENTATION_URL: documentation_url,
        ANNOTATION_DOCUMENTATION: documentation_url,
        ANNOTATION_CAPABILITIES: _compact(spec["capabilities"]),
        ANNOTATION_HEALTH: _compact(health),
        ANNOTATION_INSTALLATION: _compact(installation),
    }
