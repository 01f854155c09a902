"""The curated model catalog shipped with the package (``airunway/server/data/models.json``)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _catalog() -> tuple[dict[str, Any], ...]:
    text = resources.files("airunway.server").joinpath("data", "models.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["models"])


def models() -> list[dict[str, Any]]:
    return [dict(m) for m in _catalog()]


def find(model_id: str) -> dict[str, Any] | None:
    return next((dict(m) for m in _catalog() if m["id"] == model_id), None)


def min_gpus(model_id: str) -> int:
    """The GPUs per worker the catalog says a model needs (1 for models it does not list)."""
    found = find(model_id)
    value = found.get("minGpus") if found else None
    return value if isinstance(value, int) else 1
