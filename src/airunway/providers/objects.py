"""What goes into the objects a provider renders for a ModelDeployment: its labels, environment and engine flags,
``spec.provider.overrides`` merged in, and who owns an existing object."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airunway.api.modeldeployment import ModelDeployment
from airunway.dicts import deep_merge
from airunway.policy.renderable import is_engine_arg_key

BLOCKED_OVERRIDE_KEYS = ("apiVersion", "kind", "metadata", "status")


class TransformError(ValueError):
    """The deployment cannot be rendered into this provider's objects (message says why)."""


def owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def describe_owners(obj: Mapping[str, Any]) -> str:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    if not refs:
        return "no owner references"
    return ", ".join(f"owned by {r.get('kind')}/{r.get('name')} (uid {r.get('uid')})" for r in refs)


def apply_overrides(obj: dict[str, Any], overrides: Any) -> dict[str, Any]:
    """``spec.provider.overrides`` deep-merged into a rendered object; top-level identity keys are refused."""
    if overrides is None:
        return obj
    if isinstance(overrides, (str, bytes)):
        try:
            overrides = json.loads(overrides)
        except ValueError as exc:
            raise TransformError(f"invalid provider overrides: {exc}") from exc
    if not isinstance(overrides, Mapping):
        raise TransformError("invalid provider overrides: must be a JSON object")
    for key in BLOCKED_OVERRIDE_KEYS:
        if key in overrides:
            raise TransformError(f'overriding "{key}" is not allowed')
    return deep_merge(obj, overrides)


def sorted_engine_args(args: Mapping[str, str] | None) -> list[str]:
    """``spec.engine.args`` as flags, keys sorted: ``--key value``, or ``--key`` for an empty value."""
    flags: list[str] = []
    for key in sorted(args or {}):
        validate_engine_arg_key(key)
        flags.append(f"--{key}")
        if args[key]:
            flags.append(args[key])
    return flags


def validate_engine_arg_key(key: str) -> None:
    if not is_engine_arg_key(key):
        raise TransformError(
            f'invalid engine arg key "{key}": must contain only alphanumeric characters, hyphens, and underscores'
        )


def render_env(md: ModelDeployment) -> list[dict[str, Any]]:
    """``spec.env`` (value, or a secret key reference) and ``HF_TOKEN`` from the HuggingFace token secret."""
    env: list[dict[str, Any]] = []
    for var in md.spec.env or []:
        item: dict[str, Any] = {"name": var.name}
        if var.value:
            item["value"] = var.value
        ref = var.value_from.secret_key_ref if var.value_from else None
        if ref is not None:
            item["valueFrom"] = {"secretKeyRef": {"name": ref.name, "key": ref.key}}
        env.append(item)
    secret = md.spec.secrets.hugging_face_token if md.spec.secrets else None
    if secret:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "HF_TOKEN"}}})
    return env


def standard_labels(md: ModelDeployment) -> dict[str, str]:
    """Labels on every object a provider creates: managed-by, the deployment, and the user's airunway.ai/ labels."""
    labels = {k: v for k, v in (md.metadata.labels or {}).items() if k.startswith("airunway.ai/")}
    labels.update({"airunway.ai/managed-by": "airunway", "airunway.ai/deployment": md.name})
    return labels

