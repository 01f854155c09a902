"""``airunway dashboard`` as a process: uvicorn on 127.0.0.1 serving the API for the sandbox, its watch cache
filled from its own client."""

from __future__ import annotations

import httpx

from support import DashboardProcess, eventually, kget


def test_dashboard_command_serves_the_api(sandbox, namespace, tmp_path):
    sandbox.kubectl("apply", "-f", "-", input=f"""
apiVersion: airunway.ai/v1alpha1
kind: ModelDeployment
metadata: {{name: served, namespace: {namespace}}}
spec: {{model: {{id: Qwen/Qwen3-0.6B}}, engine: {{type: vllm}}}}
""")
    dashboard = DashboardProcess(sandbox, tmp_path / "dashboard.log")
    with dashboard as base:
        with httpx.Client(base_url=base, timeout=30) as http:
            status = http.get("/api/cluster/status").json()
            assert status["connected"] is True and status["providerInstallation"]["installed"] is True
            assert status["clusterName"]

            def listed():
                answer = http.get(f"/api/deployments?namespace={namespace}").json()
                return [d["name"] for d in answer["deployments"]]

            assert eventually(listed, what="the deployment listed") == ["served"]
            schema = http.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
            assert schema.headers["content-encoding"] == "gzip"
            assert "/api/deployments/{name}/pending-reasons" in schema.json()["paths"]
            assert http.get("/api/health/", follow_redirects=False).status_code == 301
        assert kget(sandbox, "modeldeployment", "served", "-n", namespace)["metadata"]["name"] == "served"
    assert dashboard.proc.returncode in (0, -15), dashboard.log_tail()
