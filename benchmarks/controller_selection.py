"""How fast the core controller selects an engine and a provider for many new ModelDeployments at once.

Starts its own sandbox (binaries from the build cache), installs the five shipped InferenceProviderConfigs marked
ready, runs ``airunway controller`` (ENABLE_WEBHOOKS=false) as a child process, creates ``--count``
ModelDeployments of mixed specs at once and reports:

- the time from the first create request until every deployment has ``status.provider.name``;
- per object, the time from its create completing (client side) until a watch first showed it selected
  (creationTimestamp has one-second granularity, so it is not used): p50, p99, max;
- the controller's resident memory once ready (VmRSS) and its peak (VmHWM);
- the API server's requests during the round by verb and resource (its ``apiserver_request_total``), and the CPU time of the controller, kube-apiserver, etcd and
  this script during the round (to show where the time goes).

Each value of ``--workers`` (``--max-concurrent-reconciles``) is one round with a fresh controller; the
deployments of the round before are deleted first. ``--repeat`` runs the rounds that many times (interleaved) and
the summary gives the median of each figure per setting (the peak memory: the highest).

    .venv/bin/python benchmarks/controller_selection.py [--count 1000] [--workers 1,4,8] [--repeat 3]
                                                        [--profile out.prof]

``--profile`` runs the controller under cProfile (last round only) and writes the stats file on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from apiserver_requests import request_table, request_totals

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client, WatchEvent
from airunway.sandbox.build import ensure_binaries
from airunway.sandbox.cluster import Sandbox

NAMESPACE = "bench"
GPU = lambda n: {"resources": {"gpu": {"count": n}}}  # noqa: E731
# Specs of the mix and the provider the shipped selection rules give each.
MIX = [
    ({}, "kaito"),
    ({"engine": {"type": "vllm"}, **GPU(1)}, "dynamo"),
    ({"engine": {"type": "vllm"}, **GPU(2)}, "kuberay"),
    ({"engine": {"type": "sglang"}, **GPU(1)}, "dynamo"),
    ({"engine": {"type": "vllm"}, **GPU(1), "provider": {"name": "llmd"}}, "llmd"),
    ({"engine": {"type": "vllm"}, **GPU(1), "provider": {"name": "vllm"}}, "vllm"),
]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_providers(sandbox: Sandbox) -> None:
    """The five shipped InferenceProviderConfigs, marked ready as their provider controllers would."""
    folder = resources.files("airunway.policy") / "default_providers"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        doc = yaml.safe_load(entry.read_text())
        sandbox.kubectl("apply", "--server-side", "--field-manager=bench", "-f", "-", input=yaml.safe_dump(doc))
        sandbox.kubectl("patch", "inferenceproviderconfig", doc["metadata"]["name"], "--subresource=status",
                        "--type=merge", "-p", json.dumps({"status": {"ready": True}}))


def deployment(i: int) -> tuple[dict, str]:
    spec, provider = MIX[i % len(MIX)]
    body = {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": f"md-{i:05d}", "namespace": NAMESPACE},
        "spec": {"model": {"id": "meta-llama/Llama-3.1-8B-Instruct"}, **spec},
    }
    return body, provider


# -- the controller process ------------------------------------------------------------------------------


class Controller:
    def __init__(self, sandbox: Sandbox, workers: int, log: Path, profile: Path | None) -> None:
        self.health = free_port()
        env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig), "ENABLE_WEBHOOKS": "false",
               "POD_NAMESPACE": "airunway-system"}
        python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(
            [*python, "-m", "airunway.cli", "controller", f"--health-probe-bind-address=127.0.0.1:{self.health}",
             f"--max-concurrent-reconciles={workers}", "--zap-log-level=warning"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the controller exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.health}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("the controller did not become ready")

    def proc_status(self, field_name: str) -> int:
        """A ``kB`` figure from /proc/<pid>/status (VmRSS, VmHWM), in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


