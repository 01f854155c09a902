"""A rate-limited work queue of keys, with client-go's guarantees, for asyncio.

- An item added while it waits in the queue is queued once.
- An item is never handed to two workers at once: added while a worker processes it, it is queued again
  (once) when that worker calls :meth:`WorkQueue.done`.
- :meth:`WorkQueue.add_after` adds later; an earlier request for the same item wins.
- :meth:`WorkQueue.add_rate_limited` adds after the item's backoff (by default 5 ms doubling per failure up to
  1000 s, and at most 10 adds a second overall, bursts of 100 — controller-runtime's default), and
  :meth:`WorkQueue.forget` resets it after a success.
- :meth:`WorkQueue.shutdown` stops it: :meth:`WorkQueue.get` raises :class:`ShutDown` from then on.

``add``, ``done``, ``forget`` and ``add_after`` are synchronous, so event handlers can call them directly.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Callable, Generic, Hashable, Protocol, TypeVar

from airunway.kube import metrics

T = TypeVar("T", bound=Hashable)


class ShutDown(Exception):
    """The queue is shut down; the worker should return."""


# -- rate limiters -----------------------------------------------------------------------------------------


class RateLimiter(Protocol):
    def when(self, item: Hashable) -> float:
        """Seconds to wait before this retry of ``item`` (records the retry)."""

    def forget(self, item: Hashable) -> None:
        """Stop tracking ``item``: its next failure starts from the base delay."""

    def num_requeues(self, item: Hashable) -> int:
        """How many retries of ``item`` since it was last forgotten."""


class ExponentialBackoff:
    """Per-item delay ``base * 2**failures``, capped."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0):
        self.base, self.cap = base, cap
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        n = self._failures.get(item, 0)
        self._failures[item] = n + 1
        if n >= 64:  # 2**64 * base is past any sensible cap; avoid huge floats
            return self.cap
        return min(self.base * (2**n), self.cap)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class TokenBucket:
    """An overall limit of ``qps`` adds a second with bursts of ``burst`` (not per item)."""

    def __init__(self, qps: float = 10.0, burst: int = 100, clock: Callable[[], float] = time.monotonic):
        self.qps, self.burst, self.clock = qps, burst, clock
        self._tokens = float(burst)
        self._last = clock()

    def when(self, item: Hashable) -> float:
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0  # reserve a token, possibly in the future
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOf:
    """The longest delay any of ``limiters`` asks for."""

    def __init__(self, *limiters: RateLimiter):
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_rate_limiter() -> RateLimiter:
    """controller-runtime's default: per-item 5 ms doubling to 1000 s, overall 10 qps with bursts of 100."""
    return MaxOf(ExponentialBackoff(0.005, 1000.0), TokenBucket(10.0, 100))


# -- the queue ---------------------------------------------------------------------------------------------


class WorkQueue(Generic[T]):
    def __init__(self, name: str = "", rate_limiter: RateLimiter | None = None):
        """``name`` labels the ``workqueue_*`` metrics (empty: no metrics)."""
        self.name = name
        self.rate_limiter = rate_limiter or default_rate_limiter()
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: dict[T, float] = {}  # item -> monotonic start
        self._added_at: dict[T, float] = {}
        self._waiting: dict[T, tuple[float, asyncio.TimerHandle]] = {}
        self._getters: deque[asyncio.Future] = deque()
        self._shutting_down = False
        self._drained: asyncio.Event | None = None
        if name:
            metrics.in_flight.queues.add(self)
            self._m_depth = metrics.workqueue_depth.labels(name)
            self._m_adds = metrics.workqueue_adds_total.labels(name)
            self._m_retries = metrics.workqueue_retries_total.labels(name)
            self._m_queue_time = metrics.workqueue_queue_duration_seconds.labels(name)
            self._m_work_time = metrics.workqueue_work_duration_seconds.labels(name)
            self._m_depth.set(0)

    # -- adding ----------------------------------------------------------------------------------------

    def add(self, item: T) -> None:
        """Queue ``item`` unless it is already queued (or, while it is processed, once it is done)."""
        if self._shutting_down or item in self._dirty:
            return
        self._dirty.add(item)
        self._added_at.setdefault(item, time.monotonic())
        if self.name:
            self._m_adds.inc()
        if item in self._processing:
            return
        self._queue.append(item)
        self._changed()
        self._wake_one()

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` after ``delay`` seconds; if it is already waiting, the earlier time wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        loop = asyncio.get_running_loop()
        ready_at = loop.time() + delay
        pending = self._waiting.get(item)
        if pending is not None:
            if pending[0] <= ready_at:
                return
            pending[1].cancel()
        self._waiting[item] = (ready_at, loop.call_at(ready_at, self._fire, item))

    def _fire(self, item: T) -> None:
        self._waiting.pop(item, None)
        self.add(item)

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` after its backoff (a retry: counts toward ``workqueue_retries_total``)."""
        if self._shutting_down:
            return
        if self.name:
            self._m_retries.inc()
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """Reset ``item``'s backoff (after a success)."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)

    # -- taking ----------------------------------------------------------------------------------------

    async def get(self) -> T:
        """The next item (waiting for one); call :meth:`done` with it when finished. Raises :class:`ShutDown`."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown()
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # we were woken but will not take the item: pass it on
                else:
                    try:
                        self._getters.remove(waiter)
                    except ValueError:
                        pass
                raise
        if self._shutting_down:
            raise ShutDown()
        item = self._queue.popleft()
        self._dirty.discard(item)
        now = time.monotonic()
        self._processing[item] = now
        added = self._added_at.pop(item, None)
        if self.name:
            if added is not None:
                self._m_queue_time.observe(now - added)
            self._changed()
        return item

    def done(self, item: T) -> None:
        """Mark ``item`` finished; if it was added meanwhile, it is queued again now."""
        started = self._processing.pop(item, None)
        if self.name and started is not None:
            self._m_work_time.observe(time.monotonic() - started)
        if item in self._dirty and not self._shutting_down:
            self._queue.append(item)
            self._changed()
            self._wake_one()
        if self._drained is not None and not self._processing:
            self._drained.set()

    # -- state -----------------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Items waiting to be taken (not counting delayed ones or those being processed)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def waiting(self) -> int:
        """Items scheduled by :meth:`add_after` that are not yet due."""
        return len(self._waiting)

    def processing(self) -> int:
        return len(self._processing)

    def processing_since(self) -> list[float]:
        return list(self._processing.values())

    def shutdown(self) -> None:
        """Stop: drop queued and delayed items, refuse new ones, make every :meth:`get` raise :class:`ShutDown`."""
        if self._shutting_down:
            return
        self._shutting_down = True
        for _, handle in self._waiting.values():
            handle.cancel()
        self._waiting.clear()
        self._queue.clear()
        self._dirty.clear()
        self._added_at.clear()
        self._changed()
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def shutdown_with_drain(self, timeout: float | None = None) -> bool:
        """:meth:`shutdown`, then wait until items being processed are done; False on timeout."""
        self.shutdown()
        if not self._processing:
            return True
        self._drained = asyncio.Event()
        try:
            await asyncio.wait_for(self._drained.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    # -- internals -------------------------------------------------------------------------------------

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _changed(self) -> None:
        if self.name:
            self._m_depth.set(len(self._queue))
