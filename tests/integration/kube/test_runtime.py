"""The controller runtime (airunway.kube) against the real local control plane.

ConfigMaps are the watched resource; core Events stand in where a resource must bypass the API server's watch
cache (so that an etcd compaction really expires a watch with 410).
"""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import sys
import time
import uuid

import aiohttp
import pytest
from kubernetes_asyncio.client import ApiClient, Configuration

from airunway.kube import (
    CONFIGMAPS,
    EVENTS,
    LEASES,
    AlreadyExists,
    Client,
    Conflict,
    Controller,
    ExponentialBackoff,
    Forbidden,
    Informer,
    Invalid,
    Key,
    LeaderElection,
    LeaderElectionLost,
    Manager,
    MetricsServing,
    NotFound,
    Resource,
    Result,
    TerminalError,
)
from airunway.kube import metrics as kube_metrics
from airunway.kube.informer import Cache

from support import FIELD_MANAGER, compact_etcd

# -- helpers -----------------------------------------------------------------------------------------------


async def until(check, timeout: float = 30, what: str = "condition", interval: float = 0.05):
    """Await ``check()`` (sync or async) until truthy; its value. AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def cm(namespace: str, name: str, data: dict | None = None, labels: dict | None = None, owners: list | None = None) -> dict:
    meta: dict = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    if owners:
        meta["ownerReferences"] = owners
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}}


def event(namespace: str, name: str, message: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"kind": "ConfigMap", "namespace": namespace, "name": "subject", "apiVersion": "v1"},
        "reason": "RuntimeTest",
        "message": message,
        "type": "Normal",
    }


class Recorder:
    """Collects informer events as (kind, name, value-of-data-or-message)."""

    def __init__(self, informer: Informer, field: str = "v"):
        self.events: list[tuple[str, str, str | None]] = []
        self.field = field
        informer.add_handler(
            on_add=lambda o: self.events.append(("add", o["metadata"]["name"], self._value(o))),
            on_update=lambda old, new: self.events.append(("update", new["metadata"]["name"], self._value(new))),
            on_delete=lambda o: self.events.append(("delete", o["metadata"]["name"], self._value(o))),
        )

    def _value(self, obj: dict) -> str | None:
        return (obj.get("data") or {}).get(self.field) if obj.get("kind") == "ConfigMap" else obj.get("message")

    def of(self, name: str) -> list[tuple[str, str | None]]:
        return [(kind, value) for kind, n, value in self.events if n == name]


async def cache_matches_server(client: Client, informer: Informer) -> bool:
    fresh = await client.list_all(informer.resource, informer.namespace)
    server = {Key.of(o): o["metadata"]["resourceVersion"] for o in fresh.items}
    cached = {Key.of(o): o["metadata"]["resourceVersion"] for o in informer.list(copy=False)}
    return server == cached


# -- client ------------------------------------------------------------------------------------------------

WIDGETS_CRD = "widgets.runtime.test.airunway.ai"


@pytest.fixture(scope="module")
def widgets_crd(sandbox):
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": WIDGETS_CRD},
        "spec": {
            "group": "runtime.test.airunway.ai",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}},
                        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                    },
                }},
            }],
        },
    }
    sandbox.kubectl("apply", "-f", "-", input=json.dumps(crd))
    sandbox.kubectl("wait", "--for=condition=Established", f"crd/{WIDGETS_CRD}", "--timeout=60s")
    return Resource("runtime.test.airunway.ai", "v1", "widgets", kind="Widget")


async def test_client_crud_apply_and_errors(client, namespace, widgets_crd):
    created = await client.create(CONFIGMAPS, cm(namespace, "one", {"v": "1"}))
    assert created["metadata"]["uid"]
    with pytest.raises(AlreadyExists):
        await client.create(CONFIGMAPS, cm(namespace, "one"))
    with pytest.raises(NotFound):
        await client.get(CONFIGMAPS, "missing", namespace)
    assert await client.get_or_none(CONFIGMAPS, "missing", namespace) is None
    with pytest.raises(Invalid) as invalid:
        await client.create(CONFIGMAPS, cm(namespace, "Not_A_Name"))
    assert "metadata.name" in str(invalid.value) and invalid.value.causes[0]["field"] == "metadata.name"

    patched = await client.patch_merge(CONFIGMAPS, "one", {"data": {"v": "2", "w": "x"}}, namespace)
    assert patched["data"] == {"v": "2", "w": "x"}
    created["data"] = {"v": "stale"}
    with pytest.raises(Conflict):
        await client.update(CONFIGMAPS, created)  # carries the old resourceVersion
    patched = await client.patch_json(CONFIGMAPS, "one", [{"op": "remove", "path": "/data/w"}], namespace)
    assert patched["data"] == {"v": "2"}

    # server-side apply: our field manager owns what it applied; a second manager conflicts unless forced
    applied = await client.apply(cm(namespace, "applied", {"a": "1"}))
    assert [m["manager"] for m in applied["metadata"]["managedFields"]] == [FIELD_MANAGER]
    with pytest.raises(Conflict):
        await client.apply(cm(namespace, "applied", {"a": "2"}), field_manager="someone-else", force=False)
    taken = await client.apply(cm(namespace, "applied", {"a": "3"}), field_manager="someone-else")
    assert taken["data"] == {"a": "3"}

    # paginated list: every object exactly once, with apiVersion/kind filled in
    for i in range(5):
        await client.create(CONFIGMAPS, cm(namespace, f"page-{i}", labels={"paged": "yes"}))
    listed = await client.list_all(CONFIGMAPS, namespace, label_selector={"paged": "yes"}, page_size=2)
    assert sorted(o["metadata"]["name"] for o in listed.items) == [f"page-{i}" for i in range(5)]
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for o in listed.items)
    assert int(listed.resource_version) > 0

    # a custom resource found by discovery, with its status written through the status subresource
    widget = {"apiVersion": "runtime.test.airunway.ai/v1", "kind": "Widget",
              "metadata": {"name": "w1", "namespace": namespace}, "spec": {"size": 2}}
    applied = await client.apply(widget)
    assert applied["spec"] == {"size": 2} and "status" not in applied
    status = await client.apply_status({"apiVersion": widget["apiVersion"], "kind": "Widget",
                                        "metadata": widget["metadata"], "status": {"phase": "Ready"}})
    assert status["status"] == {"phase": "Ready"}
    got = await client.get(widgets_crd, "w1", namespace)
    assert got["status"] == {"phase": "Ready"} and got["spec"] == {"size": 2}
    with pytest.raises(Invalid) as bad:
        await client.apply({**widget, "spec": {"size": 0}})
    assert "spec.size" in bad.value.message

    await client.delete(CONFIGMAPS, "one", namespace)
    assert await client.delete(CONFIGMAPS, "one", namespace, ignore_not_found=True) is None
    with pytest.raises(NotFound):
        await client.delete(CONFIGMAPS, "one", namespace)


async def test_forbidden_is_its_own_error(client, sandbox, namespace):
    sa = f"nobody-{uuid.uuid4().hex[:6]}"
    sandbox.kubectl("create", "serviceaccount", sa, "-n", namespace)
    token = sandbox.kubectl("create", "token", sa, "-n", namespace).stdout.strip()
    cfg = Configuration()
    cfg.host = client.configuration.host
    cfg.ssl_ca_cert = client.configuration.ssl_ca_cert
    cfg.api_key = {"BearerToken": f"Bearer {token}"}
    async with Client(ApiClient(cfg)) as limited:
        with pytest.raises(Forbidden) as denied:
            await limited.list(CONFIGMAPS, namespace)
    assert sa in denied.value.message


# -- informer ----------------------------------------------------------------------------------------------


async def test_informer_sees_adds_updates_and_deletes(client, namespace):
    await client.create(CONFIGMAPS, cm(namespace, "before", {"v": "0"}, labels={"app": "x"}))
    inf = Informer(client, CONFIGMAPS, namespace=namespace, label_selector={"app": "x"})
    inf.add_indexer("by-v", lambda o: [(o.get("data") or {}).get("v", "")])
    rec = Recorder(inf)
    inf.start()
    try:
        assert await inf.wait_synced(30)
        assert rec.events == [("add", "before", "0")]
        await client.create(CONFIGMAPS, cm(namespace, "after", {"v": "1"}, labels={"app": "x"}))
        await client.create(CONFIGMAPS, cm(namespace, "other", {"v": "1"}, labels={"app": "y"}))
        await client.patch_merge(CONFIGMAPS, "before", {"data": {"v": "2"}}, namespace)
        await client.delete(CONFIGMAPS, "after", namespace)
        await until(lambda: len(rec.events) >= 4, what="four events")
        assert rec.events == [("add", "before", "0"), ("add", "after", "1"), ("update", "before", "2"), ("delete", "after", "1")]
        assert [o["metadata"]["name"] for o in inf.list()] == ["before"]
        assert inf.get(Key(namespace, "before"))["data"] == {"v": "2"}
        assert [o["metadata"]["name"] for o in inf.store.by_index("by-v", "2")] == ["before"]
        # reads are copies: changing one does not touch the cache
        inf.get(Key(namespace, "before"))["data"]["v"] = "changed"
        assert inf.get(Key(namespace, "before"))["data"]["v"] == "2"
        # a late handler is told about what is already cached
        late = Recorder(inf)
        assert late.events == [("add", "before", "2")]
        fresh = await client.list_all(CONFIGMAPS, namespace, label_selector={"app": "x"})
        assert {Key.of(o) for o in fresh.items} == set(inf.store.keys())
    finally:
        await inf.stop()


async def test_informer_resumes_after_reconnects_without_missing_or_repeating(client, sandbox, namespace):
    """Short server-side watch timeouts force a reconnect every second, and etcd is compacted in between:
    every update still arrives once, in order."""
    await client.create(CONFIGMAPS, cm(namespace, "counter", {"v": "0"}))
    inf = Informer(client, CONFIGMAPS, namespace=namespace, watch_timeout=1)
    rec = Recorder(inf)
    inf.start()
    try:
        assert await inf.wait_synced(30)
        for i in range(1, 13):
            await client.patch_merge(CONFIGMAPS, "counter", {"data": {"v": str(i)}}, namespace)
            if i % 4 == 0:
                await asyncio.to_thread(compact_etcd, sandbox)
            await asyncio.sleep(0.25)
        await until(lambda: rec.of("counter")[-1:] == [("update", "12")], what="the last update")
        assert rec.of("counter") == [("add", "0")] + [("update", str(i)) for i in range(1, 13)]
        assert await cache_matches_server(client, inf)
        assert inf.watches >= 3, "the watch was reopened several times"
    finally:
        await inf.stop()


@pytest.mark.parametrize("resource", [CONFIGMAPS, EVENTS], ids=["configmaps-watch-cache", "events-etcd-410"])
async def test_expired_watch_is_recovered_without_a_missed_update(client, sandbox, namespace, resource):
    """The informer's connection drops; meanwhile objects change and etcd is compacted past its version.

    Events are not in the API server's watch cache, so resuming their watch hits etcd's compaction: 410, and the
    informer lists again and reports exactly the differences. ConfigMaps resume from the watch cache's history.
    Either way: every change is delivered once, and the cache equals a fresh list.
    """
    make = (lambda name, v: cm(namespace, name, {"v": v})) if resource is CONFIGMAPS else (
        lambda name, v: event(namespace, name, v))

    async def change(name: str, v: str) -> None:
        patch = {"data": {"v": v}} if resource is CONFIGMAPS else {"message": v}
        await client.patch_merge(resource, name, patch, namespace)

    for name in ("keep", "edit", "edit-twice", "remove"):
        await client.create(resource, make(name, "0"))
    inf = Informer(client, resource, namespace=namespace, watch_timeout=2)
    rec = Recorder(inf)
    inf.start()
    assert await inf.wait_synced(30)
    known = [e for e in rec.events if e[1] != "kube-root-ca.crt"]
    assert sorted(known) == [("add", n, "0") for n in ("edit", "edit-twice", "keep", "remove")]
    rec.events.clear()
    stale_version = inf.resource_version

    await inf.stop()  # the connection drops; the informer keeps its cache and last version
    await change("edit", "1")
    await change("edit-twice", "1")
    await change("edit-twice", "2")
    await client.delete(resource, "remove", namespace)
    await client.create(resource, make("new", "1"))
    await client.create(CONFIGMAPS, cm(namespace, f"bump-{resource.plural}"))  # moves etcd past the last change
    compacted = await asyncio.to_thread(compact_etcd, sandbox)
    assert compacted > int(stale_version)

    inf.start()  # resumes the watch from the stale version
    try:
        await until(lambda: inf.resource_version != stale_version and any(e[1] == "new" for e in rec.events),
                    what="the informer to catch up")
        await until(lambda: cache_matches_server(client, inf), what="the cache to equal a fresh list")
        await asyncio.sleep(0.5)  # nothing more may arrive
        mine = [e for e in rec.events if not e[1].startswith("bump-")]
        if resource is EVENTS:
            assert inf.lists == 2, "the expired watch must have been recovered by listing again"
            # a relist sees only final states: one update per changed object
            assert sorted(mine) == [("add", "new", "1"), ("delete", "remove", "0"), ("update", "edit", "1"),
                                    ("update", "edit-twice", "2")]
        else:
            assert inf.lists == 1, "the watch cache still had the history: no relist needed"
            assert mine == [("update", "edit", "1"), ("update", "edit-twice", "1"), ("update", "edit-twice", "2"),
                            ("delete", "remove", "0"), ("add", "new", "1")]
        assert rec.of("keep") == []
    finally:
        await inf.stop()


# -- controller --------------------------------------------------------------------------------------------


class Calls:
    def __init__(self):
        self.log: list[tuple[float, str]] = []

    def add(self, key: Key) -> None:
        self.log.append((time.monotonic(), key.name))

    def of(self, name: str) -> list[float]:
        return [t for t, n in self.log if n == name]


async def test_controller_reconciles_dedups_retries_and_requeues(client, namespace):
    calls = Calls()
    gate = asyncio.Event()
    failures = {"flaky": 3}

    async def reconcile(key: Key) -> Result | None:
        calls.add(key)
        if key.name == "slow" and len(calls.of("slow")) == 1:
            await gate.wait()
        if failures.get(key.name, 0) > 0:
            failures[key.name] -= 1
            raise RuntimeError(f"{key.name} is not ready yet")
        if key.name == "terminal":
            raise TerminalError("bad input")
        if key.name == "periodic" and len(calls.of("periodic")) == 1:
            return Result(requeue_after=0.4)
        return None

    for name in ("plain", "slow", "flaky", "periodic", "terminal"):
        await client.create(CONFIGMAPS, cm(namespace, name, {"v": "0"}))
    cache = Cache(client, namespace=namespace)
    ctrl = Controller("runtime-test", reconcile, cache=cache, for_=CONFIGMAPS, workers=4,
                      rate_limiter=ExponentialBackoff(0.05, 10))
    cache.start()
    task = asyncio.create_task(ctrl.run())
    try:
        await until(lambda: calls.of("slow"), what="the slow reconcile to start")
        # a burst of changes while "slow" is being reconciled: one more reconcile, after it finishes
        inf = ctrl.informer
        for i in range(1, 6):
            last = await client.patch_merge(CONFIGMAPS, "slow", {"data": {"v": str(i)}}, namespace)
        await until(lambda: inf.get(Key(namespace, "slow"), copy=False)["metadata"]["resourceVersion"]
                    == last["metadata"]["resourceVersion"], what="the informer to see the burst")
        assert len(calls.of("slow")) == 1, "never two reconciles of one key at once"
        gate.set()
        await until(lambda: len(calls.of("slow")) == 2, what="the burst to be reconciled once")

        # failures are retried with growing backoff; success resets it
        await until(lambda: len(calls.of("flaky")) == 4, what="flaky to succeed on its 4th try")
        t = calls.of("flaky")
        gaps = [b - a for a, b in zip(t, t[1:])]
        assert all(gap >= want for gap, want in zip(gaps, [0.05, 0.1, 0.2])), gaps
        assert ctrl.queue.num_requeues(Key(namespace, "flaky")) == 0

        # requeue-after reconciles again without any change
        await until(lambda: len(calls.of("periodic")) == 2, what="the requeue after 0.4 s")
        first, second = calls.of("periodic")
        assert second - first >= 0.4

        await until(lambda: calls.of("plain") and calls.of("terminal"), what="plain and terminal")
        await asyncio.sleep(0.5)
        assert len(calls.of("plain")) == 1
        assert len(calls.of("terminal")) == 1, "a terminal error is not retried"
        assert len(calls.of("slow")) == 2 and len(calls.of("periodic")) == 2 and len(calls.of("flaky")) == 4

        sample = kube_metrics.registry.get_sample_value
        assert sample("controller_runtime_reconcile_errors_total", {"controller": "runtime-test"}) == 4
        assert sample("controller_runtime_terminal_reconcile_errors_total", {"controller": "runtime-test"}) == 1
        assert sample("controller_runtime_reconcile_total", {"controller": "runtime-test", "result": "requeue_after"}) == 1
        assert sample("controller_runtime_reconcile_total", {"controller": "runtime-test", "result": "success"}) >= 4
        assert sample("controller_runtime_reconcile_time_seconds_count", {"controller": "runtime-test"}) == len(calls.log)
        assert sample("workqueue_retries_total", {"name": "runtime-test"}) == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await cache.stop()


async def test_owned_and_mapped_objects_enqueue_their_parent(client, namespace):
    calls = Calls()

    async def reconcile(key: Key) -> None:
        calls.add(key)

    parent = await client.create(CONFIGMAPS, cm(namespace, "parent", labels={"role": "parent"}))
    owner_ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "parent", "uid": parent["metadata"]["uid"],
                 "controller": True}
    await client.create(CONFIGMAPS, cm(namespace, "child", {"v": "0"}, labels={"role": "child"}, owners=[owner_ref]))
    await client.create(CONFIGMAPS, cm(namespace, "not-controlled", {"v": "0"}, labels={"role": "child"},
                                       owners=[{**owner_ref, "controller": False}]))
    await client.create(CONFIGMAPS, cm(namespace, "pointer", {"target": "parent"}, labels={"role": "pointer"}))

    cache = Cache(client, namespace=namespace)
    ctrl = Controller("owner-test", reconcile, cache=cache, for_=CONFIGMAPS, label_selector={"role": "parent"})
    ctrl.owns(CONFIGMAPS, label_selector={"role": "child"})
    ctrl.watches(CONFIGMAPS, lambda o: [Key(namespace, o["data"]["target"])], label_selector={"role": "pointer"})
    cache.start()
    task = asyncio.create_task(ctrl.run())
    try:
        # initial sync: parent once (its own add, the child's and the pointer's collapse into one key)
        await until(lambda: calls.of("parent"), what="the first reconcile")
        await asyncio.sleep(0.3)
        assert {n for _, n in calls.log} == {"parent"}
        before = len(calls.of("parent"))

        await client.patch_merge(CONFIGMAPS, "child", {"data": {"v": "1"}}, namespace)
        await until(lambda: len(calls.of("parent")) == before + 1, what="the owner to be reconciled")

        await client.patch_merge(CONFIGMAPS, "pointer", {"data": {"extra": "1"}}, namespace)
        await until(lambda: len(calls.of("parent")) == before + 2, what="the mapped key to be reconciled")

        children = cache.informer(CONFIGMAPS, label_selector={"role": "child"})
        changed = await client.patch_merge(CONFIGMAPS, "not-controlled", {"data": {"v": "1"}}, namespace)
        await until(lambda: children.get(Key(namespace, "not-controlled"), copy=False)["metadata"]["resourceVersion"]
                    == changed["metadata"]["resourceVersion"], what="the informer to see the change")
        await asyncio.sleep(0.3)
        assert len(calls.of("parent")) == before + 2, "a non-controller owner reference enqueues nothing"

        await client.delete(CONFIGMAPS, "child", namespace)
        await until(lambda: len(calls.of("parent")) == before + 3, what="the owner after its child is deleted")
        assert {n for _, n in calls.log} == {"parent"}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await cache.stop()


# -- manager: leader election, probes, metrics ---------------------------------------------------------------


def election(namespace: str, **overrides) -> LeaderElection:
    settings = dict(name=f"runtime-{namespace}", namespace=namespace, lease_duration=3, renew_deadline=2,
                    retry_period=0.25)
    settings.update(overrides)
    return LeaderElection(**settings)


def make_manager(client: Client, namespace: str, calls: Calls, tag: str, le: LeaderElection, **kwargs) -> Manager:
    mgr = Manager(client, namespace=namespace, leader_election=le, health_address=kwargs.pop("health_address", None),
                  **kwargs)

    async def reconcile(key: Key) -> None:
        calls.add(Key(tag, key.name))

    mgr.controller(f"le-{tag}-{namespace}", reconcile, for_=CONFIGMAPS)
    return mgr


async def lease_spec(client: Client, le: LeaderElection) -> dict:
    return (await client.get(LEASES, le.name, le.namespace))["spec"]


async def test_only_the_leader_reconciles_and_a_crash_fails_over(client, namespace):
    le = election(namespace)
    a_calls, b_calls = Calls(), Calls()
    a = make_manager(client, namespace, a_calls, "a", le)
    b = make_manager(client, namespace, b_calls, "b", le)
    for i in range(3):
        await client.create(CONFIGMAPS, cm(namespace, f"item-{i}"))
    a_task = asyncio.create_task(a.run(handle_signals=False))
    await until(lambda: a.is_leader, what="a to lead")
    b_task = asyncio.create_task(b.run(handle_signals=False))
    try:
        await until(lambda: b.cache.has_synced(), what="b's cache to sync")
        await until(lambda: len({n for _, n in a_calls.log}) == 4, what="a to reconcile everything")
        await client.create(CONFIGMAPS, cm(namespace, "item-late"))
        await until(lambda: a_calls.of("item-late"), what="a to reconcile a new object")
        await asyncio.sleep(4 * le.retry_period)
        assert b_calls.log == [] and not b.is_leader, "a replica that does not lead never reconciles"
        assert (await lease_spec(client, le))["holderIdentity"] == a.elector.identity

        # crash: a's tasks are cancelled; it does not release the lease
        a_task.cancel()
        await asyncio.gather(a_task, return_exceptions=True)
        crashed_at = time.monotonic()
        a_done = len(a_calls.log)
        assert (await lease_spec(client, le))["holderIdentity"] == a.elector.identity
        await until(lambda: b.is_leader, timeout=le.lease_duration + le.renew_deadline + 4 * le.retry_period,
                    what="b to take over", interval=0.02)
        took = time.monotonic() - crashed_at
        # b must wait for the lease to expire as it observed it (it saw the last renewal at most ~1 retry before)
        assert took >= le.lease_duration - 1.2 * le.retry_period - 0.1, took
        spec = await lease_spec(client, le)
        assert spec["holderIdentity"] == b.elector.identity and spec["leaseTransitions"] == 1
        await until(lambda: len({n for _, n in b_calls.log}) == 5, what="b to reconcile everything")
        assert len(a_calls.log) == a_done, "the crashed replica does nothing more"

        # graceful stop releases the lease at once
        b.stop()
        await asyncio.wait_for(b_task, 15)
        assert (await lease_spec(client, le)).get("holderIdentity") in (None, "")
    finally:
        for t in (a_task, b_task):
            t.cancel()
        await asyncio.gather(a_task, b_task, return_exceptions=True)


async def test_losing_the_lease_stops_reconciling_at_once(client, namespace):
    le = election(namespace, renew_deadline=2)
    started, cancelled = asyncio.Event(), asyncio.Event()
    after_loss = []
    mgr = Manager(client, namespace=namespace, leader_election=le, health_address=None)

    async def reconcile(key: Key) -> None:
        if mgr.elector.lost.is_set():
            after_loss.append(key)
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    mgr.controller(f"loss-{namespace}", reconcile, for_=CONFIGMAPS)
    await client.create(CONFIGMAPS, cm(namespace, "busy"))
    task = asyncio.create_task(mgr.run(handle_signals=False))
    try:
        await asyncio.wait_for(started.wait(), 30)
        # someone else takes the lease (as an admin might, or after a partition)
        lease = await client.get(LEASES, le.name, le.namespace)
        lease["spec"]["holderIdentity"] = "intruder"
        lease["spec"]["leaseDurationSeconds"] = 3600
        await client.update(LEASES, lease)
        with pytest.raises(LeaderElectionLost):
            await asyncio.wait_for(task, le.renew_deadline + 5)
        assert cancelled.is_set(), "the reconcile in flight is cancelled"
        assert not mgr.is_leader and after_loss == []
        assert kube_metrics.registry.get_sample_value("leader_election_master_status", {"name": le.name}) == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_graceful_stop_finishes_reconciles_in_flight(client, namespace):
    finished = asyncio.Event()
    gate = asyncio.Event()
    mgr = Manager(client, namespace=namespace, health_address=None, graceful_shutdown_timeout=10)

    async def reconcile(key: Key) -> None:
        await gate.wait()
        finished.set()

    mgr.controller(f"graceful-{namespace}", reconcile, for_=CONFIGMAPS)
    await client.create(CONFIGMAPS, cm(namespace, "work"))
    task = asyncio.create_task(mgr.run(handle_signals=False))
    try:
        await until(lambda: mgr.controllers[0].queue.processing() >= 1, what="a reconcile in flight")
        mgr.stop()
        await asyncio.sleep(0.2)
        assert not task.done(), "stop waits for the reconcile in flight"
        gate.set()
        await asyncio.wait_for(task, 10)
        assert finished.is_set()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_health_readiness_and_metrics_endpoints(client, namespace):
    mgr = Manager(client, namespace=namespace, health_address="127.0.0.1:0",
                  metrics=MetricsServing(address="127.0.0.1:0", secure=False))
    gate = asyncio.Event()

    async def reconcile(key: Key) -> None:
        await gate.wait()

    mgr.controller(f"probe-{namespace}", reconcile, for_=CONFIGMAPS)
    mgr.add_readyz_check("gate", lambda: gate.is_set() or "the gate is closed")
    await client.create(CONFIGMAPS, cm(namespace, "x"))
    task = asyncio.create_task(mgr.run(handle_signals=False))
    try:
        await until(lambda: mgr.health_server is not None and mgr.metrics_server is not None and mgr.health_server.port,
                    what="the servers")
        base = f"http://127.0.0.1:{mgr.health_server.port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/healthz") as r:
                assert (r.status, await r.text()) == (200, "ok")
            async with http.get(base + "/readyz") as r:
                text = await r.text()
                assert r.status == 500 and "[-]gate failed: the gate is closed" in text
            gate.set()
            await until(lambda: mgr.cache.has_synced(), what="the cache")
            async with http.get(base + "/readyz?verbose") as r:
                text = await r.text()
                assert r.status == 200 and "[+]informers ok" in text and "[+]gate ok" in text
            async with http.get(base + "/readyz/informers") as r:
                assert r.status == 200
            async with http.get(base + "/readyz/nothing") as r:
                assert r.status == 404
            await until(lambda: kube_metrics.registry.get_sample_value(
                "controller_runtime_reconcile_total", {"controller": f"probe-{namespace}", "result": "success"}),
                what="a reconcile")
            async with http.get(f"http://127.0.0.1:{mgr.metrics_server.port}/metrics") as r:
                body = await r.text()
            assert r.status == 200
            for line in (
                f'controller_runtime_reconcile_total{{controller="probe-{namespace}",result="success"}}',
                f'controller_runtime_reconcile_time_seconds_bucket{{controller="probe-{namespace}",le="0.005"}}',
                f'workqueue_depth{{name="probe-{namespace}"}}',
                f'workqueue_adds_total{{name="probe-{namespace}"}}',
                "controller_runtime_reconcile_errors_total",
                "workqueue_retries_total",
                "leader_election_master_status",
            ):
                assert line in body, line
            assert "_created" not in body
    finally:
        mgr.stop()
        await asyncio.wait_for(task, 15)


async def test_secure_metrics_need_an_authorized_token(client, sandbox, namespace):
    mgr = Manager(client, namespace=namespace, health_address=None,
                  metrics=MetricsServing(address="127.0.0.1:0", secure=True))
    task = asyncio.create_task(mgr.run(handle_signals=False))
    sa = "scraper"
    role = f"metrics-reader-{namespace}"
    sandbox.kubectl("create", "serviceaccount", sa, "-n", namespace)
    token = sandbox.kubectl("create", "token", sa, "-n", namespace).stdout.strip()
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    try:
        await until(lambda: mgr.metrics_server is not None and mgr.metrics_server.port, what="the metrics server")
        url = f"https://127.0.0.1:{mgr.metrics_server.port}/metrics"
        async with aiohttp.ClientSession() as http:
            async def status(headers: dict) -> int:
                async with http.get(url, headers=headers, ssl=insecure) as r:
                    return r.status

            assert await status({}) == 401
            assert await status({"Authorization": "Bearer not-a-token"}) == 401
            assert await status({"Authorization": f"Bearer {token}"}) == 403
            sandbox.kubectl("create", "clusterrole", role, "--verb=get", "--non-resource-url=/metrics")
            sandbox.kubectl("create", "clusterrolebinding", role, f"--clusterrole={role}",
                            f"--serviceaccount={namespace}:{sa}")
            mgr.metrics_server.authorize._cache.clear()  # the 403 above is cached for a few seconds

            async def allowed() -> bool:
                return await status({"Authorization": f"Bearer {token}"}) == 200

            await until(allowed, what="an authorized scrape (RBAC takes effect)")
    finally:
        sandbox.kubectl("delete", "clusterrolebinding", role, "--ignore-not-found", check=False)
        sandbox.kubectl("delete", "clusterrole", role, "--ignore-not-found", check=False)
        mgr.stop()
        await asyncio.wait_for(task, 15)


SIGTERM_SCRIPT = """
import asyncio, sys
from airunway.kube import CONFIGMAPS, Client, LeaderElection, Manager, configure_logging

