"""``airunway dashboard`` as a process: uvicorn on 127.0.0.1 serving the API for the sandbox, its watch cache
filled from its own client."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from support import eventually, free_port, kget


def test_dashboard_command_serves_the_api(sandbox, namespace, tmp_path):
    sandbox.kubectl("apply", "-f", "-", input=f"""
apiVersion: airunway.ai/v1alpha1
kind: ModelDeployment
metadata: {{name: served, namespace: {namespace}}}
spec: {{model: {{id: Qwen/Qwen3-0.6B}}, engine: {{type: vllm}}}}
""")
    port = free_port()
    log = open(tmp_path / "dashboard.log", "wb")
    env = {k: v for k, v in os.environ.items() if k not in ("AUTH_ENABLED", "PORT")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "airunway.cli", "dashboard", f"--kubeconfig={sandbox.kubeconfig}",
         "--host=127.0.0.1", f"--port={port}"], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        def healthy():
            try:
                return httpx.get(f"{base}/api/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(healthy, timeout=60, what="the dashboard to answer")
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
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode in (0, -15), (tmp_path / "dashboard.log").read_text()
