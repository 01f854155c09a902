"""Whether the cluster serves the Gateway API Inference Extension: InferencePools and HTTPRoutes.

A positive answer is kept; a negative one is asked again after a while (``recheck``), so that CRDs installed
later turn the integration on without a restart. :meth:`Detector.refresh` forgets the answer at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from airunway.api.resources import HTTP_ROUTES, INFERENCE_POOLS
from airunway.kube.client import Client
from airunway.kube.resources import Resource

log = logging.getLogger("airunway.controller.gateway")

NEGATIVE_RECHECK_SECONDS = 60.0
REQUIRED: tuple[Resource, ...] = (INFERENCE_POOLS, HTTP_ROUTES)


class Detector:
    def __init__(
        self, client: Client, *, recheck: float = NEGATIVE_RECHECK_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.recheck = recheck
        self._clock = clock
        self._available: bool | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    def known_available(self) -> bool:
        """The last answer, without asking the API server."""
        return bool(self._available)

    def refresh(self) -> None:
        """Forget the answer; the next :meth:`available` asks again (after an API said "no such kind")."""
        self._available = None

    async def available(self) -> bool:
        if self._available or (self._available is False and self._clock() - self._checked_at < self.recheck):
            return bool(self._available)
        async with self._lock:
            if self._available is None or (self._available is False and self._clock() - self._checked_at >= self.recheck):
                before = self._available
                self._available = await self._serves_all()
                self._checked_at = self._clock()
                if self._available != before:
                    log.info(
                        "Gateway API Inference Extension " + ("detected" if self._available else "not installed"),
                        extra={"available": self._available},
                    )
        return bool(self._available)

    async def _serves_all(self) -> bool:
        for resource in REQUIRED:
            try:
                listing = await self.client.request("GET", f"/apis/{resource.api_version}")
            except Exception:  # noqa: BLE001 - any discovery failure means "not available"
                return False
            if not any(r.get("name") == resource.plural for r in listing.get("resources") or []):
                return False
        return True
