"""The web UI end to end: Playwright (playwright-core) drives Debian's Chromium, headless, against `airunway
dashboard` on 127.0.0.1 for the sandbox, with the core controller and the Direct vLLM provider running. Metrics come
and chat answers from llm-d-inference-sim on 127.0.0.1, HuggingFace search from the Hub stand-in. Screenshots of every page go to
test-artifacts/screenshots/ (git-ignored); axe-core checks each page. The script is frontend/e2e/run.mjs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fakes.aiconfigurator import install_cli
from fakes.hub import Hub
from fakes.standins import AzurePrices, RecipesSite, ServerMetrics, serve
from support import DATA, ROOT, ControllerProcess, DashboardProcess, free_port
from workload import set_ready

FRONTEND = ROOT / "frontend"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not (FRONTEND / "node_modules" / "playwright-core").is_dir() or not Path(CHROMIUM).exists(),
    reason="needs `make test` (it installs the UI's packages and Chromium)",
)


def test_browse_deploy_watch_and_delete_in_the_browser(sandbox, namespace, tmp_path):
    assert (ROOT / "src" / "airunway" / "server" / "static" / "index.html").is_file(), "the UI is not built"
    sim_port = free_port()
    sim = subprocess.Popen([str(sandbox.bin_dir / "llm-d-inference-sim"), "--port", str(sim_port), "--model",
                            "Qwen/Qwen3-0.6B", "--force-dummy-tokenizer"], stdout=open(tmp_path / "sim.log", "wb"),
                           stderr=subprocess.STDOUT)
    hub, azure, recipes = Hub(), serve(AzurePrices), serve(RecipesSite)
    # Ray Serve and SGLang exports for the deployments named so, the simulator's for the others.
    ServerMetrics.upstream = f"http://127.0.0.1:{sim_port}/metrics"
    server_metrics = serve(ServerMetrics)
    core = ControllerProcess(sandbox, tmp_path / "controller.log")
    provider = ControllerProcess(sandbox, tmp_path / "provider.log", command=("provider", "vllm"))
    processes = []
    # KAITO registered (its CRD is in the sandbox, its operator is not): the deploy form offers it for GGUF models.
    kaito = yaml.safe_load((DATA / "providerconfigs" / "kaito.yaml").read_text())
    sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump(kaito))
    set_ready(sandbox, "kaito", True)
    # Dynamo registered, not ready: the form offers it (multi-node) and says it is not installed.
    dynamo = yaml.safe_load((DATA / "providerconfigs" / "dynamo.yaml").read_text())
    sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump(dynamo))
    # A Gateway to route through: the deploy form offers its "Gateway routing" switch.
    sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "inference-gateway", "namespace": namespace,
                     "labels": {"airunway.ai/inference-gateway": "true"}},
        "spec": {"gatewayClassName": "test", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}))
    try:
        core.wait_ready()
        provider.wait_ready()
        env = {"AIRUNWAY_METRICS_URL": server_metrics.url + "/{name}/metrics",
               "AIRUNWAY_MODEL_URL": f"http://127.0.0.1:{sim_port}", "HF_ENDPOINT": hub.url,
               "AZURE_PRICING_URL": azure.url, "VLLM_RECIPES_BASE_URL": recipes.url,
               "HELM_PATH": str(sandbox.bin_dir / "helm"),
               "KUBECTL_PATH": str(sandbox.bin_dir / "kubectl"),
               # The AI Configurator CLI stand-in on PATH; HuggingFace sign-in through the Hub stand-in's OAuth.
               "PATH": f"{install_cli(tmp_path / 'bin')}:{os.environ['PATH']}", "HOME": str(tmp_path / "home"),
               "HF_CLIENT_ID": "airunway-e2e"}
        processes.append(DashboardProcess(sandbox, tmp_path / "dashboard.log", env=env))
        base = processes[-1].start()
        processes.append(DashboardProcess(sandbox, tmp_path / "login.log", env={"AUTH_ENABLED": "true"}))
        login_base = processes[-1].start()
        if SCREENSHOTS.exists():
            shutil.rmtree(SCREENSHOTS)
        run = subprocess.run(
            ["node", "e2e/run.mjs"], cwd=FRONTEND, capture_output=True, text=True, timeout=900,
            env={**os.environ, "BASE_URL": base, "LOGIN_URL": login_base, "NAMESPACE": namespace,
                 "SCREENSHOTS": str(SCREENSHOTS), "CHROMIUM": CHROMIUM})
        print(run.stdout)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
        shots = sorted(p.name for p in SCREENSHOTS.glob("*.png"))
        assert len(shots) >= 15 and not any(s.startswith("failed-") for s in shots), shots
    finally:
        for dashboard in processes:
            dashboard.stop()
        core.stop()
        provider.stop()
        sim.terminate()
        sim.wait(timeout=30)
        sandbox.kubectl("delete", "inferenceproviderconfig", "kaito", "dynamo", "--wait=false", check=False)
        sandbox.kubectl("delete", "gateway", "inference-gateway", "-n", namespace, "--wait=false", check=False)
        hub.close()
        azure.close()
        recipes.close()
        server_metrics.close()
