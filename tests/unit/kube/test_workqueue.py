"""The work queue and its rate limiters, in pure asyncio (no cluster)."""

from __future__ import annotations

import asyncio

import pytest

from airunway.kube import metrics
from airunway.kube.workqueue import (
    ExponentialBackoff,
    MaxOf,
    ShutDown,
    TokenBucket,
    WorkQueue,
    default_rate_limiter,
)


async def take(q: WorkQueue, timeout: float = 2.0):
    return await asyncio.wait_for(q.get(), timeout)


async def nothing_ready(q: WorkQueue, wait: float = 0.05) -> bool:
    """True if no item becomes available within ``wait`` seconds."""
    try:
        item = await asyncio.wait_for(q.get(), wait)
    except asyncio.TimeoutError:
        return True
    q.done(item)
    raise AssertionError(f"unexpected item {item!r}")


# -- dedup and ordering ------------------------------------------------------------------------------------


async def test_items_come_out_in_order():
    q = WorkQueue()
    for item in ("a", "b", "c"):
        q.add(item)
    assert [await take(q) for _ in range(3)] == ["a", "b", "c"]


async def test_adding_a_queued_item_again_queues_it_once():
    q = WorkQueue()
    for item in ("a", "b", "a", "a", "b"):
        q.add(item)
    assert len(q) == 2
    assert [await take(q), await take(q)] == ["a", "b"]
    assert await nothing_ready(q)


async def test_item_added_while_processing_is_requeued_once_after_done():
    q = WorkQueue()
    q.add("a")
    item = await take(q)
    q.add("a")
    q.add("a")
    assert len(q) == 0, "must not be handed out while still being processed"
    assert await nothing_ready(q)
    q.done(item)
    assert len(q) == 1
    assert await take(q) == "a"
    q.done("a")
    assert await nothing_ready(q)


async def test_done_without_readd_does_not_requeue():
    q = WorkQueue()
    q.add("a")
    q.done(await take(q))
    assert len(q) == 0 and q.processing() == 0


async def test_never_processed_by_two_workers_at_once():
    q = WorkQueue()
    active: set[str] = set()
    overlaps = []
    processed = []

    async def worker():
        while True:
            try:
                item = await q.get()
            except ShutDown:
                return
            if item in active:
                overlaps.append(item)
            active.add(item)
            await asyncio.sleep(0.002)
            processed.append(item)
            active.discard(item)
            q.done(item)

    workers = [asyncio.create_task(worker()) for _ in range(8)]
    for round_ in range(20):
        for item in ("a", "b", "c"):
            q.add(item)
        await asyncio.sleep(0.001)
    while len(q) or q.processing():
        await asyncio.sleep(0.005)
    q.shutdown()
    await asyncio.gather(*workers)
    assert overlaps == []
    assert set(processed) == {"a", "b", "c"}
    # every burst collapses: far fewer runs than the 60 adds
    assert len(processed) < 60


async def test_waiting_getter_is_woken_by_add():
    q = WorkQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.add("x")
    assert await asyncio.wait_for(getter, 1) == "x"


async def test_cancelled_getter_does_not_swallow_an_item():
    q = WorkQueue()
    g1 = asyncio.create_task(q.get())
    g2 = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("x")  # wakes g1 ...
    g1.cancel()  # ... which is cancelled before it runs: g2 must get the item
    assert await asyncio.wait_for(g2, 1) == "x"
    with pytest.raises(asyncio.CancelledError):
        await g1


# -- delays ------------------------------------------------------------------------------------------------


async def test_add_after_delays_the_item():
    q = WorkQueue()
    q.add_after("late", 0.3)
    q.add_after("soon", 0.05)
    assert len(q) == 0 and q.waiting() == 2
    assert await take(q) == "soon"
    assert await take(q) == "late"
    assert q.waiting() == 0


async def test_add_after_keeps_the_earlier_time():
    q = WorkQueue()
    q.add_after("a", 30)
    q.add_after("a", 0.05)  # earlier: replaces
    q.add_after("a", 60)  # later: ignored
    assert q.waiting() == 1
    assert await take(q) == "a"
    q.done("a")
    assert q.waiting() == 0
    assert await nothing_ready(q, 0.1)


async def test_add_after_zero_adds_now():
    q = WorkQueue()
    q.add_after("a", 0)
    assert len(q) == 1


async def test_delayed_item_already_queued_is_not_duplicated():
    q = WorkQueue()
    q.add("a")
    q.add_after("a", 0.02)
    await asyncio.sleep(0.05)
    assert len(q) == 1
    assert await take(q) == "a"


