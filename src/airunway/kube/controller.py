"""Controllers: informer events become keys on a work queue; workers reconcile keys.

A reconciler is ``async def reconcile(key: Key) -> Result | None``. It reads the whole object (usually from the
cache), makes the world match it and returns; it is level-triggered, so it does not care which event woke it.

- Raising an exception logs it and retries the key with per-key exponential backoff; a success resets it.
- ``Result(requeue_after=30)`` reconciles the key again in 30 s; ``Result(requeue=True)`` again after backoff.
- :class:`TerminalError` is logged and counted but not retried (the input must change first).
- A key is never reconciled by two workers at once; a burst of events for one key becomes one reconcile.

``Controller(name, reconcile, cache=…, for_=RESOURCE)`` reconciles objects of ``for_``;
:meth:`Controller.owns` also reconciles the owner when an owned object changes, and :meth:`Controller.watches`
maps any other object to the keys to reconcile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Sequence

from airunway.kube import metrics
from airunway.kube.errors import ApiError
from airunway.kube.informer import Cache, Informer
from airunway.kube.resources import Key, Resource, group_of
from airunway.kube.selectors import Selector
from airunway.kube.workqueue import RateLimiter, ShutDown, WorkQueue

log = logging.getLogger("airunway.kube.controller")


@dataclass(frozen=True)
class Result:
    """What a reconcile asks for next: nothing (default), a retry after ``requeue_after`` seconds, or after backoff."""

    requeue_after: float | None = None
    requeue: bool = False


class TerminalError(Exception):
    """A reconcile error that retrying cannot fix; the key waits for the next change."""


Reconciler = Callable[[Key], Awaitable["Result | None"]]
MapFunc = Callable[[dict], "Iterable[Key] | None"]


# -- predicates --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predicate:
    """Filters events before they enqueue anything; a missing function lets that kind of event through."""

    create: Callable[[dict], bool] | None = None
    update: Callable[[dict, dict], bool] | None = None
    delete: Callable[[dict], bool] | None = None


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def generation_changed() -> Predicate:
    """Updates only when ``metadata.generation`` changed (spec edits, not status writes)."""
    return Predicate(update=lambda old, new: _meta(old).get("generation") != _meta(new).get("generation"))


def labels_changed() -> Predicate:
    return Predicate(update=lambda old, new: _meta(old).get("labels") != _meta(new).get("labels"))


def annotations_changed() -> Predicate:
    return Predicate(update=lambda old, new: _meta(old).get("annotations") != _meta(new).get("annotations"))


def any_of(*predicates: Predicate) -> Predicate:
    """Lets an event through if any of ``predicates`` does."""

    def one(kind: str):
        def check(*args: Any) -> bool:
            return any(getattr(p, kind) is None or getattr(p, kind)(*args) for p in predicates)

        return check

    return Predicate(create=one("create"), update=one("update"), delete=one("delete"))


# -- mapping events to keys --------------------------------------------------------------------------------


def enqueue_object(obj: dict) -> list[Key]:
    """The object's own key."""
    return [Key.of(obj)]


def enqueue_owner(kind: str, group: str, *, namespaced: bool = True, controller_only: bool = True) -> MapFunc:
    """Map an object to its owner of ``kind`` in API ``group`` (from ``metadata.ownerReferences``).

    With ``controller_only`` only the reference marked ``controller: true`` counts, as with controller-runtime's
    ``Owns``. A namespaced owner is in the object's namespace; a cluster-scoped one has namespace ``""``.
    """

    def owners(obj: dict) -> list[Key]:
        namespace = (_meta(obj).get("namespace") or "") if namespaced else ""
        keys = []
        for ref in _meta(obj).get("ownerReferences") or []:
            if ref.get("kind") != kind or group_of(ref.get("apiVersion", "")) != group:
                continue
            if controller_only and not ref.get("controller"):
                continue
            keys.append(Key(namespace, ref["name"]))
        return keys

    return owners


# -- the controller ----------------------------------------------------------------------------------------


