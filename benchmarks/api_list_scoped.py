"""How fast the dashboard answers ``GET /api/deployments`` for a caller with rights in one namespace of many, with
authentication on (goal: 100 requests/s and p50 under 300 ms with 200 namespaces and 50 clients).

Starts its own sandbox (binaries from the build cache), creates ``--namespaces`` namespaces, ``--deployments``
ModelDeployments in the first one, and a ServiceAccount that may manage ModelDeployments in that namespace only
(Role + RoleBinding), with a token from the TokenRequest API. Then runs ``airunway dashboard`` with
``AUTH_ENABLED=true`` on 127.0.0.1 as a child process and measures the full list (no ``namespace`` given, so the
dashboard must find the namespaces the caller may list) with ``--clients`` concurrent connections for
``--seconds``, sending that token.

    .venv/bin/python benchmarks/api_list_scoped.py [--namespaces 200] [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.resources import NAMESPACES, ROLEBINDINGS, ROLES, SERVICEACCOUNTS
from airunway.sandbox.build import ensure_binaries
from airunway.sandbox.cluster import Sandbox

sys.path.insert(0, str(Path(__file__).parent))
from api_list import listing_dashboard, rss_mib, throughput  # noqa: E402

TEAM = "team"


def model(i: int, namespace: str) -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": f"model-{i:03d}", "namespace": namespace},
            "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"},
                     "resources": {"gpu": {"count": 1}}}}


async def populate(kubeconfig: Path, namespaces: int, deployments: int) -> str:
    """Create the namespaces, the deployments and the ServiceAccount; its token."""
    names = [f"bench-{i:03d}" for i in range(namespaces)]
    mine = names[0]
    async with await Client.connect(kubeconfig) as kube:
        gate = asyncio.Semaphore(32)

        async def create(resource, obj, namespace=None):
            async with gate:
                await kube.create(resource, obj, namespace)

        started = time.monotonic()
        await asyncio.gather(*(create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})
                               for n in names))
        await asyncio.gather(*(create(MODEL_DEPLOYMENTS, model(i, mine)) for i in range(deployments)))
        await kube.create(SERVICEACCOUNTS, {"apiVersion": "v1", "kind": "ServiceAccount",
                                            "metadata": {"name": TEAM, "namespace": mine}})
        await kube.create(ROLES, {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "modeldeployments", "namespace": mine},
            "rules": [{"apiGroups": ["airunway.ai"], "resources": ["modeldeployments"],
                       "verbs": ["get", "list", "watch", "create", "delete"]}]})
        await kube.create(ROLEBINDINGS, {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "team-modeldeployments", "namespace": mine},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "modeldeployments"},
            "subjects": [{"kind": "ServiceAccount", "name": TEAM, "namespace": mine}]})
        request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                   "spec": {"expirationSeconds": 3600}}
        minted = await kube.request("POST", SERVICEACCOUNTS.path(mine, TEAM, "token"), body=request)
        total = len((await kube.list_all(NAMESPACES)).items)
        print(f"created {namespaces} namespaces ({total} in all) and {deployments} deployments in "
              f"{time.monotonic() - started:.1f}s")
        return minted["status"]["token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--deployments", type=int, default=10, help="ModelDeployments in the caller's namespace")
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=20, help="how long to measure")
    args = parser.parse_args()

    ensure_binaries()
    with tempfile.TemporaryDirectory(prefix="airunway-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        sandbox.up(progress=lambda msg: print(f"[sandbox] {msg}", flush=True))
        try:
            token = asyncio.run(populate(sandbox.kubeconfig, args.namespaces, args.deployments))
            headers = {"Authorization": f"Bearer {token}"}
            log_path = Path(tmp) / "dashboard.log"
            with listing_dashboard(sandbox, log_path, auth=True, path="/api/deployments", total=args.deployments,
                                   headers=headers) as (base, dashboard):
                try:
                    rate, times = asyncio.run(throughput(base, "/api/deployments", args.clients, args.seconds,
                                                         headers))
                except httpx.HTTPError:
                    print(log_path.read_text()[-3000:])
                    raise
                q = statistics.quantiles(times, n=100)
                print(f"/api/deployments, namespace-scoped token, {args.clients} clients: {rate:.1f} requests/s "
                      f"(p50 {statistics.median(times):.1f} ms, p90 {q[89]:.1f} ms, p99 {q[98]:.1f} ms, "
                      f"{len(times)} requests)")
                print(f"dashboard RSS after the requests: {rss_mib(dashboard.pid):.0f} MiB")
        finally:
            sandbox.down()


if __name__ == "__main__":
    main()