# -- rate limiting -----------------------------------------------------------------------------------------


def test_exponential_backoff_doubles_caps_and_resets():
    rl = ExponentialBackoff(0.005, 1000)
    delays = [rl.when("k") for _ in range(20)]
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert all(b == min(a * 2, 1000) for a, b in zip(delays, delays[1:]))
    assert delays[-1] == 1000
    assert rl.num_requeues("k") == 20
    assert rl.when("other") == 0.005, "backoff is per item"
    rl.forget("k")
    assert rl.num_requeues("k") == 0
    assert rl.when("k") == 0.005
    for _ in range(200):
        rl.when("many")
    assert rl.when("many") == 1000


def test_token_bucket_allows_a_burst_then_paces():
    now = [0.0]
    tb = TokenBucket(qps=10, burst=3, clock=lambda: now[0])
    assert [tb.when(i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert tb.when("x") == pytest.approx(0.1)
    assert tb.when("y") == pytest.approx(0.2)
    now[0] = 10.0  # refills, up to the burst size
    assert [tb.when(i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert tb.when("z") == pytest.approx(0.1)


def test_max_of_takes_the_longest_delay():
    now = [0.0]
    rl = MaxOf(ExponentialBackoff(0.005, 1000), TokenBucket(qps=10, burst=1, clock=lambda: now[0]))
    assert rl.when("a") == 0.005
    assert rl.when("a") == pytest.approx(0.1)  # bucket empty: 0.1 s beats 0.01 s
    assert rl.num_requeues("a") == 2
    rl.forget("a")
    assert rl.num_requeues("a") == 0


def test_default_rate_limiter_matches_controller_runtime():
    rl = default_rate_limiter()
    assert [rl.when("k") for _ in range(3)] == [0.005, 0.01, 0.02]


async def test_add_rate_limited_backs_off_per_item_and_forget_resets():
    q = WorkQueue(rate_limiter=ExponentialBackoff(0.01, 10))
    loop = asyncio.get_running_loop()
    delays = []
    for _ in range(4):
        start = loop.time()
        q.add_rate_limited("k")
        q.done(await take(q))
        delays.append(loop.time() - start)
    assert q.num_requeues("k") == 4
    # 10, 20, 40, 80 ms: each wait at least its backoff
    assert all(d >= want * 0.9 for d, want in zip(delays, [0.01, 0.02, 0.04, 0.08]))
    q.forget("k")
    assert q.num_requeues("k") == 0


# -- shutdown ----------------------------------------------------------------------------------------------


async def test_shutdown_wakes_waiting_getters_and_refuses_adds():
    q = WorkQueue()
    getters = [asyncio.create_task(q.get()) for _ in range(3)]
    q.add_after("later", 10)
    await asyncio.sleep(0)
    q.shutdown()
    for g in getters:
        with pytest.raises(ShutDown):
            await asyncio.wait_for(g, 1)
    q.add("x")
    q.add_after("y", 0.01)
    q.add_rate_limited("z")
    assert len(q) == 0 and q.waiting() == 0
    with pytest.raises(ShutDown):
        await take(q)


async def test_shutdown_with_drain_waits_for_items_in_flight():
    q = WorkQueue()
    q.add("a")
    item = await take(q)
    drain = asyncio.create_task(q.shutdown_with_drain(timeout=2))
    await asyncio.sleep(0.02)
    assert not drain.done()
    q.done(item)
    assert await drain is True


async def test_shutdown_with_drain_times_out():
    q = WorkQueue()
    q.add("a")
    await take(q)
    assert await q.shutdown_with_drain(timeout=0.05) is False


# -- metrics -----------------------------------------------------------------------------------------------


def sample(metric: str, queue: str) -> float | None:
    return metrics.registry.get_sample_value(metric, {"name": queue})


async def test_queue_metrics():
    q = WorkQueue(name="unit-metrics", rate_limiter=ExponentialBackoff(0.001, 1))
    q.add("a")
    q.add("a")
    q.add("b")
    assert sample("workqueue_depth", "unit-metrics") == 2
    assert sample("workqueue_adds_total", "unit-metrics") == 2
    item = await take(q)
    assert sample("workqueue_depth", "unit-metrics") == 1
    longest = sample("workqueue_longest_running_processor_seconds", "unit-metrics")
    assert longest is not None and longest >= 0
    q.done(item)
    q.add_rate_limited("c")
    assert sample("workqueue_retries_total", "unit-metrics") == 1
    assert sample("workqueue_queue_duration_seconds_count", "unit-metrics") == 1
    assert sample("workqueue_work_duration_seconds_count", "unit-metrics") == 1
