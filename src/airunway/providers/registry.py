"""Every provider this installation runs, by name: ``airunway provider NAME``, the local stack and the shim
manifests read it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from airunway.providers import dynamo, kaito, kuberay, llmd, vllm
from airunway.providers.descriptor import ProviderDescriptor

PROVIDERS: Mapping[str, ProviderDescriptor[Any]] = MappingProxyType({
    descriptor.name: descriptor
    for descriptor in (vllm.PROVIDER, llmd.PROVIDER, kaito.PROVIDER, dynamo.PROVIDER, kuberay.PROVIDER)
})


class UnknownProvider(ValueError):
    """No provider of that name (the message lists the known ones)."""


def provider(name: str) -> ProviderDescriptor[Any]:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UnknownProvider(f"unknown provider {name!r}: choose one of {', '.join(PROVIDERS)}") from None
