"""The dashboard's settings, kept in the ConfigMap ``airunway-config`` (key ``config.json``) of
``airunway-system`` so that every dashboard replica, and the next one, sees them.

Reading is forgiving: no ConfigMap, an unreadable one or bad JSON all mean the defaults. The settings are cached
after the first read and the cache changes only with :meth:`ConfigStore.update`, as upstream does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from airunway.kube.client import Client
from airunway.kube.errors import AlreadyExists, ApiError, Forbidden, NotFound
from airunway.kube.resources import CONFIGMAPS, NAMESPACES

log = logging.getLogger("airunway.server.settings")

CONFIG_NAMESPACE = "airunway-system"
CONFIG_MAP = "airunway-config"
CONFIG_KEY = "config.json"
LABELS = {"app.kubernetes.io/name": "airunway", "app.kubernetes.io/managed-by": "airunway"}


class SaveFailed(Exception):
    pass


class ConfigStore:
    def __init__(self, client: Client, default_namespace: str = CONFIG_NAMESPACE,
                 config_namespace: str = CONFIG_NAMESPACE):
        self.client = client
        self.default_namespace = default_namespace
        self.config_namespace = config_namespace
        self._cached: dict | None = None
        self._lock = asyncio.Lock()

    def defaults(self) -> dict:
        return {"defaultNamespace": self.default_namespace}

    async def get(self) -> dict:
        if self._cached is None:
            self._cached = await self._read()
        return dict(self._cached)

    async def namespace(self) -> str:
        """The namespace of deployment requests that name none."""
        return (await self.get()).get("defaultNamespace") or CONFIG_NAMESPACE

    def clear(self) -> None:
        self._cached = None

    async def _read(self) -> dict:
        try:
            cm = await self.client.get(CONFIGMAPS, CONFIG_MAP, self.config_namespace)
            raw = (cm.get("data") or {}).get(CONFIG_KEY)
            parsed = json.loads(raw) if raw else None
        except (ApiError, OSError, ValueError) as exc:
            if not isinstance(exc, NotFound):
                log.warning("cannot read the settings; using the defaults", extra={"error": str(exc)})
            parsed = None
        return parsed if isinstance(parsed, dict) else self.defaults()

    async def update(self, changes: dict[str, Any], client: Client | None = None) -> dict:
        """Merge ``changes`` into the settings and save them with ``client`` (the caller's; default the
        dashboard's own); the settings saved. A refusal by the cluster's RBAC is raised as it is
        (:class:`~airunway.kube.errors.Forbidden`), so the caller learns which permission is missing."""
        writer = client or self.client
        async with self._lock:
            merged = {**(await self.get()), **{k: v for k, v in changes.items() if v is not None}}
            try:
                await self._write(writer, merged)
            except Forbidden:
                raise
            except (ApiError, OSError) as exc:
                raise SaveFailed(f"Failed to save configuration: {getattr(exc, 'message', '') or exc}") from exc
            self._cached = merged
            return dict(merged)

    async def _ensure_namespace(self, writer: Client) -> None:
        try:
            await writer.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                             "metadata": {"name": self.config_namespace, "labels": LABELS}})
        except AlreadyExists:
            pass

    async def _write(self, writer: Client, config: dict) -> None:
        """Replace the ConfigMap, else create it (and its namespace when missing): the writer needs rights on the
        ConfigMap alone while the namespace exists."""
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIG_MAP, "namespace": self.config_namespace, "labels": LABELS},
            "data": {CONFIG_KEY: json.dumps(config, indent=2)},
        }
        try:
            await writer.update(CONFIGMAPS, cm)
            return
        except NotFound:
            pass
        try:
            await writer.create(CONFIGMAPS, cm)
        except NotFound:  # the namespace is missing
            await self._ensure_namespace(writer)
            await writer.create(CONFIGMAPS, cm)
