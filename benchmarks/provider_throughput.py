"""How fast the Direct vLLM provider turns many new ModelDeployments into Deployments and Services.

Starts its own sandbox (binaries from the build cache) with enough simulated GPU capacity for every pod (by default
10 kwok nodes × 100 nvidia.com/gpu, 110 pods each) and a service range for 4,000 Services, runs ``airunway provider vllm`` and ``airunway controller``
(ENABLE_WEBHOOKS=false) as child processes — the real path: the core controller selects the provider named in
``spec.provider.name``, the provider renders and applies — then creates ``--count`` ModelDeployments of one GPU each
at once and reports the time from the first create request until every deployment

- has its Deployment and its Service,
- has a status.phase past Pending (Deploying: the Deployment exists and its replicas are not ready yet, or Running),
- is Running (kwok ran its pod and the Deployment became Available),

with per-object p50/p99 of the first two (from its create returning, client side), the provider's and the core
controller's resident memory once ready (VmRSS) and peak (VmHWM), the CPU time of each process during the round and
the API server's requests during the round by verb and resource (its ``apiserver_request_total``).
``--until deployed`` ends the round once the first two hold for all (without waiting for kwok and
kube-controller-manager to make every one Running).

    .venv/bin/python benchmarks/provider_throughput.py [--count 1000] [--workers 4] [--gpu-nodes 10]
                                                       [--gpus-per-node 100] [--profile out.prof]

With fewer GPUs than deployments the pods that cannot be placed keep their deployment Pending with the scheduler's
reason (as the provider reports it); those deployments never get past Pending and the round ends at ``--timeout``.
``--profile`` runs the provider under cProfile and writes the stats file on exit.
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
from dataclasses import dataclass, field
from pathlib import Path

from apiserver_requests import request_table, request_totals
from controller_selection import Controller, cpu_seconds, events, free_port

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.resources import DEPLOYMENTS, SERVICES
from airunway.sandbox.build import ensure_binaries
from airunway.sandbox.cluster import NodeLayout, Sandbox

NAMESPACE = "bench"
PAST_PENDING = ("Deploying", "Running")
# The sandbox's service range (a /24) holds 254 Services; one Service per deployment needs more. Nothing in the
# sandbox reaches the in-cluster `kubernetes` Service, so its address may move out of the certificate's names.
SERVICE_RANGE = "10.96.0.0/20"


class Child(Controller):
    """``airunway <command…>`` as a child process with a health port (readiness, memory and stop as the core
    controller's in controller_selection.py)."""

    def __init__(self, sandbox: Sandbox, command: list[str], log: Path, profile: Path | None = None) -> None:
        self.health = free_port()
        env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig), "ENABLE_WEBHOOKS": "false",
               "POD_NAMESPACE": "airunway-system"}
        python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(
            [*python, "-m", "airunway.cli", *command, f"--health-probe-bind-address=127.0.0.1:{self.health}",
             "--metrics-bind-address=0", "--zap-log-level=warning"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )


def deployment(i: int) -> dict:
    return {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": f"md-{i:05d}", "namespace": NAMESPACE},
        "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"},
                 "resources": {"gpu": {"count": 1}}},
    }


