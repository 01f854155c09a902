"""``airunway local`` (``make run``): the controllers start as child processes, become ready, register their
providers and stop cleanly, with the dashboard for them; and ``airunway dashboard`` never starts a cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from airunway import local

from support import ROOT, eventually, free_port

EXAMPLE = ROOT / "examples" / "qwen-direct-vllm.yaml"


def test_local_stack_runs_the_controllers_on_the_cluster_it_is_given(sandbox, tmp_path):
    messages: list[str] = []
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    stack = local.start(messages.append, kubeconfig=sandbox.kubeconfig, state_dir=tmp_path)
    try:
        assert stack.sandbox is None, "a cluster given by its kubeconfig must be used as it is"
        names = [c.name for c in stack.children]
        assert names[0] == "controller"
        assert names[1:] == [f"provider-{p}" for p in local.available_providers()]
        assert all(child.ready() for child in stack.children)

        def registered() -> set[str]:
            """Providers that registered their config from this run (a heartbeat after the stack started)."""
            found = json.loads(sandbox.kubectl("get", "inferenceproviderconfigs", "-o", "json").stdout)["items"]
            return {c["metadata"]["name"] for c in found
                    if ((c.get("status") or {}).get("lastHeartbeat") or "") >= started}

        for provider in local.available_providers():  # ready or not: KAITO waits for its own controller
            eventually(lambda: provider in registered(), timeout=30, what=f"{provider} registered")

        # The README's example runs to Running on a simulated GPU node.
        sandbox.kubectl("apply", "-f", str(EXAMPLE))
        try:
            eventually(lambda: (json.loads(sandbox.kubectl("get", "modeldeployment", "qwen-demo", "-n", "default",
                                                           "-o", "json").stdout).get("status") or {})
                       .get("phase") == "Running", timeout=90, what="the example Running")
        finally:
            sandbox.kubectl("delete", "-f", str(EXAMPLE), "--wait=false")
    finally:
        stack.stop()
    assert not [c.name for c in stack.children if c.proc.returncode not in (0, -15)]
    assert all(c.log_path.exists() for c in stack.children)


def _no_cluster_env(home: Path) -> dict[str, str]:
    """The environment of a machine with no cluster configured: no $KUBECONFIG, an empty home, not in a pod."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "AIRUNWAY_CACHE_DIR", "XDG_CACHE_HOME")}
    return env | {"HOME": str(home)}


def test_the_dashboard_without_a_cluster_says_how_to_get_one_and_starts_none(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "airunway.cli", "dashboard", f"--port={free_port()}"],
                          env=_no_cluster_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    message = " ".join(proc.stderr.split())
    assert "no Kubernetes cluster is configured" in message
    assert "--kubeconfig" in message and "$KUBECONFIG" in message and "airunway local" in message
    assert not (tmp_path / ".cache").exists(), "nothing may be built or started for a sandbox"


def test_airunway_local_runs_the_sandbox_the_controllers_and_the_dashboard(sandbox, tmp_path):
    """``airunway local`` on the sandbox in ``--state-dir`` (running already, so it is used as it is), whatever
    $KUBECONFIG says; Ctrl-C stops the dashboard and the controllers and leaves the sandbox running."""
    port = free_port()
    env = _no_cluster_env(tmp_path) | {"KUBECONFIG": str(tmp_path / "elsewhere")}
    log = tmp_path / "local.log"
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "airunway.cli", "local", f"--state-dir={sandbox.dir}",
                                 f"--port={port}"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        def heartbeats() -> set[str]:
            found = json.loads(sandbox.kubectl("get", "inferenceproviderconfigs", "-o", "json").stdout)["items"]
            return {c["metadata"]["name"] for c in found
                    if ((c.get("status") or {}).get("lastHeartbeat") or "") >= started}

        def runtimes() -> list[str]:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runtimes/status", timeout=5) as resp:
                    return sorted(r["id"] for r in json.load(resp)["runtimes"])
            except OSError:
                return []

        providers = set(local.available_providers())
        eventually(lambda: heartbeats() >= providers, timeout=90, what="every provider controller started")
        eventually(lambda: runtimes() == sorted(providers), timeout=60, what="the dashboard on the sandbox")
        assert f"export KUBECONFIG={sandbox.kubeconfig}" in log.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    text = log.read_text()
    assert "Controllers stopped" in text, text
    assert sandbox.is_running()
