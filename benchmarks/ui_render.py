"""The web UI's weight and speed: the initial JavaScript and CSS (gzip), and the time to render the deployments page
with ``--count`` (1,000) deployments (goal: under 300 KB gzip and under 1 s).

Starts its own sandbox, creates the ModelDeployments in one namespace, runs ``airunway dashboard`` on 127.0.0.1 and
opens ``/deployments`` in Debian's Chromium (headless, through playwright-core) ``--runs`` times, each in a fresh page,
timing from navigation until the last deployment's row is in the page.

    .venv/bin/python benchmarks/ui_render.py [--count 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.resources import NAMESPACES
from airunway.sandbox.build import ensure_binaries
from airunway.sandbox.cluster import Sandbox

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "airunway" / "server" / "static"
NAMESPACE = "bench"


def initial_size() -> dict[str, int]:
    """Bytes of the files index.html loads, raw and gzip-compressed (level 9, as a server would)."""
    html = (STATIC / "index.html").read_text()
    sizes = {"js": 0, "js_gzip": 0, "css": 0, "css_gzip": 0}
    for kind, path in re.findall(r'(?:src|href)="/(assets/[^"]+\.(js|css))"', html):
        data = (STATIC / kind).read_bytes()
        sizes[path] += len(data)
        sizes[f"{path}_gzip"] += len(gzip.compress(data, 9))
    return sizes


async def populate(kubeconfig: Path, count: int) -> None:
    async with await Client.connect(kubeconfig) as kube:
        await kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        gate = asyncio.Semaphore(32)

        async def create(i: int) -> None:
            async with gate:
                await kube.create(MODEL_DEPLOYMENTS, {
                    "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
                    "metadata": {"name": f"many-{i:04d}", "namespace": NAMESPACE},
                    "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"},
                             "provider": {"name": "vllm"}, "resources": {"gpu": {"count": 1}}}})

        await asyncio.gather(*(create(i) for i in range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (STATIC / "index.html").is_file():
        raise SystemExit("the UI is not built: run scripts/setup.sh")
    sizes = initial_size()
    print(f"initial JS: {sizes['js'] / 1024:.1f} KiB ({sizes['js_gzip'] / 1024:.1f} KiB gzip); "
          f"CSS: {sizes['css'] / 1024:.1f} KiB ({sizes['css_gzip'] / 1024:.1f} KiB gzip)")
    ensure_binaries()
    with tempfile.TemporaryDirectory(prefix="airunway-ui-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        sandbox.up(progress=lambda msg: print(f"[sandbox] {msg}", flush=True))
        dashboard = None
        try:
            asyncio.run(populate(sandbox.kubeconfig, args.count))
            with __import__("socket").socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            dashboard = subprocess.Popen(
                [sys.executable, "-m", "airunway.cli", "dashboard", f"--kubeconfig={sandbox.kubeconfig}",
                 "--host=127.0.0.1", f"--port={port}"], stdout=open(Path(tmp) / "dashboard.log", "wb"),
                stderr=subprocess.STDOUT, env={**os.environ, "AUTH_ENABLED": "false"})
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/api/deployments?namespace={NAMESPACE}&limit=1", timeout=30).json()[
                            "pagination"]["total"] >= args.count:
                        break
                except (httpx.HTTPError, KeyError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the dashboard did not list every deployment within 120 s")
                time.sleep(0.5)
            run = subprocess.run(["node", "e2e/render.mjs"], cwd=ROOT / "frontend", capture_output=True, text=True,
                                 env={**os.environ, "BASE_URL": base, "LAST": f"many-{args.count - 1:04d}",
                                      "RUNS": str(args.runs)}, check=True)
            result = json.loads(run.stdout.strip().splitlines()[-1])
            print(run.stderr.strip())
            print(f"deployments page with {args.count} deployments: median {result['medianMs']} ms "
                  f"(runs: {', '.join(str(r) for r in result['runsMs'])} ms)")
        finally:
            if dashboard is not None:
                dashboard.terminate()
                dashboard.wait(timeout=30)
            sandbox.down()


if __name__ == "__main__":
    main()
