"""``airunway dashboard`` as a process: uvicorn on 127.0.0.1 serving the API for the sandbox, its watch cache
filled from its own client."""

from __future__ import annotations

import socket

import httpx

from support import DashboardProcess, eventually, kget


def oversized_request_answer(port: int) -> bytes:
    """The answer to a POST that declares a 2 MiB body and sends none of it: the ceiling answers without reading."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"POST /api/deployments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 2097152\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after the answer
            answer += chunk
    assert b'"statusCode":413' in answer, answer
    return answer


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
        assert oversized_request_answer(dashboard.port).startswith(b"HTTP/1.1 413 ")
        with httpx.Client(base_url=base, timeout=30) as http:
            for body in (b"x" * 2_000_000, iter([b"x" * 500_000] * 4)):  # with a length, and chunked
                answer = http.post("/api/deployments", content=body, headers={"Content-Type": "application/json"})
                assert answer.status_code == 413 and answer.json()["error"]["statusCode"] == 413
            assert http.get("/api/health").status_code == 200  # and it goes on serving
        assert kget(sandbox, "modeldeployment", "served", "-n", namespace)["metadata"]["name"] == "served"
    assert dashboard.proc.returncode in (0, -15), dashboard.log_tail()
