"""The manager: runs informers, controllers, probe and metrics servers, and leader election, in one process.

Start order: probe/metrics servers and runnables that do not need leadership, then the informers (on every
replica, so a new leader starts with a warm cache), then — once this replica leads, or at once without leader
election — the controllers and the other runnables.

Stopping:
- :meth:`Manager.stop` (also on SIGTERM/SIGINT) is graceful: controllers take no new keys and finish the
  reconciles in flight (up to ``graceful_shutdown_timeout``), then the Lease is released so another replica
  takes over at once, then informers and servers stop; :meth:`Manager.run` returns.
- Losing leadership cancels every controller and leader-only runnable immediately (a replica that does not
  lead never reconciles) and :meth:`Manager.run` raises :class:`LeaderElectionLost`; exit and let Kubernetes
  restart the process, as controller-runtime does.
- Cancelling the task running :meth:`Manager.run` stops everything at once without releasing the Lease,
  like a crash: the others wait for the lease to expire.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Sequence

from airunway.kube import metrics
from airunway.kube.client import Client
from airunway.kube.controller import Controller, Predicate, Reconciler
from airunway.kube.health import Check, ProbeServer, TokenReviewAuth, parse_address, self_signed_tls, server_tls
from airunway.kube.informer import Cache
from airunway.kube.leader import LeaderElector
from airunway.kube.resources import Resource
from airunway.kube.selectors import Selector
from airunway.kube.workqueue import RateLimiter

log = logging.getLogger("airunway.kube.manager")

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class LeaderElectionLost(RuntimeError):
    """This replica stopped leading; its controllers were stopped. Exit and restart."""


@dataclass
class LeaderElection:
    """Leader election settings (controller-runtime's defaults)."""

    name: str  # the Lease name, e.g. "2038fe6a.airunway.ai"
    namespace: str | None = None  # default: $POD_NAMESPACE, else the pod's service-account namespace
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    identity: str | None = None  # default: <hostname>_<uuid>
    release_on_stop: bool = True


@dataclass
class MetricsServing:
    """How ``/metrics`` is served: plain HTTP, or HTTPS with TokenReview/SubjectAccessReview checks."""

    address: str = ":8443"
    secure: bool = True
    cert_dir: Path | None = None  # holds cert_name and key_name; default: a generated self-signed pair
    cert_name: str = "tls.crt"
    key_name: str = "tls.key"


def _default_lease_namespace() -> str:
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"]
    if SERVICE_ACCOUNT_NAMESPACE.exists():
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    raise ValueError(
        "leader election needs a namespace for its Lease: set POD_NAMESPACE or pass the namespace "
        "(for example --leader-election-namespace) when running outside a cluster"
    )


class Manager:
    def __init__(
        self,
        client: Client,
        *,
        namespace: str | None = None,
        leader_election: LeaderElection | None = None,
        health_address: str | None = ":8081",
        metrics: MetricsServing | None = None,
        graceful_shutdown_timeout: float = 30.0,
        watch_timeout: int | None = None,
    ):
        """``namespace`` limits the cache to one namespace; ``health_address``/``metrics`` None (or "0") disable."""
        self.client = client
        self.cache = Cache(client, namespace=namespace, watch_timeout=watch_timeout)
        self.controllers: list[Controller] = []
        self.graceful_shutdown_timeout = graceful_shutdown_timeout
        self.health_address = health_address if parse_address(health_address) else None
        self.metrics = metrics if metrics and parse_address(metrics.address) else None
        self.healthz_checks: dict[str, Check] = {"ping": lambda: None}
        self.readyz_checks: dict[str, Check] = {"informers": self._informers_synced}
        self.health_server: ProbeServer | None = None
        self.metrics_server: ProbeServer | None = None
        self._runnables: list[tuple[str, Callable[[], Awaitable[None]], bool]] = []
        self._stop_requested: asyncio.Event | None = None
        self._work: list[asyncio.Task] = []
        self.leader_election = leader_election
        self.elector: LeaderElector | None = None
        if leader_election:
            le = leader_election
            self.elector = LeaderElector(
                client, name=le.name, namespace=le.namespace or _default_lease_namespace(), identity=le.identity,
                lease_duration=le.lease_duration, renew_deadline=le.renew_deadline, retry_period=le.retry_period,
                on_lost=self._cancel_work,
            )
            self.healthz_checks["leader-election"] = lambda: self.elector.healthy() or "the lease is not being renewed"

    # -- building --------------------------------------------------------------------------------------

    def controller(
        self,
        name: str,
        reconcile: Reconciler,
        *,
        for_: Resource,
        workers: int = 1,
        rate_limiter: RateLimiter | None = None,
        predicates: Sequence[Predicate] = (),
        namespace: str | None = None,
        label_selector: str | dict | Selector | None = None,
    ) -> Controller:
        """A new controller for ``for_`` objects, run by this manager; chain ``.owns(…)``/``.watches(…)`` on it."""
        if any(c.name == name for c in self.controllers):
            raise ValueError(f"a controller named {name!r} already exists")
        ctrl = Controller(
            name, reconcile, cache=self.cache, for_=for_, workers=workers, rate_limiter=rate_limiter,
            predicates=predicates, namespace=namespace, label_selector=label_selector,
        )
        self.controllers.append(ctrl)
        return ctrl

    def add_runnable(self, fn: Callable[[], Awaitable[None]], *, name: str = "", needs_leader: bool = True) -> None:
        """Run ``fn()`` with the controllers (``needs_leader``) or from the start on every replica."""
        self._runnables.append((name or getattr(fn, "__name__", "runnable"), fn, needs_leader))

    def add_healthz_check(self, name: str, check: Check) -> None:
        self.healthz_checks[name] = check

    def add_readyz_check(self, name: str, check: Check) -> None:
        self.readyz_checks[name] = check

    # -- state -----------------------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        return self.elector.is_leader if self.elector else self._work != []

    def _informers_synced(self) -> str | None:
        waiting = self.cache.unsynced()
        return None if not waiting else "not synced yet: " + ", ".join(str(i.resource) for i in waiting)

    # -- running ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to shut down gracefully (safe to call from a signal handler or before run starts)."""
        if self._stop_requested is None:
            self._stop_requested = asyncio.Event()
        self._stop_requested.set()

    def _cancel_work(self) -> None:
        for task in self._work:
            task.cancel()

    async def _start_servers(self) -> None:
        if self.health_address:
            same = self.metrics is not None and not self.metrics.secure and self.metrics.address == self.health_address
            self.health_server = ProbeServer(
                self.health_address, healthz=self.healthz_checks, readyz=self.readyz_checks,
                registry=metrics.registry if same else None,
            )
            await self.health_server.start()
            if same:
                self.metrics_server = self.health_server
        if self.metrics and self.metrics_server is None:
            ssl_context, authorize = None, None
            if self.metrics.secure:
                if self.metrics.cert_dir:
                    d = Path(self.metrics.cert_dir)
                    ssl_context = server_tls(d / self.metrics.cert_name, d / self.metrics.key_name)
                else:
                    ssl_context = self_signed_tls(Path(tempfile.mkdtemp(prefix="airunway-metrics-")))
                authorize = TokenReviewAuth(self.client)
            self.metrics_server = ProbeServer(
                self.metrics.address, registry=metrics.registry, ssl_context=ssl_context, authorize=authorize
            )
            await self.metrics_server.start()

    async def _stop_servers(self) -> None:
        for server in {id(s): s for s in (self.health_server, self.metrics_server) if s}.values():
            await server.stop()

    def _start(self, leader_only: bool) -> list[asyncio.Task]:
        tasks = []
        if leader_only:
            tasks += [asyncio.create_task(c.run(), name=f"controller {c.name}") for c in self.controllers]
        tasks += [
            asyncio.create_task(fn(), name=name) for name, fn, needs_leader in self._runnables
            if needs_leader == leader_only
        ]
        return tasks

    async def run(self, *, handle_signals: bool = True) -> None:
        """Run until :meth:`stop` or a signal (returns), lost leadership (raises) or cancellation (re-raises)."""
        loop = asyncio.get_running_loop()
        if self._stop_requested is None:
            self._stop_requested = asyncio.Event()
        signals = []
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                try:
                    loop.add_signal_handler(sig, self.stop)
                    signals.append(sig)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass  # not the main thread: the caller handles signals
        stop_wait = asyncio.create_task(self._stop_requested.wait())
        elector_task: asyncio.Task | None = None
        background: list[asyncio.Task] = []
        try:
            await self._start_servers()
            background = self._start(leader_only=False)
            self.cache.start()
            watched: set[asyncio.Task] = {stop_wait, *background}
            if self.elector:
                elector_task = asyncio.create_task(self.elector.run(), name="leader election")
                elected = asyncio.create_task(self.elector.elected.wait())
                try:
                    await self._wait(watched | {elector_task, elected}, until=elected)
                finally:
                    elected.cancel()
                if elector_task.done():
                    raise LeaderElectionLost("leader election ended before this replica led")
                watched.add(elector_task)
            if not self._stop_requested.is_set():
                self._work = self._start(leader_only=True)
                log.info("started controllers", extra={"controllers": [c.name for c in self.controllers]})
                await self._wait(watched | set(self._work), until=None)
            await self._graceful_stop(elector_task)
        finally:
            for task in [*self._work, *background, stop_wait, *([elector_task] if elector_task else [])]:
                task.cancel()
            await asyncio.gather(*self._work, *background, stop_wait, *([elector_task] if elector_task else []),
                                 return_exceptions=True)
            self._work = []
            await self.cache.stop()
            await self._stop_servers()
            for sig in signals:
                loop.remove_signal_handler(sig)

    async def _wait(self, tasks: set[asyncio.Task], until: asyncio.Task | None) -> None:
        """Wait until a stop is requested or ``until`` finishes; raise if leadership is lost or a task fails."""
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if self.elector and self.elector.lost.is_set():
                raise LeaderElectionLost(f"lost the lease {self.elector.namespace}/{self.elector.name}")
            if self._stop_requested.is_set() or (until is not None and until in done):
                return
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()

    async def _graceful_stop(self, elector_task: asyncio.Task | None) -> None:
        log.info("shutting down", extra={"timeout": self.graceful_shutdown_timeout})
        results = await asyncio.gather(
            *(c.shutdown(self.graceful_shutdown_timeout) for c in self.controllers), return_exceptions=True
        )
        if any(r is not True for r in results):
            log.warning("some reconciles were cut off by the shutdown timeout")
        self._cancel_work()
        await asyncio.gather(*self._work, return_exceptions=True)
        if self.elector and elector_task:
            elector_task.cancel()
            await asyncio.gather(elector_task, return_exceptions=True)
            if self.leader_election and self.leader_election.release_on_stop:
                await self.elector.release()


@dataclass
class ManagerOptions:
    """The settings every controller process shares (flags of the same names), and the manager they make."""

    kubeconfig: str | None = None
    metrics_bind_address: str = "0"
    health_probe_bind_address: str = ":8081"
    leader_elect: bool = False
    leader_election_namespace: str | None = None
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    metrics_secure: bool = True
    metrics_cert_path: str = ""
    metrics_cert_name: str = "tls.crt"
    metrics_cert_key: str = "tls.key"
    max_concurrent_reconciles: int = 4
    watch_timeout: int | None = None  # seconds a watch stays open before it is renewed (default: 5–10 min)

    def manager(self, client: Client, lease_name: str, lease_namespace: str | None = None) -> Manager:
        """A manager for ``client`` with these settings; ``lease_name`` names the leader-election Lease."""
        leader_election = None
        if self.leader_elect:
            leader_election = LeaderElection(
                lease_name,
                namespace=self.leader_election_namespace or lease_namespace or None,
                lease_duration=self.lease_duration,
                renew_deadline=self.renew_deadline,
                retry_period=self.retry_period,
            )
        metrics = MetricsServing(
            address=self.metrics_bind_address,
            secure=self.metrics_secure,
            cert_dir=Path(self.metrics_cert_path) if self.metrics_cert_path else None,
            cert_name=self.metrics_cert_name,
            key_name=self.metrics_cert_key,
        )
        return Manager(
            client, leader_election=leader_election, health_address=self.health_probe_bind_address,
            metrics=metrics, watch_timeout=self.watch_timeout,
        )