@dataclass
class Round:
    count: int
    created: dict[str, float] = field(default_factory=dict)
    selected: dict[str, float] = field(default_factory=dict)
    deployments: dict[str, float] = field(default_factory=dict)
    services: dict[str, float] = field(default_factory=dict)
    past_pending: dict[str, float] = field(default_factory=dict)
    running: dict[str, float] = field(default_factory=dict)
    pending_reason: dict[str, str] = field(default_factory=dict)
    model_events: int = 0
    start: float = 0.0
    create_done: float = 0.0
    peak_rss: dict[str, int] = field(default_factory=dict)
    idle_rss: dict[str, int] = field(default_factory=dict)
    requests: str = ""
    until_running: bool = True
    cpu: dict[str, float] = field(default_factory=dict)

    def objects(self) -> dict[str, float]:
        """When both the Deployment and the Service of each deployment were seen."""
        return {n: max(t, self.services[n]) for n, t in self.deployments.items() if n in self.services}

    def done(self) -> bool:
        if self.until_running:
            return len(self.running) == self.count and len(self.objects()) == self.count
        return len(self.past_pending) == self.count and len(self.objects()) == self.count

    def report(self) -> str:
        def total(times: dict[str, float]) -> str:
            if not times:
                return f"0/{self.count}"
            whole = f"{max(times.values()) - self.start:.2f} s"
            return whole if len(times) == self.count else f"{len(times)}/{self.count} (last after {whole})"

        def quantiles(times: dict[str, float]) -> str:
            latencies = sorted(max(0.0, times[n] - self.created[n]) for n in times if n in self.created)
            if len(latencies) < 2:
                return "-"
            q = statistics.quantiles(latencies, n=100, method="inclusive")
            return f"p50 {q[49]:.2f} s, p99 {q[98]:.2f} s"

        objects = self.objects()
        lines = [
            f"creates took {self.create_done - self.start:.2f} s",
            f"selected by the core controller: {total(self.selected)} (per object {quantiles(self.selected)})",
            f"Deployment and Service for all: {total(objects)} (per object {quantiles(objects)})",
            f"phase past Pending for all: {total(self.past_pending)} (per object {quantiles(self.past_pending)})",
            f"Running for all: {total(self.running)}",
            f"ModelDeployment writes seen: {self.model_events} ({self.model_events / self.count:.1f} per object)",
            "RSS once ready: " + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in self.idle_rss.items()),
            "peak RSS: " + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in self.peak_rss.items()),
            "CPU seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.cpu.items()),
        ]
        if self.pending_reason:
            reasons = sorted(set(self.pending_reason.values()))
            lines.append(f"{len(self.pending_reason)} held Pending, e.g. {reasons[0]!r}")
        out = "\n".join("  " + line for line in lines)
        return out + "\n  API server requests during the round (the creates included):\n" + self.requests


async def watch_models(client: Client, result: Round, since: str) -> None:
    async for event in events(client, MODEL_DEPLOYMENTS, since):
        now = time.perf_counter()
        result.model_events += 1
        name = event.object["metadata"]["name"]
        status = event.object.get("status") or {}
        if (status.get("provider") or {}).get("name"):
            result.selected.setdefault(name, now)
        phase = status.get("phase")
        if phase in PAST_PENDING:
            result.past_pending.setdefault(name, now)
            result.pending_reason.pop(name, None)
        if phase == "Running":
            result.running.setdefault(name, now)
        if phase == "Pending" and status.get("message"):
            result.pending_reason[name] = status["message"]


async def watch_objects(client: Client, resource, seen: dict[str, float], since: str) -> None:
    async for event in events(client, resource, since):
        if event.type == "ADDED":
            seen.setdefault(event.object["metadata"]["name"], time.perf_counter())


async def sample_rss(children: dict[str, Child], result: Round) -> None:
    while True:
        for name, child in children.items():
            result.peak_rss[name] = max(result.peak_rss.get(name, 0), child.proc_status("VmHWM"))
        await asyncio.sleep(0.2)


