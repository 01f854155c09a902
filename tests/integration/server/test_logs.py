"""Logs of a running pod through the dashboard: the API server fetches them from the node (kwok answers for the
simulated kubelets), and the dashboard passes them on with the tail and timestamp options."""

from __future__ import annotations

from airunway.kube.client import Client
from airunway.server.app import Settings

from support import DashboardAPI
from workload import talker


async def test_logs_of_a_running_pod(sandbox, namespace):
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)) as api:
        await talker(kube, namespace, "vllm")
        plain = (await api.get(f"/api/deployments/talker/logs?namespace={namespace}")).json()
        stamped = (await api.get(f"/api/deployments/talker/logs?namespace={namespace}&timestamps=true&tailLines=1"))
    assert plain["podName"] == "talker-0" and plain["container"] == "main"
    lines = plain["logs"].splitlines()
    assert len(lines) == 3 and lines[0] == "INFO kwok: this container is simulated; no process runs on this node"
    [line] = stamped.json()["logs"].splitlines()
    stamp, _, text = line.partition(" ")
    assert stamp.endswith("Z") and stamp[:2] == "20" and text.startswith("INFO kwok: real model servers")