async def main(kubeconfig, namespace):
    configure_logging("info", "json")
    client = await Client.connect(kubeconfig)
    mgr = Manager(client, namespace=namespace, health_address=None, leader_election=LeaderElection(
        name="sigterm", namespace=namespace, lease_duration=15, renew_deadline=10, retry_period=0.5))

    async def reconcile(key):
        print("RECONCILED", key, flush=True)

    mgr.controller("sigterm", reconcile, for_=CONFIGMAPS)
    await mgr.run()
    await client.close()
    print("STOPPED", flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_sigterm_stops_gracefully_and_releases_the_lease(client, sandbox, namespace):
    await client.create(CONFIGMAPS, cm(namespace, "sig"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SIGTERM_SCRIPT, str(sandbox.kubeconfig), namespace,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.startswith(b"RECONCILED "), line
        assert (await client.get(LEASES, "sigterm", namespace))["spec"]["holderIdentity"]
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert b"STOPPED" in out
        logs = [json.loads(x) for x in err.decode().splitlines() if x.startswith("{")]
        assert any(x["msg"] == "released the lease" for x in logs)
        assert not [x for x in logs if x["level"] == "error"]
        assert (await client.get(LEASES, "sigterm", namespace))["spec"].get("holderIdentity") in (None, "")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
