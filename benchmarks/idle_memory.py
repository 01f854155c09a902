"""Resident memory of each process once started and idle: the core controller (webhooks off and on), the Direct
vLLM provider and the dashboard, each run alone against a fresh sandbox with the five shipped provider configs.

Each process is started ``--runs`` times; once it answers its readiness (the dashboard: ``/api/health``) and then
``--settle`` seconds later, its VmRSS is read from /proc/<pid>/status, and its VmHWM (peak) when it is stopped.
Medians are printed.

    .venv/bin/python benchmarks/idle_memory.py [--runs 3] [--settle 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from controller_selection import free_port, install_providers

from airunway.sandbox.build import ensure_binaries
from airunway.sandbox.cluster import Sandbox


def proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def wait_ok(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


def run_once(sandbox: Sandbox, name: str, log: Path, settle: float) -> tuple[int, int]:
    port = free_port()
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig), "POD_NAMESPACE": "airunway-system",
           "AUTH_ENABLED": "false", "ENABLE_WEBHOOKS": "false"}
    base = [sys.executable, "-m", "airunway.cli"]
    probe = [f"--health-probe-bind-address=127.0.0.1:{port}", "--metrics-bind-address=0", "--zap-log-level=warning"]
    if name == "controller":
        argv, url = [*base, "controller", *probe], f"http://127.0.0.1:{port}/readyz"
    elif name == "controller (webhooks on)":
        env["ENABLE_WEBHOOKS"] = "true"
        argv = [*base, "controller", *probe, f"--webhook-port={free_port()}", "--webhook-host=127.0.0.1",
                "--webhook-extra-host=127.0.0.1", f"--webhook-cert-dir={log.parent / f'certs-{port}'}"]
        url = f"http://127.0.0.1:{port}/readyz"
    elif name == "provider vllm":
        argv, url = [*base, "provider", "vllm", *probe], f"http://127.0.0.1:{port}/readyz"
    else:
        argv = [*base, "dashboard", "--host=127.0.0.1", f"--port={port}"]
        url = f"http://127.0.0.1:{port}/api/health"
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_ok(url, proc)
            time.sleep(settle)
            idle = proc_kib(proc.pid, "VmRSS")
            peak = proc_kib(proc.pid, "VmHWM")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return idle, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before reading VmRSS")
    args = parser.parse_args()
    names = ["controller", "controller (webhooks on)", "provider vllm", "dashboard"]
    with tempfile.TemporaryDirectory(prefix="airunway-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        sandbox.up(bin_dir=ensure_binaries(), progress=lambda msg: None)
        try:
            install_providers(sandbox)
            sandbox.kubectl("create", "namespace", "airunway-system")
            results: dict[str, list[tuple[int, int]]] = {n: [] for n in names}
            for _ in range(args.runs):
                for name in names:
                    results[name].append(run_once(sandbox, name, Path(tmp) / "processes.log", args.settle))
            for name, runs in results.items():
                idle = statistics.median(r[0] for r in runs) / 1024
                peak = statistics.median(r[1] for r in runs) / 1024
                print(f"{name}: RSS idle {idle:.0f} MiB, peak so far (VmHWM) {peak:.0f} MiB "
                      f"(median of {len(runs)}: " + ", ".join(f"{r[0] / 1024:.0f}" for r in runs) + ")", flush=True)
        finally:
            sandbox.down(quiet=True)


if __name__ == "__main__":
    main()
