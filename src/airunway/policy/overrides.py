"""Admission of ``spec.provider.overrides``: keys that could escalate privileges or bypass the size ceilings.

One deliberate difference from upstream, decided in issue 3: upstream refuses the key ``replicas`` (and
``resources``) anywhere under ``spec.provider.overrides``, yet the Dynamo provider documents and reads
``overrides.frontend.replicas`` and ``overrides.frontend.resources`` (seed example ``llama-70b-pd``). Those typed keys
of the provider the deployment targets are admitted, bounded by the same ceilings as ``spec.scaling`` and
``spec.resources`` (see :data:`PROVIDER_TYPED_OVERRIDES`); every other sizing or security key is still refused.

Host access (issue 15): besides upstream's security keys, overrides may not add ``hostPath`` volumes or a
``hostPort``. The keys that give pods access to the host (:data:`HOST_ACCESS_OVERRIDE_KEYS`, and inside a
``securityContext`` :data:`HOST_ACCESS_SECURITY_CONTEXT_KEYS`: ``privileged``, ``capabilities``,
``allowPrivilegeEscalation``) are admitted only for a provider whose InferenceProviderConfig carries the annotation
``airunway.ai/allow-host-access: "true"``, which only whoever may edit that cluster-scoped object (a cluster admin)
can set. Keys are matched without regard to case, as an operator decoding with Go's ``encoding/json`` would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airunway.api.constants import ANNOTATION_ALLOW_HOST_ACCESS
from airunway.api.providerconfig import InferenceProviderConfig
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

HOST_ACCESS_OVERRIDE_KEYS = (
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostPath",
    "hostPort",
    "serviceAccountName",
    "serviceAccount",
)
"""Keys that give a provider's pods access to the host (or another identity): refused anywhere under
spec.provider.overrides unless the provider allows host access."""
HOST_ACCESS_SECURITY_CONTEXT_KEYS = ("privileged", "capabilities", "allowPrivilegeEscalation")
"""The only keys of a ``securityContext`` that overrides may set, and only when the provider allows host access."""
ALWAYS_REFUSED_OVERRIDE_KEYS = (
    "automountServiceAccountToken",
    "nodeName",
    "priorityClassName",
    "runtimeClassName",
)
"""Keys refused anywhere under spec.provider.overrides, whatever the provider allows."""
SECURITY_OVERRIDE_KEYS = ("securityContext", *HOST_ACCESS_OVERRIDE_KEYS, *ALWAYS_REFUSED_OVERRIDE_KEYS)
"""Keys refused anywhere under spec.provider.overrides by default: they could escalate privileges."""
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


def provider_allows_host_access(config: InferenceProviderConfig | None) -> bool:
    """Whether the cluster admin let overrides of deployments on this provider grant host access."""
    if config is None:
        return False
    return (config.annotation(ANNOTATION_ALLOW_HOST_ACCESS) or "").strip().lower() == "true"


def validate_overrides(overrides: Any, provider_name: str = "", *, allow_host_access: bool = False) -> list[FieldError]:
    """The errors of ``spec.provider.overrides`` for a deployment on ``provider_name`` ("" when not chosen yet).

    ``overrides`` is the decoded value, or raw JSON bytes as a webhook may receive them. ``allow_host_access``: the
    provider's InferenceProviderConfig allows host access (:func:`provider_allows_host_access`).
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
    errors = _security_errors(overrides, (), provider_name, allow_host_access)
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


_HOST_ACCESS = {key.lower() for key in HOST_ACCESS_OVERRIDE_KEYS}
_HOST_ACCESS_SECURITY_CONTEXT = {key.lower() for key in HOST_ACCESS_SECURITY_CONTEXT_KEYS}
_ALWAYS_REFUSED = {key.lower() for key in ALWAYS_REFUSED_OVERRIDE_KEYS}


def _security_errors(value: Any, path: tuple[str | int, ...], provider: str, allow: bool) -> list[FieldError]:
    """Walk objects and arrays for keys that could escalate privileges; a refused key is reported once and its
    subtree not searched further."""
    errors: list[FieldError] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_path = (*path, str(key))
            folded = str(key).lower()
            where = field_path("spec", "provider", "overrides", *key_path)
            if folded == "securitycontext":
                errors += _security_context_errors(item, where, key, provider, allow)
            elif folded in _HOST_ACCESS:
                if not allow:
                    errors.append(forbidden(where, _refused(key) + _host_access_hint(provider)))
            elif folded in _ALWAYS_REFUSED:
                errors.append(forbidden(where, _refused(key)))
            else:
                errors += _security_errors(item, key_path, provider, allow)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors += _security_errors(item, (*path, index), provider, allow)
    return errors


def _security_context_errors(value: Any, where: str, key: str, provider: str, allow: bool) -> list[FieldError]:
    """A ``securityContext``: refused as a whole, or with host access allowed, everything in it but
    :data:`HOST_ACCESS_SECURITY_CONTEXT_KEYS`."""
    only_host_access = isinstance(value, Mapping) and bool(value) and all(
        str(inner).lower() in _HOST_ACCESS_SECURITY_CONTEXT for inner in value)
    if not allow:
        return [forbidden(where, _refused(key) + (_host_access_hint(provider) if only_host_access else ""))]
    if not isinstance(value, Mapping):
        return [invalid(where, _redacted(value), "a securityContext override must be an object")]
    allowed = ", ".join(HOST_ACCESS_SECURITY_CONTEXT_KEYS)
    return [
        forbidden(f"{where}.{inner}", f"{_refused(f'{key}.{inner}')}; host access allows only {allowed} here")
        for inner in value
        if str(inner).lower() not in _HOST_ACCESS_SECURITY_CONTEXT
    ]


def _refused(key: str) -> str:
    return f'overriding "{key}" is not allowed for security reasons'


def _host_access_hint(provider: str) -> str:
    annotation = f'{ANNOTATION_ALLOW_HOST_ACCESS}: "true"'
    if provider:
        return (f'; it gives pods access to the host, which a cluster admin can allow for provider "{provider}" '
                f'with the annotation {annotation} on its InferenceProviderConfig')
    return (f"; it gives pods access to the host, which a cluster admin can allow only for a named provider (set "
            f"spec.provider.name) with the annotation {annotation} on its InferenceProviderConfig")


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


__all__ = ["ALWAYS_REFUSED_OVERRIDE_KEYS", "HOST_ACCESS_OVERRIDE_KEYS", "HOST_ACCESS_SECURITY_CONTEXT_KEYS",
           "PROVIDER_TYPED_OVERRIDES", "SECURITY_OVERRIDE_KEYS", "SIZING_OVERRIDE_KEYS", "TypedOverride",
           "provider_allows_host_access", "validate_overrides"]
