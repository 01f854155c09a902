"""Leader election rules over an in-memory Lease store with resourceVersion checks (no cluster)."""

from __future__ import annotations

import asyncio

import pytest

from airunway.kube.errors import AlreadyExists, Conflict, NotFound, ServerError
from airunway.kube.leader import LeaderElector, default_identity
from airunway.kube.resources import LEASES
from airunway.kube.store import clone


class FakeLeases:
    """get/create/update of Leases with optimistic concurrency, like the API server."""

    def __init__(self) -> None:
        self.leases: dict[tuple[str, str], dict] = {}
        self.rv = 0
        self.fail_writes = False
        self.updates = 0

    async def get(self, resource, name, namespace=None):
        assert resource is LEASES
        await asyncio.sleep(0)  # let concurrent candidates interleave
        lease = self.leases.get((namespace, name))
        if lease is None:
            raise NotFound(404, "NotFound", f'leases "{name}" not found')
        return clone(lease)

    async def create(self, resource, obj, namespace=None):
        await asyncio.sleep(0)
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if key in self.leases:
            raise AlreadyExists(409, "AlreadyExists", "exists")
        return self._store(key, obj)

    async def update(self, resource, obj, subresource=None):
        await asyncio.sleep(0)
        if self.fail_writes:
            raise ServerError(500, "InternalError", "etcd is unavailable")
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        current = self.leases[key]
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "the object has been modified")
        self.updates += 1
        return self._store(key, obj)

    def _store(self, key, obj):
        self.rv += 1
        stored = clone(obj)
        stored["metadata"]["resourceVersion"] = str(self.rv)
        self.leases[key] = stored
        return clone(stored)

    def spec(self, name="lease", namespace="ns") -> dict:
        return self.leases[(namespace, name)]["spec"]


def elector(api: FakeLeases, ident: str, **kw) -> LeaderElector:
    settings = dict(name="lease", namespace="ns", identity=ident, lease_duration=1.0, renew_deadline=0.5,
                    retry_period=0.05)
    settings.update(kw)
    return LeaderElector(api, **settings)


async def test_first_candidate_leads_and_the_other_waits():
    api = FakeLeases()
    a, b = elector(api, "a"), elector(api, "b")
    ta = asyncio.create_task(a.run())
    await asyncio.wait_for(a.elected.wait(), 1)
    tb = asyncio.create_task(b.run())
    try:
        await asyncio.sleep(0.4)
        assert a.is_leader and not b.is_leader
        spec = api.spec()
        assert spec["holderIdentity"] == "a" and spec["leaseDurationSeconds"] == 1 and spec["leaseTransitions"] == 0
        assert spec["renewTime"].endswith("Z") and len(spec["renewTime"]) == len("2024-01-01T00:00:00.000000Z")
        assert api.updates >= 4, "the leader keeps renewing"
        assert b.holder == "a"
    finally:
        for t in (ta, tb):
            t.cancel()
        await asyncio.gather(ta, tb, return_exceptions=True)


async def test_crashed_leader_is_replaced_after_the_lease_expires():
    api = FakeLeases()
    a, b = elector(api, "a"), elector(api, "b")
    ta = asyncio.create_task(a.run())
    await asyncio.wait_for(a.elected.wait(), 1)
    tb = asyncio.create_task(b.run())
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    ta.cancel()  # a crash: no release
    await asyncio.gather(ta, return_exceptions=True)
    crashed = loop.time()
    assert not a.is_leader and api.spec()["holderIdentity"] == "a"
    try:
        await asyncio.wait_for(b.elected.wait(), 3)
        waited = loop.time() - crashed
        assert waited >= 1.0 - 0.05 * 1.2 - 0.02, waited  # not before the lease expired, as b observed it
        assert api.spec()["holderIdentity"] == "b" and api.spec()["leaseTransitions"] == 1
    finally:
        tb.cancel()
        await asyncio.gather(tb, return_exceptions=True)


async def test_release_hands_over_at_once():
    api = FakeLeases()
    a, b = elector(api, "a", lease_duration=30, renew_deadline=10), elector(api, "b", lease_duration=30, renew_deadline=10)
    ta = asyncio.create_task(a.run())
    await asyncio.wait_for(a.elected.wait(), 1)
    tb = asyncio.create_task(b.run())
    await asyncio.sleep(0.1)
    ta.cancel()
    await asyncio.gather(ta, return_exceptions=True)
    assert await a.release() is True
    assert api.spec().get("holderIdentity") is None and api.spec()["leaseDurationSeconds"] == 1
    try:
        await asyncio.wait_for(b.elected.wait(), 1)  # far sooner than the 30 s lease
        assert api.spec()["holderIdentity"] == "b"
        assert await a.release() is False, "a no longer holds it"
    finally:
        tb.cancel()
        await asyncio.gather(tb, return_exceptions=True)


async def test_racing_candidates_cannot_both_win():
    api = FakeLeases()
    candidates = [elector(api, f"c{i}") for i in range(5)]
    first = await asyncio.gather(*(c._attempt() for c in candidates))
    assert first.count(True) == 1, "one create wins, the others see AlreadyExists"
    # the holder vanished long ago (its record was observed long ago): everyone races to take over from the
    # same resourceVersion
    api.leases[("ns", "lease")]["spec"]["holderIdentity"] = "gone"
    for c in candidates:
        c._leading = False
        c._observed_spec, c._observed_at = clone(api.spec()), -100.0
    results = await asyncio.gather(*(c._attempt() for c in candidates))
    assert results.count(True) == 1, "optimistic concurrency lets exactly one update through"


async def test_renew_failures_past_the_deadline_lose_leadership_immediately():
    api = FakeLeases()
    lost_calls = []
    a = elector(api, "a", on_lost=lambda: lost_calls.append(a.is_leader))
    ta = asyncio.create_task(a.run())
    await asyncio.wait_for(a.elected.wait(), 1)
    api.fail_writes = True
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.wait_for(ta, 2)  # run() returns when leadership is lost
    assert loop.time() - start < 1.0, "lost before the lease (1 s) could expire for others"
    assert a.lost.is_set() and not a.is_leader and lost_calls == [False]


async def test_someone_else_taking_the_lease_is_noticed_on_the_next_renew():
    api = FakeLeases()
    a = elector(api, "a", lease_duration=30, renew_deadline=10)
    ta = asyncio.create_task(a.run())
    await asyncio.wait_for(a.elected.wait(), 1)
    api.leases[("ns", "lease")]["spec"]["holderIdentity"] = "intruder"
    api.leases[("ns", "lease")]["metadata"]["resourceVersion"] = "999"
    await asyncio.wait_for(ta, 1)
    assert a.lost.is_set() and a.holder == "intruder"


def test_settings_are_checked_and_identities_unique():
    with pytest.raises(ValueError):
        LeaderElector(FakeLeases(), name="l", namespace="ns", lease_duration=10, renew_deadline=10)
    one, two = default_identity(), default_identity()
    assert one != two and one.split("_")[0] == two.split("_")[0]