async def measure(sandbox: Sandbox, children: dict[str, Child], result: Round, concurrency: int,
                  timeout: float) -> None:
    pids = {**{name: child.proc.pid for name, child in children.items()},
            "kube-apiserver": sandbox.status()["kube-apiserver"], "etcd": sandbox.status()["etcd"],
            "kube-controller-manager": sandbox.status()["kube-controller-manager"],
            "kube-scheduler": sandbox.status()["kube-scheduler"], "kwok": sandbox.status()["kwok"],
            "benchmark": os.getpid()}
    client = await Client.connect(sandbox.kubeconfig)
    try:
        since = {r: (await client.list(r, NAMESPACE, limit=1))["metadata"]["resourceVersion"]
                 for r in (MODEL_DEPLOYMENTS, DEPLOYMENTS, SERVICES)}
        tasks = [
            asyncio.create_task(watch_models(client, result, since[MODEL_DEPLOYMENTS])),
            asyncio.create_task(watch_objects(client, DEPLOYMENTS, result.deployments, since[DEPLOYMENTS])),
            asyncio.create_task(watch_objects(client, SERVICES, result.services, since[SERVICES])),
            asyncio.create_task(sample_rss(children, result)),
        ]
        await asyncio.sleep(0.3)  # the watches are open before the first create
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        result.idle_rss = {name: child.proc_status("VmRSS") for name, child in children.items()}
        requests_before = await request_totals(client)
        gate = asyncio.Semaphore(concurrency)

        async def create(body: dict) -> None:
            async with gate:
                await client.create(MODEL_DEPLOYMENTS, body)
                result.created[body["metadata"]["name"]] = time.perf_counter()

        result.start = time.perf_counter()
        await asyncio.gather(*(create(deployment(i)) for i in range(result.count)))
        result.create_done = time.perf_counter()
        deadline = result.start + timeout
        while not result.done() and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        result.cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        result.requests = request_table(requests_before, await request_totals(client), result.count,
                                        {"modeldeployments", "deployments", "services", "events"})
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await client.close()


async def provider_registered(sandbox: Sandbox, timeout: float = 60) -> None:
    client = await Client.connect(sandbox.kubeconfig)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ipc = await client.get_or_none(INFERENCE_PROVIDER_CONFIGS, "vllm")
            if ipc and (ipc.get("status") or {}).get("ready"):
                return
            await asyncio.sleep(0.2)
        raise SystemExit("the vllm provider did not register")
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="ModelDeployments to create (default 1000)")
    parser.add_argument("--workers", type=int, default=4, help="the provider's --max-concurrent-reconciles")
    parser.add_argument("--gpu-nodes", type=int, default=10, help="simulated GPU nodes (110 pods each)")
    parser.add_argument("--gpus-per-node", type=int, default=100, help="nvidia.com/gpu per simulated node")
    parser.add_argument("--concurrency", type=int, default=32, help="create requests in flight (default 32)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for every deployment")
    parser.add_argument("--profile", type=Path, help="run the provider under cProfile, stats here")
    parser.add_argument("--until", choices=("running", "deployed"), default="running",
                        help="end the round when all are Running (default), or once all have their Deployment and "
                             "Service and a phase past Pending")
    parser.add_argument("--logs", type=Path, help="folder for the provider's and the controller's logs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="airunway-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        print("starting the sandbox…", flush=True)
        layout = NodeLayout(gpu_nodes=args.gpu_nodes, gpus_per_node=args.gpus_per_node, cpu_nodes=0)
        sandbox.up(layout=layout, bin_dir=ensure_binaries(), progress=lambda msg: None,
                   apiserver_args=[f"--service-cluster-ip-range={SERVICE_RANGE}"])
        children: dict[str, Child] = {}
        logs = args.logs.resolve() if args.logs else Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        try:
            sandbox.kubectl("create", "namespace", NAMESPACE)
            sandbox.kubectl("create", "namespace", "airunway-system")
            profile = args.profile.resolve() if args.profile else None
            children["provider"] = Child(sandbox, ["provider", "vllm", f"--max-concurrent-reconciles={args.workers}"],
                                         logs / "provider.log", profile)
            children["provider"].wait_ready()
            asyncio.run(provider_registered(sandbox))
            children["controller"] = Child(sandbox, ["controller"], logs / "controller.log")
            children["controller"].wait_ready()
            result = Round(args.count, until_running=args.until == "running")
            asyncio.run(measure(sandbox, children, result, args.concurrency, args.timeout))
            print(f"{args.count} ModelDeployments with provider.name vllm and 1 GPU, {os.cpu_count()} CPUs, "
                  f"{args.gpu_nodes}×{args.gpus_per_node} simulated GPUs, provider workers {args.workers}, "
                  f"{args.concurrency} creates in flight:")
            print(result.report(), flush=True)
        finally:
            for child in children.values():
                child.stop()
            sandbox.down(quiet=True)


if __name__ == "__main__":
    main()
