"""Informers: a local, always-current copy of one resource type, with change notifications.

An :class:`Informer` LISTs (page by page), then WATCHes from the list's resourceVersion with bookmarks. When a
watch ends (server timeout, dropped connection) it watches again from the last version it saw, so no event is
missed or repeated. When the server says that version is gone (410), it LISTs again and tells its handlers
exactly what changed against its cache: an add for each new object, an update for each changed one, a delete for
each that disappeared, nothing for the rest.

Cached objects leave out ``metadata.managedFields``. Handlers are plain (synchronous) functions; they run on the event loop in event order and must not block —
a controller's handler only puts keys on its queue. Objects handed to handlers are the cached ones: read them,
do not change them.

A :class:`Cache` shares one informer per (resource, namespace, selectors) between controllers, starts them and
answers "are all synced?" for readiness.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from airunway.kube.client import Client
from airunway.kube.errors import ApiError, Gone
from airunway.kube.resources import Key, Resource
from airunway.kube.selectors import Selector, selector_string
from airunway.kube.store import Indexer, Store

log = logging.getLogger("airunway.kube.informer")

ADDED, MODIFIED, DELETED, BOOKMARK = "ADDED", "MODIFIED", "DELETED", "BOOKMARK"


@dataclass
class EventHandler:
    on_add: Callable[[dict], Any] | None = None
    on_update: Callable[[dict, dict], Any] | None = None
    on_delete: Callable[[dict], Any] | None = None


RETRY_INITIAL, RETRY_CAP = 0.8, 30.0  # seconds; client-go's reflector backoff


class _Backoff:
    """Exponential delay with jitter for reconnecting after a failure."""

    def __init__(self) -> None:
        self.initial, self.cap, self.current = RETRY_INITIAL, RETRY_CAP, 0.0

    def next(self) -> float:
        self.current = self.initial if not self.current else min(self.current * 2, self.cap)
        return self.current * random.uniform(1.0, 1.2)

    def reset(self) -> None:
        self.current = 0.0


def _rv(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("resourceVersion") or ""


def _trim(obj: dict) -> None:
    """Leave out what no reader of a cache uses: ``metadata.managedFields`` is often a third of an object (as
    controller-runtime's caches do). An update sent from a cached copy keeps the server's managed fields."""
    meta = obj.get("metadata")
    if meta:
        meta.pop("managedFields", None)


def _uid(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("uid") or ""


class Informer:
    def __init__(
        self,
        client: Client,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, Any] | Selector | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        watch_timeout: int | None = None,
    ):
        """``watch_timeout``: seconds the server keeps each watch open (default: random 5–10 min, like client-go)."""
        self.client = client
        self.resource = resource
        self.namespace = namespace if resource.namespaced else None
        self.label_selector = selector_string(label_selector)
        self.field_selector = field_selector or None
        self.page_size = page_size
        self.watch_timeout = watch_timeout
        self.store = Store()
        self.resource_version: str | None = None  # the last version seen; None means "list again"
        self.lists = 0  # full LISTs done: 1 after the first sync, +1 for each recovery from an expired watch
        self.watches = 0  # watch requests opened (each reconnect is one more)
        self._handlers: list[EventHandler] = []
        self.transform: Callable[[dict], dict] | None = None
        self._synced = asyncio.Event()
        self._task: asyncio.Task | None = None

    def __repr__(self) -> str:
        scope = f" in {self.namespace}" if self.namespace else ""
        sel = f" labels {self.label_selector!r}" if self.label_selector else ""
        return f"<Informer {self.resource}{scope}{sel}>"

    # -- configuration ---------------------------------------------------------------------------------

    def add_handler(
        self,
        on_add: Callable[[dict], Any] | None = None,
        on_update: Callable[[dict, dict], Any] | None = None,
        on_delete: Callable[[dict], Any] | None = None,
    ) -> EventHandler:
        """Register callbacks; objects already cached are replayed to ``on_add`` at once."""
        handler = EventHandler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if on_add:
            for obj in self.store.list(copy=False):
                self._call(on_add, obj)
        return handler

    def remove_handler(self, handler: EventHandler) -> None:
        self._handlers.remove(handler)

    def add_indexer(self, name: str, fn: Indexer) -> None:
        self.store.add_indexer(name, fn)

    def set_transform(self, fn: Callable[[dict], dict]) -> None:
        """Keep ``fn(obj)`` instead of each object (only what the readers of this cache need); before the start."""
        if self._task is not None or self.has_synced():
            raise RuntimeError(f"{self!r} has started: set its transform before")
        self.transform = fn

    def _keep(self, obj: dict) -> dict:
        _trim(obj)
        return self.transform(obj) if self.transform else obj

    # -- state -----------------------------------------------------------------------------------------

    def has_synced(self) -> bool:
        """True once the first LIST is in the cache and every handler has seen it."""
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def get(self, key: Key, *, copy: bool = True) -> dict | None:
        return self.store.get(key, copy=copy)

    def list(self, namespace: str | None = None, selector: Any = None, *, copy: bool = True) -> list[dict]:
        return self.store.list(namespace, selector, copy=copy)

    # -- running ---------------------------------------------------------------------------------------

    def start(self) -> asyncio.Task:
        """Run in a background task (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"informer {self.resource}")
        return self._task

    async def stop(self) -> None:
        """Stop watching; the cache and last version are kept, so :meth:`start` resumes where it stopped."""
        task, self._task = self._task, None
        if task and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run(self) -> None:
        """List and watch until cancelled, recovering from every error."""
        backoff = _Backoff()
        loop = asyncio.get_running_loop()
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                started = loop.time()
                delivered = await self._watch()
                if delivered or loop.time() - started > 2:
                    backoff.reset()
                    continue
                # A watch that closed at once with nothing in it: do not spin.
                await asyncio.sleep(backoff.next())
            except Gone as exc:
                log.info(
                    "watch expired; listing again",
                    extra={"resource": str(self.resource), "resource_version": self.resource_version, "error": exc.message},
                )
                self.resource_version = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - an informer must outlive every failure
                delay = backoff.next()
                fields = {"resource": str(self.resource), "retry_in": round(delay, 2), "error": str(exc) or type(exc).__name__}
                if isinstance(exc, ApiError):
                    log.warning("list/watch failed", extra=fields)
                else:
                    log.warning("list/watch connection failed", extra=fields)
                await asyncio.sleep(delay)

    async def _list(self) -> None:
        fresh = await self.client.list_all(
            self.resource, self.namespace, label_selector=self.label_selector,
            field_selector=self.field_selector, page_size=self.page_size,
        )
        fresh.items = [self._keep(obj) for obj in fresh.items]
        previous = self.store.replace(fresh.items)
        self.resource_version = fresh.resource_version
        self.lists += 1
        seen = set()
        for obj in fresh.items:
            key = Key.of(obj)
            seen.add(key)
            self._emit_change(previous.get(key), obj)
        for key, old in previous.items():
            if key not in seen:
                self._emit_delete(old)
        if not self._synced.is_set():
            self._synced.set()
            log.debug("informer synced", extra={"resource": str(self.resource), "objects": len(self.store)})

    async def _watch(self) -> int:
        timeout = self.watch_timeout or random.randint(300, 600)
        delivered = 0
        self.watches += 1
        async for event in self.client.watch(
            self.resource, self.namespace, resource_version=self.resource_version,
            label_selector=self.label_selector, field_selector=self.field_selector,
            timeout_seconds=timeout, allow_bookmarks=True,
        ):
            obj = event.object
            if event.type == BOOKMARK:
                self.resource_version = _rv(obj) or self.resource_version
                delivered += 1  # progress, though nothing changed
                continue
            key = Key.of(obj)
            if event.type in (ADDED, MODIFIED):
                obj = self._keep(obj)
                self._emit_change(self.store.upsert(obj), obj)
            elif event.type == DELETED:
                if self.store.remove(key) is not None:
                    self._emit_delete(obj)
            else:
                log.warning("unknown watch event type", extra={"resource": str(self.resource), "type": event.type})
                continue
            self.resource_version = _rv(obj) or self.resource_version
            delivered += 1
        return delivered

    # -- dispatch --------------------------------------------------------------------------------------

    def _call(self, fn: Callable, *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - one bad handler must not stop the others or the informer
            log.exception("event handler failed", extra={"resource": str(self.resource)})

    def _emit_change(self, old: dict | None, new: dict) -> None:
        """Tell handlers how ``new`` differs from what they last saw (``old``); nothing if it is the same version."""
        if old is None:
            self._emit_add(new)
        elif _uid(old) != _uid(new):  # deleted and created again in between: two events
            self._emit_delete(old)
            self._emit_add(new)
        elif _rv(old) != _rv(new):
            self._emit_update(old, new)

    def _emit_add(self, obj: dict) -> None:
        for h in list(self._handlers):
            if h.on_add:
                self._call(h.on_add, obj)

    def _emit_update(self, old: dict, new: dict) -> None:
        for h in list(self._handlers):
            if h.on_update:
                self._call(h.on_update, old, new)

    def _emit_delete(self, obj: dict) -> None:
        for h in list(self._handlers):
            if h.on_delete:
                self._call(h.on_delete, obj)


class CacheNotSynced(RuntimeError):
    """A read from an informer that has not finished its first LIST: its answer would be wrong."""


class Cache:
    """Shared informers, one per (resource, namespace, label selector, field selector)."""

    def __init__(self, client: Client, *, namespace: str | None = None, watch_timeout: int | None = None):
        """``namespace`` limits every namespaced informer to one namespace (None: all namespaces)."""
        self.client = client
        self.namespace = namespace
        self.watch_timeout = watch_timeout
        self._informers: dict[tuple, Informer] = {}
        self._started = False

    def informer(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, Any] | Selector | None = None,
        field_selector: str | None = None,
    ) -> Informer:
        """The shared informer for these parameters, created (and started, if the cache runs) on first use."""
        ns = (namespace or self.namespace) if resource.namespaced else None
        spec = (resource, ns, selector_string(label_selector), field_selector or None)
        inf = self._informers.get(spec)
        if inf is None:
            inf = Informer(
                self.client, resource, namespace=ns, label_selector=label_selector,
                field_selector=field_selector, watch_timeout=self.watch_timeout,
            )
            self._informers[spec] = inf
            if self._started:
                inf.start()
        return inf

    @property
    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    def start(self) -> None:
        self._started = True
        for inf in self._informers.values():
            inf.start()

    async def stop(self) -> None:
        self._started = False
        await asyncio.gather(*(inf.stop() for inf in self._informers.values()))

    def has_synced(self) -> bool:
        return all(inf.has_synced() for inf in self._informers.values())

    def unsynced(self) -> list[Informer]:
        return [inf for inf in self._informers.values() if not inf.has_synced()]

    async def wait_synced(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(asyncio.gather(*(inf.wait_synced() for inf in self.informers)), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    # Reads through the default informer of a resource.

    def _synced_informer(self, resource: Resource) -> Informer:
        inf = self.informer(resource)
        if not inf.has_synced():
            raise CacheNotSynced(
                f"the cache of {resource} is not synced yet: create its informer before starting "
                f"(cache.informer({resource.plural!r}…) or a controller watch) and read after the sync"
            )
        return inf

    def get(self, resource: Resource, key: Key, *, copy: bool = True) -> dict | None:
        """The cached object (None if it does not exist); raises :class:`CacheNotSynced` before the first sync."""
        return self._synced_informer(resource).get(key, copy=copy)

    def list(
        self, resource: Resource, namespace: str | None = None, selector: Any = None, *, copy: bool = True
    ) -> list[dict]:
        """Cached objects in ``namespace`` (None: all) matching the label ``selector``."""
        return self._synced_informer(resource).list(namespace, selector, copy=copy)