# -- one round ------------------------------------------------------------------------------------------


@dataclass
class Round:
    workers: int
    count: int
    created: dict[str, float] = field(default_factory=dict)
    selected: dict[str, float] = field(default_factory=dict)
    wrong: dict[str, tuple[str, str]] = field(default_factory=dict)
    start: float = 0.0
    create_done: float = 0.0
    peak_rss: int = 0
    idle_rss: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the round, by process
    requests: str = ""  # the API server's requests during the round, by verb and resource

    def figures(self) -> dict[str, float]:
        latencies = sorted(max(0.0, self.selected[n] - self.created[n]) for n in self.selected)
        q = statistics.quantiles(latencies, n=100, method="inclusive")
        return {
            "selected": len(self.selected), "total": max(self.selected.values()) - self.start,
            "creates": self.create_done - self.start, "p50": q[49], "p99": q[98], "max": latencies[-1],
            "idle_rss": self.idle_rss / 2**20, "peak_rss": self.peak_rss / 2**20,
            **{f"cpu {name}": seconds for name, seconds in self.cpu.items()},
            "wrong": len(self.wrong),
        }


def report(workers: int, count: int, f: dict[str, float]) -> str:
    return (
        f"workers={workers}: {f['selected']:.0f}/{count} selected in {f['total']:.2f} s "
        f"(creates took {f['creates']:.2f} s); per object p50 {f['p50']:.2f} s, p99 {f['p99']:.2f} s, "
        f"max {f['max']:.2f} s; controller RSS idle {f['idle_rss']:.0f} MiB, peak {f['peak_rss']:.0f} MiB; "
        "CPU seconds " + ", ".join(f"{k[4:]} {v:.1f}" for k, v in f.items() if k.startswith("cpu "))
        + (f"; {f['wrong']:.0f} WRONG selections" if f["wrong"] else "")
    )


def summary(rounds: list[Round]) -> dict[str, float]:
    runs = [r.figures() for r in rounds]
    out = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    out["peak_rss"] = max(run["peak_rss"] for run in runs)
    out["wrong"] = max(run["wrong"] for run in runs)
    out["selected"] = min(run["selected"] for run in runs)
    return out


async def events(client: Client, resource, since: str):
    """Every change of ``resource`` in the namespace after ``since``, watching again if a watch ends or fails
    (a relist then replays the current objects as ADDED)."""
    version = since
    while True:
        try:
            async for event in client.watch(resource, NAMESPACE, resource_version=version, timeout_seconds=300):
                if event.type == "BOOKMARK":
                    version = event.object["metadata"].get("resourceVersion") or version
                    continue
                version = event.object["metadata"].get("resourceVersion") or version
                yield event
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a benchmark keeps counting: relist and watch again
            listing = await client.list(resource, NAMESPACE)
            version = listing["metadata"]["resourceVersion"]
            for obj in listing["items"]:
                yield WatchEvent("ADDED", obj)


async def watch_selected(client: Client, result: Round, expected: dict[str, str], since: str, done: asyncio.Event):
    # The API server drops a watcher that falls behind (this process is busy creating): watch again, never miss.
    async for event in events(client, MODEL_DEPLOYMENTS, since):
        now = time.perf_counter()
        name = event.object["metadata"]["name"]
        provider = ((event.object.get("status") or {}).get("provider") or {}).get("name")
        if provider and name not in result.selected:
            result.selected[name] = now
            if provider != expected[name]:
                result.wrong[name] = (provider, expected[name])
            if len(result.selected) == result.count:
                done.set()
                return


async def sample_rss(ctrl: Controller, result: Round) -> None:
    while True:
        result.peak_rss = max(result.peak_rss, ctrl.proc_status("VmHWM"), ctrl.proc_status("VmRSS"))
        await asyncio.sleep(0.05)


