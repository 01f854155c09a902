"""The core controller survives crashes: a SIGKILL in the middle of a burst loses nothing, and with two replicas
only the leader reconciles and a killed leader is replaced once its lease expires.

The controllers run as child processes (``airunway controller``, no webhooks) against the sandbox.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.errors import Conflict
from airunway.kube.resources import LEASES

from support import ControllerProcess, eventually, free_port
from workload import VLLM_2_GPUS, mixed_deployments, model_deployment, selected_provider

LEASE = "2038fe6a.airunway.ai"
CONDITIONS = {"Validated", "EngineSelected", "ProviderSelected"}


async def create_all(client: Client, bodies: list[dict]) -> None:
    gate = asyncio.Semaphore(16)

    async def create(body: dict) -> None:
        async with gate:
            await client.create(MODEL_DEPLOYMENTS, body)

    await asyncio.gather(*(create(body) for body in bodies))


async def deployments(client: Client, namespace: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in (await client.list_all(MODEL_DEPLOYMENTS, namespace)).items}


async def wait_for_selections(client: Client, namespace: str, since: str, count: int) -> set[str]:
    """Watch from ``since`` until ``count`` deployments were seen with a provider; their names."""
    seen: set[str] = set()
    while True:
        async for event in client.watch(MODEL_DEPLOYMENTS, namespace, resource_version=since, timeout_seconds=120):
            since = event.object["metadata"]["resourceVersion"]
            if event.type != "BOOKMARK" and selected_provider(event.object):
                seen.add(event.object["metadata"]["name"])
                if len(seen) >= count:
                    return seen


def settled(objects: dict[str, dict]) -> bool:
    """Every deployment selected, for its current generation."""
    return all(
        selected_provider(obj) and (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]
        for obj in objects.values()
    )


async def change_while_down(client: Client, obj: dict, expected: dict[str, str]) -> str:
    """Give ``obj`` a generation 2 as it stands: a selected one keeps its provider (selection is sticky), an
    unselected one gets a spec that another provider matches (``expected`` is updated). The write carries the
    resourceVersion read, so a status write that landed after the read is noticed. Which of the two it was."""
    name, namespace = obj["metadata"]["name"], obj["metadata"]["namespace"]
    while True:
        if selected_provider(obj):
            kind, spec = "kept", {"env": [{"name": "CHANGED", "value": "1"}]}
            provider = expected[name]
        else:
            moved_to_kaito = expected[name] == "kuberay"
            kind, provider = "moved", "kaito" if moved_to_kaito else "kuberay"
            spec = {"engine": None, "resources": None, "provider": None, **({} if moved_to_kaito else VLLM_2_GPUS)}
        patch = {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]}, "spec": spec}
        try:
            await client.patch_merge(MODEL_DEPLOYMENTS, name, patch, namespace)
        except Conflict:
            obj = await client.get(MODEL_DEPLOYMENTS, name, namespace)
            continue
        expected[name] = provider
        return kind


def problems_of(obj: dict, expected_provider: str) -> list[str]:
    name, generation = obj["metadata"]["name"], obj["metadata"]["generation"]
    status = obj.get("status") or {}
    found = []
    if selected_provider(obj) != expected_provider:
        found.append(f"{name}: provider {selected_provider(obj)!r}, expected {expected_provider!r}")
    if status.get("observedGeneration") != generation:
        found.append(f"{name}: observedGeneration {status.get('observedGeneration')} != generation {generation}")
    types = [c["type"] for c in status.get("conditions") or []]
    if len(types) != len(set(types)):
        found.append(f"{name}: duplicate condition types {types}")
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    if not CONDITIONS <= set(conditions) or any(conditions[t]["status"] != "True" for t in CONDITIONS):
        found.append(f"{name}: conditions {status.get('conditions')}")
    elif conditions["Validated"]["observedGeneration"] != generation:
        found.append(f"{name}: Validated is for generation {conditions['Validated']['observedGeneration']}")
    if status.get("phase") != "Pending" or not (status.get("engine") or {}).get("type"):
        found.append(f"{name}: phase {status.get('phase')!r}, engine {status.get('engine')}")
    return found


async def test_sigkill_in_the_middle_of_a_burst_loses_nothing(sandbox, namespace, providers, client, tmp_path):
    count = 200
    bodies = mixed_deployments(namespace, count)
    expected = {body["metadata"]["name"]: provider for body, provider in bodies}
    await create_all(client, [body for body, _ in bodies])
    since = (await client.list(MODEL_DEPLOYMENTS, namespace, limit=1))["metadata"]["resourceVersion"]

    # One worker, killed as soon as a watch has shown ten selections: far from the end of the burst.
    first = ControllerProcess(sandbox, tmp_path / "first.log", "--max-concurrent-reconciles=1")
    try:
        try:
            await asyncio.wait_for(wait_for_selections(client, namespace, since, 10), 60)
        except asyncio.TimeoutError:
            raise AssertionError(f"no selections within 60 s; controller log:\n{first.log_tail()}") from None
    finally:
        first.kill()
    at_kill = await deployments(client, namespace)
    done = {name for name, obj in at_kill.items() if selected_provider(obj)}
    assert set(at_kill) == set(expected)
    assert 0 < len(done) < count, f"the kill was not mid-way: {len(done)} of {count} selected"

    # While no controller runs, give some selected and some unselected deployments a new generation.
    chosen = sorted(done)[:5] + sorted(set(at_kill) - done)[:20]
    kinds = [await change_while_down(client, at_kill[name], expected) for name in chosen]
    assert "kept" in kinds and "moved" in kinds, kinds

    second = ControllerProcess(sandbox, tmp_path / "second.log", "--max-concurrent-reconciles=2")
    try:
        second.wait_ready()
        final = {}

        async def all_settled() -> bool:
            final.update(await deployments(client, namespace))
            return settled(final)

        deadline = time.monotonic() + 60
        while not await all_settled():
            assert time.monotonic() < deadline, (
                f"not settled after 60 s: {sum(1 for o in final.values() if selected_provider(o))} selected; "
                f"controller log:\n{second.log_tail()}"
            )
            await asyncio.sleep(0.25)
    finally:
        second.stop()

    assert set(final) == set(expected), "deployments were lost or added"
    problems = [p for name, obj in sorted(final.items()) for p in problems_of(obj, expected[name])]
    assert not problems, "\n".join(problems[:20])
    assert all(final[name]["metadata"]["generation"] == 2 for name in chosen)
    print(f"killed with {len(done)} of {count} selected; changed {len(chosen)} while down; all {count} consistent")


# -- two replicas ------------------------------------------------------------------------------------------


def scrape(port: int, metric: str, **labels: str) -> float:
    """The sum of the samples ``metric`` with ``labels`` on a replica's /metrics (0 if none)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == metric and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def reconciles(port: int) -> float:
    return scrape(port, "controller_runtime_reconcile_total", controller="modeldeployment")


