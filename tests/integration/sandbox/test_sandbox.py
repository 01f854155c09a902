"""The local control plane behaves like a real cluster: scheduling on simulated GPU nodes,
FailedScheduling for impossible requests, garbage collection, and a clean CLI lifecycle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from support import eventually, kget


def _deployment(name: str, gpus: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "server",
                            "image": "vllm/vllm-openai:latest",
                            "resources": {"limits": {"nvidia.com/gpu": str(gpus)}},
                        }
                    ]
                },
            },
        },
    }


def _create(sandbox, namespace: str, obj: dict) -> None:
    sandbox.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj))


def _pods(sandbox, namespace: str, app: str) -> list[dict]:
    return kget(sandbox, "pods", "-n", namespace, "-l", f"app={app}")["items"]


def test_nodes_advertise_gpus(sandbox):
    nodes = {n["metadata"]["name"]: n for n in kget(sandbox, "nodes")["items"]}
    assert sorted(nodes) == ["cpu-node-1", "gpu-node-1", "gpu-node-2"]
    for name in ("gpu-node-1", "gpu-node-2"):
        node = nodes[name]
        assert node["status"]["allocatable"]["nvidia.com/gpu"] == "4"
        assert node["metadata"]["labels"]["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-80GB"
        assert node["metadata"]["labels"]["nvidia.com/gpu.memory"] == "81920"
    assert "nvidia.com/gpu" not in nodes["cpu-node-1"]["status"]["allocatable"]
    for node in nodes.values():
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"


def test_gpu_pod_is_scheduled_on_a_gpu_node_and_runs(sandbox, namespace):
    _create(sandbox, namespace, _deployment("one-gpu", 1))

    def running():
        pods = _pods(sandbox, namespace, "one-gpu")
        return pods if pods and pods[0]["status"].get("phase") == "Running" else None

    pod = eventually(running, what="a Running pod")[0]
    assert pod["spec"]["nodeName"].startswith("gpu-node-")


def test_oversized_request_stays_pending_with_failed_scheduling(sandbox, namespace):
    _create(sandbox, namespace, _deployment("too-big", 100))

    def failed_scheduling():
        events = kget(sandbox, "events", "-n", namespace, "--field-selector", "reason=FailedScheduling")["items"]
        return [e for e in events if "nvidia.com/gpu" in e.get("message", "")]

    events = eventually(failed_scheduling, what="a FailedScheduling event")
    assert "Insufficient nvidia.com/gpu" in events[0]["message"]
    pods = _pods(sandbox, namespace, "too-big")
    assert len(pods) == 1 and pods[0]["status"]["phase"] == "Pending"
    assert not pods[0]["spec"].get("nodeName")


def test_deleting_a_deployment_garbage_collects_replicasets_and_pods(sandbox, namespace):
    _create(sandbox, namespace, _deployment("gc-me", 1))
    eventually(lambda: _pods(sandbox, namespace, "gc-me"), what="the pod")
    assert kget(sandbox, "replicasets", "-n", namespace, "-l", "app=gc-me")["items"]

    sandbox.kubectl("delete", "deployment", "gc-me", "-n", namespace, "--wait=false")
    eventually(
        lambda: not kget(sandbox, "replicasets", "-n", namespace, "-l", "app=gc-me")["items"]
        and not _pods(sandbox, namespace, "gc-me"),
        what="ReplicaSet and pods to be garbage-collected",
    )


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text in cmd and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


def test_cli_up_status_down_leaves_nothing_behind(tmp_path):
    state = tmp_path / "cli-sandbox"
    cli = [sys.executable, "-m", "airunway.cli"]
    env = dict(os.environ, COLUMNS="200")
    up = subprocess.run(
        cli + ["sandbox", "up", "--state-dir", str(state), "--gpu-nodes", "1", "--gpus-per-node", "2", "--cpu-nodes", "0"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"export KUBECONFIG={state / 'kubeconfig'}" in up.stdout
        assert "export PATH=" in up.stdout and ":$PATH" in up.stdout
        status = subprocess.run(cli + ["sandbox", "status", "--state-dir", str(state)], capture_output=True, text=True, env=env)
        assert status.returncode == 0, status.stdout
        for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"):
            line = next(l for l in status.stdout.splitlines() if f" {component} " in l)
            assert " running " in line and ": ok " in line, status.stdout

        # An API server whose process runs but does not answer is reported so (SIGSTOP freezes it).
        from airunway.sandbox.cluster import Sandbox

        apiserver = Sandbox(state).status()["kube-apiserver"]
        os.kill(apiserver, signal.SIGSTOP)
        try:
            frozen = subprocess.run(cli + ["sandbox", "status", "--state-dir", str(state)], capture_output=True,
                                    text=True, env=env, timeout=60)
        finally:
            os.kill(apiserver, signal.SIGCONT)
        assert frozen.returncode == 1, frozen.stdout
        line = next(l for l in frozen.stdout.splitlines() if " kube-apiserver " in l)
        assert "not answering" in line and "/livez: no answer within" in line, frozen.stdout
        assert "Kubeconfig:" not in frozen.stdout
        thawed = subprocess.run(cli + ["sandbox", "status", "--state-dir", str(state)], capture_output=True,
                                text=True, env=env)
        assert thawed.returncode == 0, thawed.stdout
        bin_dir = next(l for l in up.stdout.splitlines() if l.startswith("export PATH=")).split("=", 1)[1].split(":")[0]
        nodes = subprocess.run(
            [f"{bin_dir}/kubectl", "--kubeconfig", str(state / "kubeconfig"), "get", "nodes", "-o", "name"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        assert nodes == ["node/gpu-node-1"]
        assert _processes_mentioning(str(state))
    finally:
        down = subprocess.run(cli + ["sandbox", "down", "--state-dir", str(state)], capture_output=True, text=True, env=env)
    assert down.returncode == 0, down.stderr
    assert "Stopped" in down.stdout
    assert _processes_mentioning(str(state)) == []
    after = subprocess.run(cli + ["sandbox", "status", "--state-dir", str(state)], capture_output=True, text=True, env=env)
    assert after.returncode == 3


def test_a_failed_start_leaves_no_process_behind(tmp_path, monkeypatch):
    """A start that fails right after spawning its first process still stops that process."""
    from airunway.sandbox import build
    from airunway.sandbox.cluster import Sandbox, SandboxError

    def fail_at_once(self, what, check, state, component, timeout):
        raise SandboxError(f"simulated failure while waiting for {what}")

    monkeypatch.setattr(Sandbox, "_wait", fail_at_once)
    sb = Sandbox(tmp_path / "broken")
    try:
        sb.up(bin_dir=build.bin_dir(), crds=lambda: [], progress=lambda m: None)
    except SandboxError as exc:
        assert "simulated failure while waiting for etcd" in str(exc)
    else:
        raise AssertionError("up() should have failed")
    assert _processes_mentioning(str(tmp_path / "broken")) == []
