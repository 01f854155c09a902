"""``make run``'s stack on a configured cluster (here: the test sandbox through $KUBECONFIG): the controllers
start as child processes, become ready, register their providers, and stop cleanly."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from airunway import local

from support import ROOT, eventually

EXAMPLE = ROOT / "examples" / "qwen-direct-vllm.yaml"


def test_local_stack_runs_the_controllers_on_the_configured_cluster(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(sandbox.kubeconfig))
    assert local.configured_cluster() == str(sandbox.kubeconfig)
    messages: list[str] = []
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    stack = local.start(messages.append, state_dir=tmp_path)
    try:
        assert stack.sandbox is None, "a configured cluster must be used as it is"
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