def leading(port: int) -> float:
    return scrape(port, "leader_election_master_status", name=LEASE)


def identity(replica: ControllerProcess) -> str:
    found = eventually(
        lambda: re.search(r'msg="waiting for leadership".* identity=(\S+)', replica.log_path.read_text()),
        timeout=30, what="the replica's leader-election identity in its log",
    )
    return found.group(1)


async def test_only_the_leader_reconciles_and_a_killed_leader_is_replaced(
    sandbox, namespace, providers, client, tmp_path, record_property
):
    ports = [free_port(), free_port()]
    replicas = [
        ControllerProcess(
            sandbox, tmp_path / f"replica-{i}.log", "--leader-elect", f"--leader-election-namespace={namespace}",
            "--leader-elect-lease-duration=4", "--leader-elect-renew-deadline=3", "--leader-elect-retry-period=1",
            f"--metrics-bind-address=127.0.0.1:{port}", "--metrics-secure=false",
        )
        for i, port in enumerate(ports)
    ]
    try:
        for replica in replicas:
            replica.wait_ready()
        identities = [identity(replica) for replica in replicas]

        async def holder() -> str:
            try:
                return (await client.get(LEASES, LEASE, namespace))["spec"].get("holderIdentity") or ""
            except Exception:  # noqa: BLE001 - not created yet
                return ""

        deadline = time.monotonic() + 30
        while (held_by := await holder()) not in identities:
            assert time.monotonic() < deadline, f"no replica took the Lease; holder {held_by!r}"
            await asyncio.sleep(0.2)
        leader_index = identities.index(held_by)
        leader, follower = replicas[leader_index], replicas[1 - leader_index]
        leader_port, follower_port = ports[leader_index], ports[1 - leader_index]
        eventually(lambda: leading(leader_port) == 1, timeout=10, what="the leader's leader_election_master_status")
        assert leading(follower_port) == 0

        before = mixed_deployments(namespace, 6, "before")
        await create_all(client, [body for body, _ in before])
        deadline = time.monotonic() + 30
        while not settled(objects := await deployments(client, namespace)) or len(objects) < len(before):
            assert time.monotonic() < deadline, f"the leader did not select; log:\n{leader.log_tail()}"
            await asyncio.sleep(0.2)
        assert all(selected_provider(objects[b["metadata"]["name"]]) == p for b, p in before)
        assert reconciles(leader_port) > 0
        assert reconciles(follower_port) == 0, "the replica that does not lead reconciled"

        leader.kill()
        killed_at = time.monotonic()
        await client.create(MODEL_DEPLOYMENTS, model_deployment(namespace, "after", VLLM_2_GPUS))
        took_lease = selected = None
        while took_lease is None or selected is None:
            elapsed = time.monotonic() - killed_at
            assert elapsed < 60, f"no handover within 60 s; follower log:\n{follower.log_tail()}"
            if took_lease is None and await holder() == identities[1 - leader_index]:
                took_lease = elapsed
            if selected is None and selected_provider(await client.get(MODEL_DEPLOYMENTS, "after", namespace)):
                selected = elapsed
            await asyncio.sleep(0.05)
        assert selected_provider(await client.get(MODEL_DEPLOYMENTS, "after", namespace)) == "kuberay"
        assert leading(follower_port) == 1 and reconciles(follower_port) > 0
        lease = await client.get(LEASES, LEASE, namespace)
        assert lease["spec"]["leaseTransitions"] >= 1
        record_property("lease_taken_after_kill_seconds", round(took_lease, 2))
        record_property("new_deployment_selected_after_kill_seconds", round(selected, 2))
        print(f"leader SIGKILLed: the follower held the Lease after {took_lease:.2f} s and selected a new "
              f"deployment after {selected:.2f} s (lease 4 s, renew deadline 3 s, retry period 1 s)")
    finally:
        for replica in replicas:
            replica.stop()
