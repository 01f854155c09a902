"""A provider's registration: :class:`Registration` keeps its InferenceProviderConfig applied and its status (ready,
version, heartbeat) current, and marks it not ready when the process stops."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from airunway.api.common import now
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client

log = logging.getLogger("airunway.providers")

HEARTBEAT_PERIOD = 60.0
SHIM_VERSION = "dev"  # replaced by the release build


def provider_version(name: str) -> str:
    return f"{name}-provider:{SHIM_VERSION}"



@dataclass
class ProviderConfig:
    """What a provider registers: its InferenceProviderConfig spec and annotations, and how readiness is judged."""

    name: str
    spec: dict[str, Any]
    annotations: dict[str, str] = field(default_factory=dict)
    upstream_crd_version: str | None = None
    readiness: Callable[[Client], Awaitable[bool]] | None = None
    """None: always ready while the process runs."""


class Registration:
    """Applies the provider's InferenceProviderConfig, heartbeats its status, and marks it not ready on stop."""

    def __init__(self, client: Client, config: ProviderConfig, heartbeat: float = HEARTBEAT_PERIOD) -> None:
        self.client = client
        self.config = config
        self.heartbeat = heartbeat

    async def register(self) -> None:
        cfg = self.config
        existing = await self.client.get_or_none(INFERENCE_PROVIDER_CONFIGS, cfg.name)
        if existing is None:
            obj = {
                "apiVersion": INFERENCE_PROVIDER_CONFIGS.api_version,
                "kind": INFERENCE_PROVIDER_CONFIGS.kind,
                "metadata": {"name": cfg.name, "annotations": dict(cfg.annotations)},
                "spec": copy.deepcopy(cfg.spec),
            }
            await self.client.create(INFERENCE_PROVIDER_CONFIGS, obj)
        else:
            existing["spec"] = copy.deepcopy(cfg.spec)
            existing["metadata"]["annotations"] = {**(existing["metadata"].get("annotations") or {}), **cfg.annotations}
            await self.client.update(INFERENCE_PROVIDER_CONFIGS, existing)
        await self.write_status(await self.is_ready())

    async def is_ready(self) -> bool:
        if self.config.readiness is None:
            return True
        try:
            return await self.config.readiness(self.client)
        except Exception as exc:  # noqa: BLE001 - not ready, and say why
            log.warning("readiness check failed", extra={"provider": self.config.name, "error": str(exc)})
            return False

    async def write_status(self, ready: bool) -> None:
        status: dict[str, Any] = {
            "ready": ready,
            "version": provider_version(self.config.name),
            "lastHeartbeat": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self.config.upstream_crd_version:
            status["upstreamCRDVersion"] = self.config.upstream_crd_version
        await self.client.patch_merge(INFERENCE_PROVIDER_CONFIGS, self.config.name, {"status": status},
                                      subresource="status")

    async def run(self) -> None:
        """Register, then heartbeat until cancelled; on the way out mark the provider not ready."""
        await self.register()
        try:
            while True:
                await asyncio.sleep(self.heartbeat)
                try:
                    await self.write_status(await self.is_ready())
                except Exception as exc:  # noqa: BLE001 - the next beat tries again
                    log.warning("heartbeat failed", extra={"provider": self.config.name, "error": str(exc)})
        finally:
            try:
                await asyncio.shield(self.write_status(False))
            except Exception as exc:  # noqa: BLE001
                log.warning("could not mark the provider not ready", extra={"provider": self.config.name,
                                                                              "error": str(exc)})

