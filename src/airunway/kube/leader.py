"""Leader election on a ``coordination.k8s.io/v1`` Lease, with client-go's rules.

A candidate takes the Lease when nobody holds it, or when its record has not changed for
``leaseDurationSeconds`` as measured on the candidate's own clock since it last saw it change (so clock skew
between replicas does not matter). The leader renews every ``retry_period``; if it cannot renew within
``renew_deadline`` (shorter than the lease duration) it gives up leadership at once, before anyone else may
take the Lease. Every write carries the resourceVersion it read, so two candidates can never both win.

:meth:`LeaderElector.run` returns when leadership is lost (``lost`` is set); the caller must stop all work
that needs leadership before then. :meth:`LeaderElector.release` hands the Lease over on a clean shutdown;
a crashed leader never releases, and the others wait for the lease to expire.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
import uuid
from datetime import datetime, timezone
from typing import Callable

from airunway.kube import metrics
from airunway.kube.client import Client
from airunway.kube.errors import AlreadyExists, ApiError, Conflict, NotFound
from airunway.kube.resources import LEASES

log = logging.getLogger("airunway.kube.leader")


def default_identity() -> str:
    """``<hostname>_<uuid>``, unique per process like controller-runtime's."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def _micro_time() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        client: Client,
        *,
        name: str,
        namespace: str,
        identity: str | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        on_lost: Callable[[], None] | None = None,
    ):
        """``on_lost`` is called synchronously the moment leadership is lost (to cancel work at once)."""
        if not (lease_duration > renew_deadline > retry_period > 0):
            raise ValueError("leader election needs lease_duration > renew_deadline > retry_period > 0")
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity or default_identity()
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_lost = on_lost
        self.elected = asyncio.Event()
        self.lost = asyncio.Event()
        self._leading = False
        self._observed_spec: dict | None = None
        self._observed_at = 0.0  # monotonic time the record last changed, as we saw it
        self._last_renew = 0.0
        self._status = metrics.leader_election_master_status.labels(name)
        self._status.set(0)

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def holder(self) -> str:
        """Who holds the Lease, as last read ("" if nobody or unknown)."""
        return (self._observed_spec or {}).get("holderIdentity") or ""

    def healthy(self) -> bool:
        """False if we lead but have not renewed for well past the renew deadline (a stuck renew loop)."""
        return not self._leading or time.monotonic() - self._last_renew < self.renew_deadline + 20

    # -- the loop --------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Acquire, then renew until leadership is lost (then return). Cancelling stops without releasing."""
        log.info("waiting for leadership", extra={"lease": f"{self.namespace}/{self.name}", "identity": self.identity})
        while not await self._attempt():
            await asyncio.sleep(self.retry_period * random.uniform(1.0, 1.2))
        self._set_leading(True)
        log.info("became leader", extra={"lease": f"{self.namespace}/{self.name}", "identity": self.identity})
        try:
            await self._renew_loop()
        finally:
            if self._leading and not self.lost.is_set():  # cancelled while leading
                self._leading = False
                self._status.set(0)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.retry_period)
            deadline = self._last_renew + self.renew_deadline
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self._lose("could not renew the lease before the renew deadline")
                try:
                    renewed = await asyncio.wait_for(self._attempt(), remaining)
                except asyncio.TimeoutError:
                    return self._lose("renewing the lease timed out")
                if renewed:
                    break
                if self.holder and self.holder != self.identity:
                    return self._lose(f"the lease is now held by {self.holder}")
                await asyncio.sleep(min(self.retry_period, max(deadline - time.monotonic(), 0)))

    def _set_leading(self, leading: bool) -> None:
        self._leading = leading
        self._status.set(1 if leading else 0)
        if leading:
            self.elected.set()

    def _lose(self, why: str) -> None:
        self._set_leading(False)
        self.lost.set()
        if self.on_lost is not None:
            self.on_lost()
        log.error("leadership lost", extra={"lease": f"{self.namespace}/{self.name}", "identity": self.identity, "reason": why})

    # -- one try ---------------------------------------------------------------------------------------

    async def _attempt(self) -> bool:
        """One try to acquire or renew; True if we hold the Lease afterwards. Errors count as a failed try."""
        try:
            return await self._try_acquire_or_renew()
        except asyncio.CancelledError:
            raise
        except (ApiError, OSError, asyncio.TimeoutError, ValueError) as exc:
            log.warning("lease request failed", extra={"lease": f"{self.namespace}/{self.name}", "error": str(exc) or type(exc).__name__})
            return False
        except Exception as exc:  # noqa: BLE001 - aiohttp errors and the like; never crash the elector
            log.warning("lease request failed", extra={"lease": f"{self.namespace}/{self.name}", "error": repr(exc)})
            return False

    def _observe(self, spec: dict) -> None:
        if spec != self._observed_spec:
            self._observed_spec = spec
            self._observed_at = time.monotonic()

    def _my_spec(self, transitions: int) -> dict:
        now = _micro_time()
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, round(self.lease_duration)),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    async def _try_acquire_or_renew(self) -> bool:
        try:
            lease = await self.client.get(LEASES, self.name, self.namespace)
        except NotFound:
            body = {
                "apiVersion": LEASES.api_version,
                "kind": LEASES.kind,
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._my_spec(0),
            }
            try:
                created = await self.client.create(LEASES, body)
            except (AlreadyExists, Conflict):
                return False
            self._renewed(created)
            return True

        spec = lease.get("spec") or {}
        self._observe(spec)
        holder = spec.get("holderIdentity") or ""
        duration = spec.get("leaseDurationSeconds") or self.lease_duration
        if holder and holder != self.identity and time.monotonic() < self._observed_at + duration:
            return False  # someone else holds a lease that is still valid

        if holder == self.identity and self._leading:
            new_spec = dict(spec, renewTime=_micro_time(), leaseDurationSeconds=max(1, round(self.lease_duration)))
        else:
            new_spec = self._my_spec((spec.get("leaseTransitions") or 0) + (1 if holder != self.identity else 0))
        lease["spec"] = new_spec
        try:
            updated = await self.client.update(LEASES, lease)  # carries metadata.resourceVersion: optimistic
        except Conflict:
            return False
        self._renewed(updated)
        return True

    def _renewed(self, lease: dict) -> None:
        self._observe(lease.get("spec") or {})
        self._last_renew = time.monotonic()

    # -- release ---------------------------------------------------------------------------------------

    async def release(self) -> bool:
        """Give the Lease up, if we still hold it, so another replica can take it at once.

        Call it only after stopping :meth:`run` and all work that needed leadership.
        """
        self._set_leading(False)
        if self.lost.is_set() or not self.elected.is_set():
            return False
        try:
            lease = await self.client.get(LEASES, self.name, self.namespace)
            spec = lease.get("spec") or {}
            if spec.get("holderIdentity") != self.identity:
                return False
            now = _micro_time()
            lease["spec"] = {
                "leaseDurationSeconds": 1,
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": spec.get("leaseTransitions") or 0,
            }
            await self.client.update(LEASES, lease)
        except (ApiError, OSError, asyncio.TimeoutError) as exc:
            log.warning("could not release the lease", extra={"lease": f"{self.namespace}/{self.name}", "error": str(exc)})
            return False
        log.info("released the lease", extra={"lease": f"{self.namespace}/{self.name}", "identity": self.identity})
        return True
