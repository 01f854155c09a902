"""Schemathesis over the dashboard's own OpenAPI schema: requests generated from it (valid and invalid) against
``airunway dashboard`` running on 127.0.0.1 for the sandbox. No answer may be a server error, and every answer
must match what the schema says of it (status code, content type, body).

Outside services are stand-ins on 127.0.0.1 (the HuggingFace Hub, Azure prices, vLLM recipes); Helm, kubectl and
Docker point at missing binaries, so nothing leaves the machine. The settings ConfigMap and the provider configs are
put back afterwards; deployments the requests created and the AIKit registry are removed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.hub import Hub
from fakes.standins import AzurePrices, RecipesSite, serve
from support import DashboardProcess, kget

NOT_HERE = "http://127.0.0.1:9"


def _deployments(sandbox) -> set[tuple[str, str]]:
    return {(d["metadata"]["namespace"], d["metadata"]["name"])
            for d in kget(sandbox, "modeldeployments", "-A")["items"]}


@pytest.fixture(scope="module")
def dashboard(sandbox, tmp_path_factory):
    configmap = sandbox.kubectl("get", "configmap", "airunway-config", "-n", "airunway-system", "-o", "yaml",
                                check=False)
    providers = sandbox.kubectl("get", "inferenceproviderconfigs", "-o", "yaml").stdout
    deployments = _deployments(sandbox)
    hub, azure, recipes = Hub(), serve(AzurePrices), serve(RecipesSite)
    env = {"HF_ENDPOINT": hub.url, "AZURE_PRICING_URL": azure.url, "VLLM_RECIPES_BASE_URL": recipes.url,
           "HELM_PATH": "/nonexistent/helm", "KUBECTL_PATH": "/nonexistent/kubectl", "DOCKER_PATH": "/nonexistent/docker",
           "AIRUNWAY_METRICS_URL": NOT_HERE + "/metrics"}
    process = DashboardProcess(sandbox, tmp_path_factory.mktemp("fuzz") / "dashboard.log", env=env)
    try:
        yield process.start()
    finally:
        process.stop()
        if configmap.returncode == 0:
            sandbox.kubectl("replace", "-f", "-", input=configmap.stdout, check=False)
        else:
            sandbox.kubectl("delete", "configmap", "airunway-config", "-n", "airunway-system", "--ignore-not-found")
        sandbox.kubectl("apply", "-f", "-", input=providers, check=False)
        for server in (hub, azure, recipes):
            server.close()
        for kind in ("deployment", "service"):
            sandbox.kubectl("delete", kind, "airunway-registry", "-n", "airunway-system", "--ignore-not-found")
        for namespace, name in _deployments(sandbox) - deployments:
            sandbox.kubectl("delete", "modeldeployment", name, "-n", namespace, "--wait=false", check=False)
    log = process.log_path.read_text()
    errors = [line for line in log.splitlines()
              if "Traceback" in line or "unhandled" in line or "does not match its response model" in line]
    assert not errors, log[-5000:]


CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")


TARGET = "fuzz-target"
PROVIDER = "fuzz-provider"


def _targets(sandbox, namespace: str) -> None:
    """A deployment and a provider the generated requests name, so that operations on one reach past their 404."""
    sandbox.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
         "metadata": {"name": TARGET, "namespace": namespace},
         "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}}},
        {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
         "metadata": {"name": PROVIDER, "annotations": {"airunway.ai/installation": json.dumps(
             {"helmRepos": [{"name": "fuzz", "url": NOT_HERE}],
              "helmCharts": [{"name": "fuzz", "chart": "fuzz/fuzz", "namespace": namespace}]})}},
         "spec": {"capabilities": {"engines": [{"name": "vllm", "requiresCRD": True}]}}},
    ]}))


def test_no_server_error_and_every_answer_as_documented(sandbox, namespace, dashboard, tmp_path):
    """Every operation of the schema, with valid and invalid inputs (examples, coverage and fuzzing phases)."""
    _targets(sandbox, namespace)
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'''[parameters]
"path.name" = "{TARGET}"
"path.provider_id" = "{PROVIDER}"
"query.namespace" = "{namespace}"
''')
    try:
        run = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run",
             f"{dashboard}/api/openapi.json", "--checks", ",".join(CHECKS), "--phases", "examples,coverage,fuzzing",
             "--max-examples", "50", "--workers", "1", "--request-timeout", "60", "--suppress-health-check", "all",
             "--seed", "20261123", "--generation-database", "none", "--no-color", "--report", "junit",
             "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=1500)
    finally:
        sandbox.kubectl("delete", "inferenceproviderconfig", PROVIDER, "--ignore-not-found")
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "passed" in run.stdout, run.stdout[-5000:]
