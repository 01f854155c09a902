"""deploy/dashboard.yaml (rendered from the chart): the real API server accepts every object of it (server-side dry
run)."""

from __future__ import annotations

import yaml

from support import DEPLOY, shim_namespace

DASHBOARD = DEPLOY / "dashboard.yaml"


def test_dashboard_manifest_is_accepted_by_the_api_server(sandbox):
    docs = [d for d in yaml.safe_load_all(DASHBOARD.read_text()) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert kinds == {("ServiceAccount", "airunway"), ("ClusterRole", "airunway"), ("ClusterRoleBinding", "airunway"),
                     ("Service", "airunway"), ("Deployment", "airunway")}
    for d in docs:
        if d["kind"] in ("ServiceAccount", "Service", "Deployment"):
            assert d["metadata"]["namespace"] == "airunway-system"
    binding = next(d for d in docs if d["kind"] == "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "airunway", "namespace": "airunway-system"}]

    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["serviceAccountName"] == "airunway" and container["image"] == "airunway:0.1.0"
    assert container["command"][:2] == ["airunway", "dashboard"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["AUTH_ENABLED"] == "true" and env["PORT"] == "3001"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/health"
    service = next(d for d in docs if d["kind"] == "Service")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]

    # What the dashboard does with its own identity is granted: its watch cache, token reviews, settings.
    granted = {(g, r): set(rule["verbs"]) for rule in next(d for d in docs if d["kind"] == "ClusterRole")["rules"]
               if "resourceNames" not in rule for g in rule["apiGroups"] for r in rule["resources"]}
    assert {"list", "watch"} <= granted[("airunway.ai", "modeldeployments")]
    assert {"list", "watch"} <= granted[("", "pods")]
    assert "create" in granted[("authentication.k8s.io", "tokenreviews")]
    assert {"get", "create", "update"} <= granted[("", "configmaps")]

    with shim_namespace(sandbox):  # airunway-system, for real for the length of the test
        out = sandbox.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(docs)).stdout
        assert out.count("(server dry run)") == len(docs)
