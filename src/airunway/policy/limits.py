"""The ceilings admission enforces on a ModelDeployment's size, and the quantity check behind them."""

from __future__ import annotations

from airunway.policy.fielderrors import FieldError, invalid
from airunway.policy.quantity import parse_quantity

MAX_GPU_COUNT = 64
MAX_REPLICAS = 32
MAX_CPU = "512"
MAX_MEMORY = "4Ti"
MAX_NAME_LENGTH = 253
"""Kubernetes' limit on object names (DNS subdomains)."""
DYNAMO_PROVIDER = "dynamo"


def validate_resource_quantity(value: str | None, maximum: str, path: str) -> list[FieldError]:
    """An unparsable quantity, or one above ``maximum``, as an error at ``path``; nothing for an empty value."""
    if not value:
        return []
    try:
        amount = parse_quantity(value)
    except ValueError:
        return [invalid(path, value, "invalid resource quantity")]
    if amount > parse_quantity(maximum):
        return [invalid(path, value, f"exceeds maximum allowed ({maximum})")]
    return []


__all__ = ["DYNAMO_PROVIDER", "MAX_CPU", "MAX_GPU_COUNT", "MAX_MEMORY", "MAX_NAME_LENGTH", "MAX_REPLICAS",
           "validate_resource_quantity"]
