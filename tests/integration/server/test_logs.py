"""Logs of a running pod through the dashboard: the API server fetches them from the node (kwok answers for the
simulated kubelets), and the dashboard passes them on with the tail and timestamp options."""

from __future__ import annotations

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.resources import PODS
from airunway.server.app import Settings

from support import DashboardAPI, until


async def test_logs_of_a_running_pod(sandbox, namespace):
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)) as api:
        await kube.create(MODEL_DEPLOYMENTS, {
            "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "metadata": {"name": "talker"},
            "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"}}},
            namespace)
        await kube.create(PODS, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "talker-0", "labels": {"airunway.ai/deployment": "talker"}},
            "spec": {"nodeName": "cpu-node-1", "containers": [{"name": "main", "image": "vllm/vllm-openai:latest"}]}},
            namespace)

        async def running():
            pod = await kube.get(PODS, "talker-0", namespace)
            return (pod.get("status") or {}).get("phase") == "Running"

        await until(running, timeout=60, what="the pod Running")
        plain = (await api.get(f"/api/deployments/talker/logs?namespace={namespace}")).json()
        stamped = (await api.get(f"/api/deployments/talker/logs?namespace={namespace}&timestamps=true&tailLines=1"))
    assert plain["podName"] == "talker-0" and plain["container"] == "main"
    lines = plain["logs"].splitlines()
    assert len(lines) == 3 and lines[0] == "INFO kwok: this container is simulated; no process runs on this node"
    [line] = stamped.json()["logs"].splitlines()
    stamp, _, text = line.partition(" ")
    assert stamp.endswith("Z") and stamp[:2] == "20" and text.startswith("INFO kwok: real model servers")
