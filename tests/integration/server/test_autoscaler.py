"""Autoscaler detection from the real ``kube-system/cluster-autoscaler-status`` ConfigMap in the sandbox: absent,
healthy, stale, and the status it reports."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import yaml

from airunway.kube.client import Client
from airunway.kube.resources import CONFIGMAPS
from airunway.server.app import Settings

from support import DashboardAPI


def _status(at: datetime) -> str:
    """The status the Cluster Autoscaler writes (its YAML format, time as Go prints it)."""
    stamp = at.strftime("%Y-%m-%d %H:%M:%S.123456789 +0000 UTC")
    return yaml.safe_dump({
        "time": stamp, "autoscalerStatus": "Running",
        "clusterWide": {"health": {"status": "Healthy", "nodeCounts": {"registered": {"total": 3, "ready": 3}}},
                        "scaleUp": {"status": "NoActivity"}, "scaleDown": {"status": "NoCandidates"}},
        "nodeGroups": [
            {"name": "gpupool", "health": {"status": "Healthy", "nodeCounts": {"registered": {"total": 2}},
                                           "cloudProviderTarget": 2, "minSize": 0, "maxSize": 6}},
            {"name": "cpupool", "health": {"status": "Healthy", "nodeCounts": {"registered": {"total": 1}},
                                           "minSize": 1, "maxSize": 3}},
        ],
    })


async def test_detection_follows_the_status_configmap(sandbox):
    settings = Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)
    async with await Client.connect(sandbox.kubeconfig) as kube, DashboardAPI(sandbox, settings) as api:
        async def write(at: datetime) -> None:
            configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "cluster-autoscaler-status", "namespace": "kube-system"},
                         "data": {"status": _status(at)}}
            await kube.apply(configmap, resource=CONFIGMAPS, field_manager="test")

        await kube.delete(CONFIGMAPS, "cluster-autoscaler-status", "kube-system", ignore_not_found=True)
        try:
            absent = (await api.get("/api/autoscaler/detection")).json()
            no_status = await api.get("/api/autoscaler/status")
            now = datetime.now(timezone.utc)
            await write(now - timedelta(seconds=20))
            healthy = (await api.get("/api/autoscaler/detection")).json()
            status = (await api.get("/api/autoscaler/status")).json()
            await write(now - timedelta(minutes=10))
            stale = (await api.get("/api/autoscaler/detection")).json()
        finally:
            await kube.delete(CONFIGMAPS, "cluster-autoscaler-status", "kube-system", ignore_not_found=True)

    assert absent == {"type": "none", "detected": False, "healthy": False, "message": "No autoscaler detected. "
                      "Install Kubernetes Cluster Autoscaler to automatically scale your cluster."}
    assert no_status.status_code == 404
    assert no_status.json()["error"]["message"] == "Autoscaler status not available"
    assert healthy == {"type": "cluster-autoscaler", "detected": True, "healthy": True, "nodeGroupCount": 2,
                       "message": "Cluster Autoscaler running on 2 node group(s)"}
    assert status["health"] == "Healthy" and status["lastUpdateTime"].endswith("Z")
    assert status["nodeGroups"] == [{"name": "gpupool", "minSize": 0, "maxSize": 6, "currentSize": 2},
                                    {"name": "cpupool", "minSize": 1, "maxSize": 3, "currentSize": 1}]
    assert stale["detected"] is True and stale["healthy"] is False
    assert stale["message"] == "Cluster Autoscaler detected but status is stale or unhealthy"