async def measure(sandbox: Sandbox, ctrl: Controller, result: Round, concurrency: int, timeout: float) -> None:
    pids = {"controller": ctrl.proc.pid, "kube-apiserver": sandbox.status()["kube-apiserver"],
            "etcd": sandbox.status()["etcd"], "benchmark": os.getpid()}
    client = await Client.connect(sandbox.kubeconfig)
    try:
        bodies = [deployment(i) for i in range(result.count)]
        expected = {body["metadata"]["name"]: provider for body, provider in bodies}
        since = (await client.list(MODEL_DEPLOYMENTS, NAMESPACE, limit=1))["metadata"]["resourceVersion"]
        done = asyncio.Event()
        watcher = asyncio.create_task(watch_selected(client, result, expected, since, done))
        sampler = asyncio.create_task(sample_rss(ctrl, result))
        await asyncio.sleep(0.2)  # the watch is open before the first create
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        result.idle_rss = ctrl.proc_status("VmRSS")
        requests_before = await request_totals(client)
        gate = asyncio.Semaphore(concurrency)

        async def create(body: dict) -> None:
            async with gate:
                await client.create(MODEL_DEPLOYMENTS, body)
                result.created[body["metadata"]["name"]] = time.perf_counter()

        result.start = time.perf_counter()
        await asyncio.gather(*(create(body) for body, _ in bodies))
        result.create_done = time.perf_counter()
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except asyncio.TimeoutError:
            print(f"  timed out: {len(result.selected)}/{result.count} selected after {timeout} s", flush=True)
        result.cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        result.requests = request_table(requests_before, await request_totals(client), result.count,
                                        {"modeldeployments", "inferenceproviderconfigs", "events", "leases"})
        sampler.cancel()
        watcher.cancel()
        await asyncio.gather(sampler, watcher, return_exceptions=True)
        # Delete them for the next round, and wait until they are gone.
        await client.request("DELETE", MODEL_DEPLOYMENTS.path(NAMESPACE))
        while (await client.list(MODEL_DEPLOYMENTS, NAMESPACE, limit=1))["items"]:
            await asyncio.sleep(0.2)
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="ModelDeployments to create (default 1000)")
    parser.add_argument("--workers", default="4", help="--max-concurrent-reconciles values, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="times to run each setting (default 1)")
    parser.add_argument("--concurrency", type=int, default=32, help="create requests in flight (default 32)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for every selection")
    parser.add_argument("--profile", type=Path, help="run the last round's controller under cProfile, stats here")
    args = parser.parse_args()
    settings = [int(w) for w in args.workers.split(",")]
    rounds = settings * args.repeat

    with tempfile.TemporaryDirectory(prefix="airunway-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        print("starting the sandbox…", flush=True)
        sandbox.up(bin_dir=ensure_binaries(), progress=lambda msg: None)
        try:
            install_providers(sandbox)
            sandbox.kubectl("create", "namespace", NAMESPACE)
            results: dict[int, list[Round]] = {w: [] for w in settings}
            for i, workers in enumerate(rounds):
                profile = args.profile.resolve() if args.profile and i == len(rounds) - 1 else None
                ctrl = Controller(sandbox, workers, Path(tmp) / f"controller-{i}.log", profile)
                try:
                    ctrl.wait_ready()
                    result = Round(workers, args.count)
                    asyncio.run(measure(sandbox, ctrl, result, args.concurrency, args.timeout))
                finally:
                    ctrl.stop()
                results[workers].append(result)
                print(report(workers, args.count, result.figures()), flush=True)
                print("  API server requests during the round (the creates included):\n" + result.requests,
                      flush=True)
            print(f"\n{args.count} ModelDeployments, {os.cpu_count()} CPUs, {args.concurrency} creates in flight, "
                  f"median of {args.repeat}:")
            for workers, done in results.items():
                print("  " + report(workers, args.count, summary(done)))
        finally:
            sandbox.down(quiet=True)


if __name__ == "__main__":
    main()
