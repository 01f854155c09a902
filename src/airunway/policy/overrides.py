"""Admission of ``spec.provider.overrides``: keys that could escalate privileges or bypass the size ceilings.

One deliberate difference from upstream, decided in issue 3: upstream refuses the key ``replicas`` (and
``resources``) anywhere under ``spec.provider.overrides``, yet the Dynamo provider documents and reads
``overrides.frontend.replicas`` and ``overrides.frontend.resources`` (seed example ``llama-70b-pd``). Those typed keys
of the provider the deployment targets are admitted, bounded by the same ceilings as ``spec.scaling`` and
``spec.resources`` (see :data:`PROVIDER_TYPED_OVERRIDES`); every other sizing or security key is still refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airunway.policy.fielderrors import (
    FieldError,
    field_path,
    forbidden,
    invalid,
    schema_value,
)
from airunway.policy.limits import (
    DYNAMO_PROVIDER,
    MAX_CPU,
    MAX_MEMORY,
    MAX_REPLICAS,
    validate_resource_quantity,
)

SECURITY_OVERRIDE_KEYS = (
    "securityContext",
    "serviceAccountName",
    "serviceAccount",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "automountServiceAccountToken",
    "nodeName",
    "priorityClassName",
    "runtimeClassName",
)
"""Keys refused anywhere under spec.provider.overrides: they could escalate privileges."""
SIZING_OVERRIDE_KEYS = ("replicas", "resources")
"""Keys refused under spec.provider.overrides (outside :data:`PROVIDER_TYPED_OVERRIDES`): they would bypass the
admission ceilings on spec.scaling and spec.resources."""


@dataclass(frozen=True)
class TypedOverride:
    """An override key a provider reads as a typed setting, admitted within the admission ceilings."""

    path: tuple[str, ...]
    check: Callable[[Any, str], list[FieldError]]
    description: str


def _check_override_replicas(value: Any, path: str) -> list[FieldError]:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not value.is_integer())
        or value < 0
    ):
        return [invalid(path, schema_value(value), "must be a non-negative integer")]
    if value > MAX_REPLICAS:
        return [invalid(path, int(value), f"exceeds maximum allowed ({MAX_REPLICAS})")]
    return []


def _check_override_resources(value: Any, path: str) -> list[FieldError]:
    if not isinstance(value, Mapping):
        return [invalid(path, schema_value(value), "must be an object with cpu and/or memory")]
    errors: list[FieldError] = []
    for key, item in value.items():
        key_path = f"{path}.{key}"
        ceiling = {"cpu": MAX_CPU, "memory": MAX_MEMORY}.get(key)
        if ceiling is None:
            errors.append(forbidden(key_path, f'overriding "{key}" is not allowed; only cpu and memory may be set here'))
        elif not isinstance(item, str):
            errors.append(invalid(key_path, schema_value(item), 'must be a quantity string (for example "2" or "4Gi")'))
        else:
            errors += validate_resource_quantity(item, ceiling, key_path)
    return errors


PROVIDER_TYPED_OVERRIDES: dict[str, tuple[TypedOverride, ...]] = {
    DYNAMO_PROVIDER: (
        TypedOverride(("frontend", "replicas"), _check_override_replicas, f"Frontend replicas, at most {MAX_REPLICAS}"),
        TypedOverride(
            ("frontend", "resources"),
            _check_override_resources,
            f"Frontend cpu (at most {MAX_CPU}) and memory (at most {MAX_MEMORY}) requests",
        ),
    ),
}
"""Per provider, the sizing keys under spec.provider.overrides it documents and reads as typed settings."""


def validate_overrides(overrides: Any, provider_name: str = "") -> list[FieldError]:
    """The errors of ``spec.provider.overrides`` for a deployment on ``provider_name`` ("" when not chosen yet).

    ``overrides`` is the decoded value, or raw JSON bytes as a webhook may receive them.
    """
    base = "spec.provider.overrides"
    if isinstance(overrides, (bytes, bytearray)):
        raw = bytes(overrides)
        try:
            overrides = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            return [invalid(base, f"<redacted {len(raw)} bytes>", "overrides must be valid JSON")]
        if not isinstance(overrides, Mapping):
            return [invalid(base, f"<redacted {len(raw)} bytes>", "overrides must be a JSON object")]
    if not isinstance(overrides, Mapping):
        return [invalid(base, _redacted(overrides), "overrides must be a JSON object")]
    errors = _forbidden_keys(
        overrides, (), SECURITY_OVERRIDE_KEYS, lambda key: f'overriding "{key}" is not allowed for security reasons', {}
    )
    typed = {entry.path: entry for entry in PROVIDER_TYPED_OVERRIDES.get(provider_name, ())}
    errors += _forbidden_keys(
        overrides,
        (),
        SIZING_OVERRIDE_KEYS,
        lambda key: (
            f'overriding "{key}" is not allowed because it can bypass admission resource limits; '
            "use spec.resources / spec.scaling instead"
        ),
        typed,
    )
    return errors


def _forbidden_keys(
    value: Any,
    path: tuple[str | int, ...],
    keys: tuple[str, ...],
    detail: Callable[[str], str],
    typed: dict[tuple[str, ...], TypedOverride],
) -> list[FieldError]:
    """Walk objects and arrays; a forbidden key is reported once and its subtree not searched further."""
    errors: list[FieldError] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_path = (*path, str(key))
            if key_path in typed:
                errors += typed[key_path].check(item, field_path("spec", "provider", "overrides", *key_path))
            elif key in keys:
                errors.append(forbidden(field_path("spec", "provider", "overrides", *key_path), detail(key)))
            else:
                errors += _forbidden_keys(item, key_path, keys, detail, typed)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors += _forbidden_keys(item, (*path, index), keys, detail, typed)
    return errors


def _redacted(value: Any) -> str:
    """Upstream never echoes the overrides payload, only its size as JSON."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(value)
    # Go's encoder escapes these HTML-sensitive characters as \u00XX.
    size = len(text.encode()) + 5 * sum(text.count(c) for c in "<>&")
    return f"<redacted {size} bytes>"


__all__ = ["PROVIDER_TYPED_OVERRIDES", "SECURITY_OVERRIDE_KEYS", "SIZING_OVERRIDE_KEYS", "TypedOverride",
           "validate_overrides"]