class Controller:
    def __init__(
        self,
        name: str,
        reconcile: Reconciler,
        *,
        cache: Cache,
        for_: Resource,
        workers: int = 1,
        rate_limiter: RateLimiter | None = None,
        predicates: Sequence[Predicate] = (),
        namespace: str | None = None,
        label_selector: str | dict | Selector | None = None,
    ):
        """Reconcile objects of ``for_`` (from ``cache``) with ``workers`` concurrent calls of ``reconcile``."""
        if workers < 1:
            raise ValueError("workers must be 1 or more")
        self.name = name
        self.reconcile = reconcile
        self.cache = cache
        self.for_ = for_
        self.workers = workers
        self.queue: WorkQueue[Key] = WorkQueue(name, rate_limiter)
        self._informers: list[Informer] = []
        self._tasks: list[asyncio.Task] = []
        self.informer = self._watch(
            cache.informer(for_, namespace=namespace, label_selector=label_selector), enqueue_object, predicates
        )

    def __repr__(self) -> str:
        return f"<Controller {self.name} for {self.for_}>"

    # -- wiring ----------------------------------------------------------------------------------------

    def owns(
        self,
        resource: Resource,
        *,
        predicates: Sequence[Predicate] = (),
        namespace: str | None = None,
        label_selector: str | dict | Selector | None = None,
    ) -> "Controller":
        """Reconcile the controlling owner (of this controller's kind) when an object of ``resource`` changes."""
        if not self.for_.kind:
            raise ValueError(f"{self.for_} has no kind; give the Resource a kind to use owns()")
        owner = enqueue_owner(self.for_.kind, self.for_.group, namespaced=self.for_.namespaced)
        return self.watches(resource, owner, predicates=predicates, namespace=namespace, label_selector=label_selector)

    def watches(
        self,
        resource: Resource,
        map_fn: MapFunc,
        *,
        predicates: Sequence[Predicate] = (),
        namespace: str | None = None,
        label_selector: str | dict | Selector | None = None,
    ) -> "Controller":
        """Reconcile the keys ``map_fn(obj)`` returns when an object of ``resource`` changes (old and new, on update)."""
        self._watch(
            self.cache.informer(resource, namespace=namespace, label_selector=label_selector), map_fn, predicates
        )
        return self

    def _watch(self, informer: Informer, map_fn: MapFunc, predicates: Sequence[Predicate]) -> Informer:
        def enqueue(obj: dict) -> None:
            for key in map_fn(obj) or ():
                self.queue.add(key)

        def on_add(obj: dict) -> None:
            if all(p.create is None or p.create(obj) for p in predicates):
                enqueue(obj)

        def on_update(old: dict, new: dict) -> None:
            if all(p.update is None or p.update(old, new) for p in predicates):
                enqueue(old)
                enqueue(new)

        def on_delete(obj: dict) -> None:
            if all(p.delete is None or p.delete(obj) for p in predicates):
                enqueue(obj)

        informer.add_handler(on_add, on_update, on_delete)
        if informer not in self._informers:
            self._informers.append(informer)
        return informer

    def enqueue(self, key: Key) -> None:
        """Reconcile ``key`` soon (for triggers that are not watch events)."""
        self.queue.add(key)

    # -- running ---------------------------------------------------------------------------------------

    def has_synced(self) -> bool:
        return all(inf.has_synced() for inf in self._informers)

    async def run(self) -> None:
        """Wait for this controller's informers to sync, then reconcile until shut down or cancelled.

        Cancelling stops at once (reconciles in flight are cancelled); :meth:`shutdown` lets them finish.
        """
        await asyncio.gather(*(inf.wait_synced() for inf in self._informers))
        metrics.max_concurrent_reconciles.labels(self.name).set(self.workers)
        metrics.active_workers.labels(self.name).set(0)
        log.info("starting workers", extra={"controller": self.name, "workers": self.workers})
        self._tasks = [
            asyncio.create_task(self._worker(), name=f"{self.name} worker {i}") for i in range(self.workers)
        ]
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
            log.info("workers stopped", extra={"controller": self.name})

    async def shutdown(self, timeout: float | None = None) -> bool:
        """Take no new keys; wait up to ``timeout`` for reconciles in flight. False if some had to be cut off."""
        drained = await self.queue.shutdown_with_drain(timeout)
        if not drained:
            for task in self._tasks:
                task.cancel()
        return drained

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self._process(key)
            finally:
                self.queue.done(key)

    async def _process(self, key: Key) -> None:
        start = time.monotonic()
        workers = metrics.active_workers.labels(self.name)
        workers.inc()
        try:
            result = await self.reconcile(key)
        except asyncio.CancelledError:
            raise
        except TerminalError as exc:
            self.queue.forget(key)
            self._count("error")
            metrics.terminal_reconcile_errors_total.labels(self.name).inc()
            log.error("reconcile failed; not retrying", extra={"controller": self.name, "key": str(key), "error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - every failure is retried with backoff
            self.queue.add_rate_limited(key)
            self._count("error")
            log.error(
                "reconcile failed; retrying with backoff",
                exc_info=not _expected(exc),
                extra={"controller": self.name, "key": str(key), "error": str(exc) or type(exc).__name__,
                       "retries": self.queue.num_requeues(key)},
            )
        else:
            if result is not None and result.requeue_after and result.requeue_after > 0:
                self.queue.forget(key)
                self.queue.add_after(key, result.requeue_after)
                self._count("requeue_after")
            elif result is not None and result.requeue:
                self.queue.add_rate_limited(key)
                self._count("requeue")
            else:
                self.queue.forget(key)
                self._count("success")
        finally:
            workers.dec()
            metrics.reconcile_time_seconds.labels(self.name).observe(time.monotonic() - start)

    def _count(self, result: str) -> None:
        metrics.reconcile_total.labels(self.name, result).inc()
        if result == "error":
            metrics.reconcile_errors_total.labels(self.name).inc()


def _expected(exc: Exception) -> bool:
    """API errors explain themselves; a traceback helps only for bugs."""
    return isinstance(exc, ApiError)
