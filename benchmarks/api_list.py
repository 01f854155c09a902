"""How fast the dashboard answers ``GET /api/deployments`` with many deployments (goal: p50 under 50 ms at 1,000).

Starts its own sandbox (binaries from the build cache), creates ``--count`` ModelDeployments in one namespace and,
with ``--pods``, one Pending pod per deployment labelled as a provider labels its pods (a node selector no node
has keeps them unscheduled, so kwok does no work). Then runs ``airunway dashboard`` on 127.0.0.1 as a child
process, waits until its list holds every deployment, and times ``--requests`` sequential requests per URL over
HTTP (full list; one namespace; one page of 20). Reports p50, p90, p99, the answer's size and the dashboard's
resident memory; then the full list's throughput with ``--clients`` concurrent connections for ``--seconds``.

    .venv/bin/python benchmarks/api_list.py [--count 1000] [--pods] [--requests 200] [--clients 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.errors import NotFound
from airunway.kube.resources import NAMESPACES, PODS, SERVICEACCOUNTS
from airunway.sandbox.build import ensure_binaries
from airunway.sandbox.cluster import Sandbox

NAMESPACE = "bench"


def model(i: int) -> dict:
    return {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": f"model-{i:04d}", "namespace": NAMESPACE,
                     "labels": {"app.kubernetes.io/instance": f"model-{i:04d}"}},
        "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"},
                 "resources": {"gpu": {"count": 1}}, "scaling": {"replicas": 1}},
    }


def pod(i: int) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"model-{i:04d}-0", "namespace": NAMESPACE,
                     "labels": {"airunway.ai/deployment": f"model-{i:04d}"}},
        "spec": {"automountServiceAccountToken": False, "nodeSelector": {"bench": "nowhere"},
                 "containers": [{"name": "main", "image": "vllm/vllm-openai:latest"}]},
    }


async def populate(kubeconfig: Path, count: int, with_pods: bool) -> None:
    async with await Client.connect(kubeconfig) as kube:
        await kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        while True:  # pods need the namespace's default ServiceAccount
            try:
                await kube.get(SERVICEACCOUNTS, "default", NAMESPACE)
                break
            except NotFound:
                await asyncio.sleep(0.2)
        gate = asyncio.Semaphore(32)

        async def create(resource, obj):
            async with gate:
                await kube.create(resource, obj)

        started = time.monotonic()
        jobs = [create(MODEL_DEPLOYMENTS, model(i)) for i in range(count)]
        if with_pods:
            jobs += [create(PODS, pod(i)) for i in range(count)]
        await asyncio.gather(*jobs)
        print(f"created {count} deployments{' and pods' if with_pods else ''} in {time.monotonic() - started:.1f}s")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def listing_dashboard(sandbox: Sandbox, log_path: Path, *, auth: bool, path: str, total: int,
                      headers: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``airunway dashboard`` on 127.0.0.1 for ``sandbox`` (authentication on when ``auth``), given as its base URL
    and process once ``path`` lists at least ``total`` deployments (within 120 s); stopped when the block ends."""
    port = free_port()
    with open(log_path, "wb") as log:
        dashboard = subprocess.Popen(
            [sys.executable, "-m", "airunway.cli", "dashboard", f"--kubeconfig={sandbox.kubeconfig}",
             "--host=127.0.0.1", f"--port={port}"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "AUTH_ENABLED": "true" if auth else "false"})
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    listed = httpx.get(f"{base}{path}", headers=headers, timeout=60).json()
                    if listed["pagination"]["total"] >= total:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"the dashboard did not list {total} deployments at {path} within 120 s")
                time.sleep(0.5)
            yield base, dashboard
        finally:
            dashboard.terminate()
            dashboard.wait(timeout=30)


def measure(base: str, path: str, requests: int) -> tuple[list[float], int]:
    times = []
    size = 0
    with httpx.Client(base_url=base, timeout=60) as http:
        for _ in range(5):
            http.get(path)  # warm up
        for _ in range(requests):
            started = time.perf_counter()
            answer = http.get(path)
            times.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            size = len(answer.content)
    return times, size


async def throughput(base: str, path: str, clients: int, seconds: float,
                     headers: dict[str, str] | None = None) -> tuple[float, list[float]]:
    """Requests per second answered with ``clients`` connections each asking again as soon as it is answered."""
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=clients),
                                 headers=headers) as http:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                (await http.get(path)).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(times) / elapsed, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--pods", action="store_true", help="one Pending pod per deployment")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections for the throughput")
    parser.add_argument("--seconds", type=float, default=10, help="how long to measure the throughput")
    args = parser.parse_args()

    ensure_binaries()
    with tempfile.TemporaryDirectory(prefix="airunway-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        sandbox.up(progress=lambda msg: print(f"[sandbox] {msg}", flush=True))
        try:
            asyncio.run(populate(sandbox.kubeconfig, args.count, args.pods))
            with listing_dashboard(sandbox, Path(tmp) / "dashboard.log", auth=False,
                                   path=f"/api/deployments?namespace={NAMESPACE}&limit=1", total=args.count) as (
                    base, dashboard):
                print(f"dashboard RSS after sync: {rss_mib(dashboard.pid):.0f} MiB")
                print(f"{'request':<52} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'bytes':>10}")
                for path in ("/api/deployments", f"/api/deployments?namespace={NAMESPACE}",
                             f"/api/deployments?namespace={NAMESPACE}&limit=20"):
                    times, size = measure(base, path, args.requests)
                    q = statistics.quantiles(times, n=100)
                    print(f"{path:<52} {statistics.median(times):8.1f} {q[89]:8.1f} {q[98]:8.1f} {size:10d}")
                rate, times = asyncio.run(throughput(base, "/api/deployments", args.clients, args.seconds))
                q = statistics.quantiles(times, n=100)
                print(f"/api/deployments with {args.clients} concurrent clients: {rate:.0f} requests/s "
                      f"(p50 {statistics.median(times):.1f} ms, p99 {q[98]:.1f} ms, {len(times)} requests)")
                print(f"dashboard RSS after the requests: {rss_mib(dashboard.pid):.0f} MiB")
        finally:
            sandbox.down()


if __name__ == "__main__":
    main()
