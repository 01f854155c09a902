"""Informer, cache and controller logic over an in-memory API server (no cluster).

The fake keeps a history of watch events, can drop watch connections, compact its history (so resuming an old
version fails with 410 like etcd), and send bookmarks — enough to drive every path of the informer precisely.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from airunway.kube import informer as informer_mod
from airunway.kube.client import ObjectList, WatchEvent
from airunway.kube.controller import (
    Controller,
    Predicate,
    Result,
    any_of,
    enqueue_owner,
    generation_changed,
)
from airunway.kube.errors import Gone, ServerError
from airunway.kube.informer import Cache, CacheNotSynced, Informer
from airunway.kube.resources import CONFIGMAPS, Key
from airunway.kube.selectors import parse_selector
from airunway.kube.store import clone
from airunway.kube.workqueue import ExponentialBackoff


class FakeApi:
    """One namespace of ConfigMaps with list, watch, history, compaction and connection drops."""

    def __init__(self) -> None:
        self.rv = 100
        self.objects: dict[str, dict] = {}
        self.history: list[tuple[int, str, dict]] = []
        self.compacted = 0
        self.changed = asyncio.Event()
        self.drops = 0
        self.watch_calls: list[str | None] = []
        self.list_calls = 0
        self.fail_lists = 0

    # writes
    def _record(self, kind: str, obj: dict) -> dict:
        self.history.append((self.rv, kind, clone(obj)))
        self.changed.set()
        return obj

    def put(self, name: str, value: str, *, labels: dict | None = None, owners: list | None = None, generation: int = 1) -> dict:
        self.rv += 1
        old = self.objects.get(name)
        meta = {
            "name": name, "namespace": "ns", "resourceVersion": str(self.rv),
            "uid": old["metadata"]["uid"] if old else str(uuid.uuid4()), "generation": generation,
        }
        if labels:
            meta["labels"] = labels
        if owners:
            meta["ownerReferences"] = owners
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"v": value}}
        self.objects[name] = obj
        return self._record("MODIFIED" if old else "ADDED", obj)

    def remove(self, name: str) -> None:
        self.rv += 1
        obj = clone(self.objects.pop(name))
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._record("DELETED", obj)

    def bookmark(self) -> None:
        self.rv += 1
        self.history.append((self.rv, "BOOKMARK", {"kind": "ConfigMap", "metadata": {"resourceVersion": str(self.rv)}}))
        self.changed.set()

    def compact(self) -> None:
        self.compacted = self.rv

    def drop(self) -> None:
        """Close every open watch."""
        self.drops += 1
        self.changed.set()

    # the Client surface the informer uses
    async def list_all(self, resource, namespace=None, *, label_selector=None, **kwargs) -> ObjectList:
        self.list_calls += 1
        if self.fail_lists:
            self.fail_lists -= 1
            raise ServerError(500, "InternalError", "etcd is on fire")
        sel = parse_selector(label_selector)
        return ObjectList([clone(o) for o in self.objects.values() if sel.matches_object(o)], str(self.rv))

    async def watch(self, resource, namespace=None, *, resource_version=None, label_selector=None, **kwargs):
        sel = parse_selector(label_selector)
        self.watch_calls.append(resource_version)
        position = int(resource_version)
        if position < self.compacted:
            raise Gone(410, "Expired", "too old resource version")
        drops = self.drops
        while True:
            for rv, kind, obj in list(self.history):
                if rv > position:
                    position = rv
                    if kind == "BOOKMARK" or sel.matches_object(obj):
                        yield WatchEvent(kind, clone(obj))
            if self.drops != drops:
                return
            self.changed.clear()
            await self.changed.wait()


async def settle(fn, timeout: float = 2.0, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if fn():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
async def running(api):
    """A started informer with a recorder of its events; stopped afterwards."""
    inf = Informer(api, CONFIGMAPS, namespace="ns")
    events: list[tuple] = []
    inf.add_handler(
        lambda o: events.append(("add", o["metadata"]["name"], o["data"]["v"])),
        lambda old, new: events.append(("update", new["metadata"]["name"], new["data"]["v"])),
        lambda o: events.append(("delete", o["metadata"]["name"], o["data"]["v"])),
    )
    yield inf, events
    await inf.stop()


# -- informer ----------------------------------------------------------------------------------------------


async def test_lists_then_watches(api, running):
    inf, events = running
    api.put("a", "1")
    inf.start()
    assert await inf.wait_synced(1)
    assert events == [("add", "a", "1")] and api.watch_calls == [str(api.rv)]
    api.put("b", "1")
    api.put("a", "2")
    api.remove("b")
    await settle(lambda: len(events) == 4)
    assert events[1:] == [("add", "b", "1"), ("update", "a", "2"), ("delete", "b", "1")]
    assert inf.resource_version == str(api.rv) and inf.lists == 1


async def test_dropped_watch_resumes_from_the_last_version(api, running):
    inf, events = running
    api.put("a", "1")
    inf.start()
    await inf.wait_synced(1)
    for i in range(2, 5):
        api.put("a", str(i))
        api.drop()
        await settle(lambda: len(api.watch_calls) == i)
    await settle(lambda: len(events) == 4)
    assert events == [("add", "a", "1"), ("update", "a", "2"), ("update", "a", "3"), ("update", "a", "4")]
    assert api.list_calls == 1, "a resumed watch needs no new LIST"
    assert api.watch_calls[1:] == [str(api.rv - 2), str(api.rv - 1), str(api.rv)]


async def test_changes_while_disconnected_arrive_on_resume(api, running):
    inf, events = running
    api.put("a", "1")
    inf.start()
    await inf.wait_synced(1)
    await inf.stop()
    api.put("a", "2")
    api.put("b", "1")
    inf.start()
    await settle(lambda: len(events) == 3)
    assert events == [("add", "a", "1"), ("update", "a", "2"), ("add", "b", "1")]
    assert api.list_calls == 1


async def test_expired_version_relists_and_reports_only_the_differences(api, running):
    inf, events = running
    for name in ("same", "changed", "gone", "recreated"):
        api.put(name, "1")
    inf.start()
    await inf.wait_synced(1)
    events.clear()
    await inf.stop()
    api.put("changed", "2")
    api.put("changed", "3")
    api.remove("gone")
    api.remove("recreated")
    api.put("recreated", "1")  # same name, new uid
    api.put("new", "1")
    api.compact()
    inf.start()
    await settle(lambda: inf.lists == 2 and len(events) >= 5, what="the relist")
    await asyncio.sleep(0.02)
    assert sorted(events) == sorted([
        ("update", "changed", "3"),
        ("delete", "gone", "1"),
        ("delete", "recreated", "1"),
        ("add", "recreated", "1"),
        ("add", "new", "1"),
    ])
    assert events.index(("delete", "recreated", "1")) < events.index(("add", "recreated", "1"))
    assert sorted(k.name for k in inf.store.keys()) == ["changed", "new", "recreated", "same"]
    assert inf.resource_version == str(api.rv)


async def test_only_a_resume_older_than_the_compaction_relists(api, running):
    inf, events = running
    api.put("a", "1")
    inf.start()
    await inf.wait_synced(1)
    api.compact()  # at the informer's own version: resuming from it is still allowed
    api.put("a", "2")
    api.drop()
    await settle(lambda: events[-1:] == [("update", "a", "2")])
    assert inf.lists == 1
    # resuming from a version older than the compaction: 410, then a LIST
    await inf.stop()
    api.put("a", "3")
    api.compact()
    api.put("a", "4")
    inf.start()
    await settle(lambda: events[-1:] == [("update", "a", "4")])
    assert ("update", "a", "3") not in events, "a relist sees only the final state"
    assert inf.lists == 2


async def test_bookmarks_move_the_resume_version(api, running):
    inf, events = running
    api.put("a", "1")
    inf.start()
    await inf.wait_synced(1)
    api.bookmark()
    await settle(lambda: inf.resource_version == str(api.rv))
    assert events == [("add", "a", "1")]
    api.compact()  # compacted exactly at the bookmark: resuming from it is still valid
    api.drop()
    await settle(lambda: len(api.watch_calls) == 2)
    assert api.watch_calls[-1] == str(api.rv) and inf.lists == 1


async def test_list_failures_are_retried(api, running, monkeypatch):
    monkeypatch.setattr(informer_mod, "RETRY_INITIAL", 0.01)
    inf, events = running
    api.put("a", "1")
    api.fail_lists = 2
    inf.start()
    assert await inf.wait_synced(2)
    assert api.list_calls == 3 and events == [("add", "a", "1")]


async def test_a_failing_handler_does_not_stop_the_others(api):
    inf = Informer(api, CONFIGMAPS, namespace="ns")
    seen = []

    def broken(obj):
        raise RuntimeError("handler bug")

    inf.add_handler(on_add=broken)
    inf.add_handler(on_add=lambda o: seen.append(o["metadata"]["name"]))
    api.put("a", "1")
    inf.start()
    try:
        await inf.wait_synced(1)
        api.put("b", "1")
        await settle(lambda: seen == ["a", "b"])
    finally:
        await inf.stop()


async def test_late_handler_gets_the_cached_objects_as_adds(api, running):
    inf, _ = running
    api.put("a", "1")
    api.put("b", "1")
    inf.start()
    await inf.wait_synced(1)
    late = []
    inf.add_handler(on_add=lambda o: late.append(o["metadata"]["name"]))
    assert late == ["a", "b"]


# -- cache -------------------------------------------------------------------------------------------------


async def test_cache_shares_informers_and_refuses_reads_before_sync(api):
    cache = Cache(api, namespace="ns")
    one = cache.informer(CONFIGMAPS)
    assert cache.informer(CONFIGMAPS) is one
    assert cache.informer(CONFIGMAPS, label_selector={"a": "b"}) is not one
    assert cache.informer(CONFIGMAPS, label_selector="a=b") is cache.informer(CONFIGMAPS, label_selector={"a": "b"})
    with pytest.raises(CacheNotSynced):
        cache.get(CONFIGMAPS, Key("ns", "x"))
    api.put("x", "1", labels={"a": "b"})
    cache.start()
    try:
        assert await cache.wait_synced(1) and cache.has_synced()
        assert cache.get(CONFIGMAPS, Key("ns", "x"))["data"] == {"v": "1"}
        assert [o["metadata"]["name"] for o in cache.list(CONFIGMAPS, "ns", {"a": "b"})] == ["x"]
        late = cache.informer(CONFIGMAPS, label_selector="late=yes")  # started at once: the cache runs
        assert await late.wait_synced(1)
    finally:
        await cache.stop()


# -- controller --------------------------------------------------------------------------------------------


@pytest.fixture
async def harness(api):
    cache = Cache(api, namespace="ns")
    started: list[Controller] = []
    tasks: list[asyncio.Task] = []

    def start(ctrl: Controller) -> None:
        started.append(ctrl)
        cache.start()
        tasks.append(asyncio.create_task(ctrl.run()))

    yield cache, start
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await cache.stop()


async def test_controller_waits_for_sync_and_reconciles_each_key_once(api, harness):
    cache, start = harness
    for name in "abc":
        api.put(name, "1")
    calls = []

    async def reconcile(key: Key):
        assert cache.informer(CONFIGMAPS).has_synced()
        calls.append(key.name)

    start(Controller("unit", reconcile, cache=cache, for_=CONFIGMAPS, workers=3))
    await settle(lambda: sorted(calls) == ["a", "b", "c"])
    api.put("a", "2")
    await settle(lambda: calls.count("a") == 2)
    api.remove("b")
    await settle(lambda: calls.count("b") == 2)


async def test_errors_back_off_and_success_forgets(api, harness):
    cache, start = harness
    api.put("a", "1")
    attempts = []

    async def reconcile(key: Key):
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) <= 3:
            raise ValueError("not yet")

    ctrl = Controller("unit-backoff", reconcile, cache=cache, for_=CONFIGMAPS, rate_limiter=ExponentialBackoff(0.02, 1))
    start(ctrl)
    await settle(lambda: len(attempts) == 4)
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert all(g >= want for g, want in zip(gaps, (0.02, 0.04, 0.08))), gaps
    assert ctrl.queue.num_requeues(Key("ns", "a")) == 0


async def test_result_requeue_uses_backoff_and_requeue_after_a_delay(api, harness):
    cache, start = harness
    api.put("again", "1")
    api.put("later", "1")
    calls = []

    async def reconcile(key: Key):
        calls.append(key.name)
        n = calls.count(key.name)
        if key.name == "again" and n < 3:
            return Result(requeue=True)
        if key.name == "later" and n == 1:
            return Result(requeue_after=0.05)
        return None

    ctrl = Controller("unit-requeue", reconcile, cache=cache, for_=CONFIGMAPS, rate_limiter=ExponentialBackoff(0.001, 1))
    start(ctrl)
    await settle(lambda: calls.count("again") == 3 and calls.count("later") == 2)
    await asyncio.sleep(0.1)
    assert calls.count("again") == 3 and calls.count("later") == 2


async def test_predicates_filter_events(api, harness):
    cache, start = harness
    api.put("a", "1", generation=1)
    calls = []

    async def reconcile(key: Key):
        calls.append(key.name)

    start(Controller("unit-pred", reconcile, cache=cache, for_=CONFIGMAPS, predicates=[generation_changed()]))
    await settle(lambda: calls == ["a"])
    api.put("a", "status-only", generation=1)
    await settle(lambda: cache.informer(CONFIGMAPS).get(Key("ns", "a"))["data"]["v"] == "status-only")
    await asyncio.sleep(0.02)
    assert calls == ["a"], "same generation: filtered"
    api.put("a", "spec", generation=2)
    await settle(lambda: calls == ["a", "a"])


async def test_watches_map_related_objects_to_keys(api, harness):
    cache, start = harness
    api.put("parent", "1", labels={"role": "parent"})
    calls = []

    async def reconcile(key: Key):
        calls.append(key)

    ctrl = Controller("unit-map", reconcile, cache=cache, for_=CONFIGMAPS, label_selector={"role": "parent"})
    ctrl.watches(CONFIGMAPS, lambda o: [Key("ns", o["data"]["v"])], label_selector={"role": "pointer"})
    start(ctrl)
    await settle(lambda: calls == [Key("ns", "parent")])
    api.put("p1", "parent", labels={"role": "pointer"})
    await settle(lambda: len(calls) == 2)
    api.put("p1", "other", labels={"role": "pointer"})  # an update maps old and new
    await settle(lambda: Key("ns", "other") in calls and calls.count(Key("ns", "parent")) >= 2)


def test_enqueue_owner_maps_controller_references():
    ref = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "name": "md", "uid": "1", "controller": True}
    child = {"metadata": {"namespace": "ns", "name": "c", "ownerReferences": [
        ref,
        {**ref, "name": "not-controller", "controller": False},
        {**ref, "name": "other-group", "apiVersion": "other.io/v1"},
        {**ref, "name": "other-kind", "kind": "Deployment"},
    ]}}
    owners = enqueue_owner("ModelDeployment", "airunway.ai")
    assert owners(child) == [Key("ns", "md")]
    assert enqueue_owner("ModelDeployment", "airunway.ai", controller_only=False)(child) == [
        Key("ns", "md"), Key("ns", "not-controller")]
    cluster_owner = enqueue_owner("ModelDeployment", "airunway.ai", namespaced=False)
    assert cluster_owner(child) == [Key("", "md")]
    assert owners({"metadata": {"name": "orphan"}}) == []
    core = {"metadata": {"namespace": "ns", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "p",
                                                                 "controller": True}]}}
    assert enqueue_owner("ConfigMap", "")(core) == [Key("ns", "p")]


def test_any_of_combines_predicates():
    ready_changed = Predicate(update=lambda old, new: old.get("ready") != new.get("ready"))
    spec_changed = Predicate(update=lambda old, new: old.get("spec") != new.get("spec"), create=lambda o: False)
    either = any_of(ready_changed, spec_changed)
    assert either.update({"ready": 1, "spec": 1}, {"ready": 2, "spec": 1})
    assert either.update({"ready": 1, "spec": 1}, {"ready": 1, "spec": 2})
    assert not either.update({"ready": 1, "spec": 1}, {"ready": 1, "spec": 1})
    assert either.create({}), "one predicate without a create filter lets creates through"


async def test_controller_shutdown_drains_in_flight_work(api, harness):
    cache, start = harness
    api.put("a", "1")
    gate, done = asyncio.Event(), []

    async def reconcile(key: Key):
        await gate.wait()
        done.append(key.name)

    ctrl = Controller("unit-drain", reconcile, cache=cache, for_=CONFIGMAPS)
    start(ctrl)
    await settle(lambda: ctrl.queue.processing() == 1)
    shutdown = asyncio.create_task(ctrl.shutdown(timeout=2))
    await asyncio.sleep(0.01)
    assert not shutdown.done()
    gate.set()
    assert await shutdown is True and done == ["a"]
    api.put("a", "2")
    await asyncio.sleep(0.02)
    assert done == ["a"], "no new work after shutdown"
