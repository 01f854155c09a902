"""Small helpers over JSON-like dicts (decoded Kubernetes objects), for every layer."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def get_path(data: Any, *keys: str) -> Any:
    """``data[keys[0]][keys[1]]…``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def merge_patch(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) turning ``before`` into ``after``: only what changed; None deletes."""
    patch: dict[str, Any] = {}
    for key, value in after.items():
        old = before.get(key)
        if old == value and key in before:
            continue
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            nested = merge_patch(old, value)
            if nested:
                patch[key] = nested
        else:
            patch[key] = value
    for key in before:
        if key not in after:
            patch[key] = None
    return patch


def deep_merge(base: Any, overlay: Any) -> Any:
    """``overlay`` merged into ``base``: maps merge recursively, anything else (lists included) replaces."""
    if isinstance(base, Mapping) and isinstance(overlay, Mapping):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overlay)


__all__ = ["deep_merge", "get_path", "merge_patch"]
