"""Pure parts of the installation endpoints: the manual commands, the install steps (with a runner that records
instead of running), failure messages, shim health, readiness, and GPU models and memory from node labels."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airunway.server.services import gpus, helm, installation


def test_commands_for_a_plain_chart_quote_values():
    repos = [{"name": "nvidia", "url": "https://helm.ngc.nvidia.com/nvidia"}]
    charts = [{"name": "gpu-operator", "chart": "nvidia/gpu-operator", "namespace": "gpu-operator",
               "createNamespace": True}]
    assert helm.install_commands(repos, charts) == installation.gpu_operator_commands() == [
        "helm repo add nvidia https://helm.ngc.nvidia.com/nvidia", "helm repo update",
        "helm install gpu-operator nvidia/gpu-operator --namespace gpu-operator --create-namespace"]
    chart = {"name": "x", "chart": "r/x", "namespace": "ns", "version": "1.2.3", "skipCrds": True,
             "values": {"a": {"b": "it's"}, "n": 2}, "preCrdUrls": ["https://example.org/crds/x.yaml"]}
    assert helm.install_commands([], [chart]) == [
        "kubectl apply -f https://example.org/crds/x.yaml",
        "helm install x r/x --namespace ns --version 1.2.3 --set-json 'a={\"b\":\"it'\"'\"'s\"}' "
        "--set-json 'n=2' --skip-crds"]


def test_commands_for_charts_with_missing_crds_and_fetched_charts():
    pull = {"name": "kaito-workspace", "chart": "kaito/workspace", "namespace": "kaito-workspace",
            "version": "0.10.0", "createNamespace": True, "preInstallMissingCrds": True}
    [script] = helm.install_commands([], [pull])
    assert script.startswith("(KAITO_WORKSPACE_CHART_DIR=$(mktemp -d) && ")
    assert "helm pull kaito/workspace --untar" in script and "--version 0.10.0" in script
    assert "kubectl apply --server-side --force-conflicts" in script
    assert script.endswith('helm install kaito-workspace "$KAITO_WORKSPACE_CHART_PATH" --namespace kaito-workspace '
                           "--create-namespace --skip-crds)")
    fetched = {"name": "f", "chart": "f", "namespace": "ns", "version": "9", "fetchUrl": "https://example.org/f.tgz"}
    assert helm.install_commands([], [fetched]) == ["helm fetch https://example.org/f.tgz && helm install f f "
                                                    "--namespace ns"]


def test_kaito_and_dynamo_charts_install_only_missing_crds():
    kaito = {"id": "kaito", "helmCharts": [{"name": "k", "chart": "kaito/workspace", "namespace": "n"}]}
    dynamo = {"id": "dynamo", "helmCharts": [{"name": "dynamo-platform", "chart": "x/y", "namespace": "n"},
                                              {"name": "other", "chart": "x/z", "namespace": "n"}]}
    assert installation.charts_of(kaito)[0] | {} == {"name": "k", "chart": "kaito/workspace", "namespace": "n",
                                                     "preInstallMissingCrds": True, "skipCrds": True}
    flags = [c.get("preInstallMissingCrds") for c in installation.charts_of(dynamo)]
    assert flags == [True, None]


class Recorder(helm.Runner):
    """Records the commands; ``fail`` names the first argument list element that makes a command fail."""

    def __init__(self, fail: str | None = None) -> None:
        super().__init__()
        self.calls: list[tuple[str, ...]] = []
        self.fail = fail

    async def helm(self, *args: str) -> helm.CommandResult:
        self.calls.append(("helm", *args))
        failed = self.fail is not None and self.fail in args
        return helm.CommandResult(not failed, "" if failed else "ok", "boom" if failed else "", 1 if failed else 0)


async def test_install_runs_the_steps_in_order_and_stops_at_a_failure():
    repos = [{"name": "r1", "url": "http://127.0.0.1:1/a"}, {"name": "r2", "url": "http://127.0.0.1:1/b"}]
    charts = [{"name": "one", "chart": "r1/one", "namespace": "ns", "version": "1", "createNamespace": True,
               "values": {"k": [1]}}, {"name": "two", "chart": "r2/two", "namespace": "ns"}]
    heard = []
    runner = Recorder()
    install = helm.Install(runner, lambda name, step: heard.append((name, step is not None)))
    assert await install.run(repos, charts) is True
    assert runner.calls == [
        ("helm", "repo", "add", "r1", "http://127.0.0.1:1/a", "--force-update"),
        ("helm", "repo", "add", "r2", "http://127.0.0.1:1/b", "--force-update"),
        ("helm", "repo", "update"),
        ("helm", "upgrade", "one", "r1/one", "--install", "--namespace", "ns", "--create-namespace", "--version", "1",
         "--set-json", "k=[1]"),
        ("helm", "upgrade", "two", "r2/two", "--install", "--namespace", "ns"),
    ]
    assert [s.step for s in install.results] == ["repo-add-r1", "repo-add-r2", "repo-update", "install-one",
                                                 "install-two"]
    assert heard[:2] == [("repo-add-r1", False), ("repo-add-r1", True)]

    failing = Recorder(fail="update")
    install = helm.Install(failing, None)
    assert await install.run(repos, charts) is False
    assert [(s.step, s.success, s.error) for s in install.results][-1] == ("repo-update", False, "boom")
    assert len(failing.calls) == 3

    steps = await helm.uninstall(Recorder(fail="one"), charts)
    assert [(s.step, s.success) for s in steps] == [("uninstall-two", True), ("uninstall-one", False)]


async def test_a_missing_binary_and_a_timeout_are_failures_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("HELM_PATH", str(tmp_path / "no-helm"))
    result = await helm.Runner().helm("version")
    assert result.success is False and result.stderr.startswith("Failed to execute helm: ")
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setenv("KUBECTL_PATH", str(slow))
    result = await helm.Runner(kubectl_timeout=0.5).kubectl("get", "pods")
    assert result.success is False and result.stderr.endswith("Command timed out after 0 seconds")


@pytest.mark.parametrize(("output", "code", "start"), [
    ('Error: secrets is forbidden: User "x" cannot create resource', 403,
     "Installing: Automatic installation requires elevated installer permissions."),
    ('Error: rendered manifests contain a resource that already exists. Unable to continue with install: '
     'ServiceAccount "kaito" in namespace "kaito-workspace" exists and cannot be imported into the current release',
     409, 'Installing: Cannot install because ServiceAccount "kaito" in namespace "kaito-workspace" already exists'),
    ('Error: ClusterRole "x" in namespace "" exists and cannot be imported into the current release', 409,
     'Installing: Cannot install because ClusterRole "x" already exists'),
    ("invalid ownership metadata", 409, "Installing: Cannot install because a required cluster resource already"),
    ("Error: chart not found", 500, "Installing: Error: chart not found"),
    ("", 500, "Installing: Unknown error"),
])
def test_failure_mapping(output, code, start):
    status, message = installation.failure("Installing", output)
    assert status == code and message.startswith(start)


def test_shim_health_goes_stale_without_heartbeat(monkeypatch):
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    beat = lambda ago: (now - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    fresh = {"status": {"ready": True, "lastHeartbeat": beat(60)}}
    assert installation.shim_health(fresh, now) | {} == {"healthy": True, "reason": "Ready", "stale": False,
                                                         "message": "Provider is installed and running",
                                                         "hasShimSignal": False}
    stale = {"status": {"ready": True, "lastHeartbeat": beat(181)}}
    assert installation.shim_health(stale, now)["reason"] == "ShimStale"
    monkeypatch.setenv("PROVIDER_HEALTH_STALENESS_MS", "600000")
    assert installation.shim_health(stale, now)["stale"] is False
    monkeypatch.setenv("PROVIDER_HEALTH_STALENESS_MS", "-5")
    assert installation.shim_health(stale, now)["stale"] is True
    signal = {"status": {"ready": False, "conditions": [
        {"type": "UpstreamReady", "status": "False", "reason": "OperatorMissing", "message": "no operator"}]}}
    assert installation.shim_health(signal, now) | {} == {"healthy": False, "reason": "OperatorMissing",
                                                          "message": "no operator", "stale": False,
                                                          "hasShimSignal": True}
    assert installation.shim_health(None, now)["healthy"] is False


def test_ready_from_a_path_or_conditions():
    config = {"status": {"ready": False, "upstream": {"ok": True},
                         "conditions": [{"type": "A", "status": "True"}, {"type": "B", "status": "False"}]}}
    assert installation.status_ready(config, None) is False
    assert installation.status_ready(config, {"status": {"readyPath": "status.upstream.ok"}}) is True
    assert installation.status_ready(config, {"status": {"conditions": ["A"]}}) is True
    assert installation.status_ready(config, {"status": {"conditions": ["A", "B"]}}) is False


@pytest.mark.parametrize(("instance_type", "model"), [
    ("Standard_NC24ads_A100_v4", "A100-80GB"), ("Standard_NV36ads_A10_v5", "A10"),
    ("Standard_NC40ads_H100_v5", "H100"), ("Standard_NC6s_v3", "V100"), ("Standard_NC4as_T4_v3", "T4"),
    ("p5.48xlarge", "H100"), ("p4d.24xlarge", "A100-40GB"), ("p4de.24xlarge", "A100-40GB"), ("p3.2xlarge", "V100"),
    ("g4dn.xlarge", "T4"), ("g5.xlarge", "A10G"), ("g6e.xlarge", "L40S"), ("g6.xlarge", "L4"),
    ("a3-highgpu-8g", "H100"), ("a2-ultragpu-1g", "A100-80GB"), ("a2-highgpu-1g", "A100-40GB"),
    ("g2-standard-4", "L4"), ("Standard_D4s_v5", None), ("m5.large", None),
])
def test_gpu_model_of_instance_types(instance_type, model):
    assert gpus.gpu_of_instance_type(instance_type) == model


@pytest.mark.parametrize(("labels", "memory"), [
    ({"nvidia.com/gpu.memory": "81920"}, 80), ({"nvidia.com/gpu.memory": "23028"}, 22),
    ({"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}, 80), ({"nvidia.com/gpu.product": "NVIDIA-A100-PCIE-40GB"}, 40),
    ({"nvidia.com/gpu.product": "NVIDIA-A10"}, 24), ({"nvidia.com/gpu.product": "Tesla-T4"}, 16),
    ({"nvidia.com/gpu.product": "Tesla-V100-SXM2-32GB"}, 32), ({"nvidia.com/gpu.product": "NVIDIA-H200"}, 141),
    ({"nvidia.com/gpu.product": "NVIDIA-L40S"}, 48), ({"nvidia.com/gpu.product": "NVIDIA-L4"}, 24),
    ({"nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-3080"}, 10), ({}, None),
])
def test_gpu_memory_from_labels(labels, memory):
    assert gpus.gpu_memory_gb(labels) == memory


def test_node_pools_group_by_the_first_pool_label():
    def node(name, labels, count):
        return {"metadata": {"name": name, "labels": labels},
                "status": {"allocatable": {"nvidia.com/gpu": str(count)} if count else {}}}

    nodes = [node("a", {"agentpool": "gpu", "node.kubernetes.io/instance-type": "Standard_NC24ads_A100_v4"}, 1),
             node("b", {"kubernetes.azure.com/agentpool": "x", "agentpool": "gpu",
                        "topology.kubernetes.io/region": "westus"}, 1),
             node("c", {"cloud.google.com/gke-nodepool": "g", "accelerator": "nvidia-l4"}, 2),
             node("d", {}, 0)]
    assert gpus.node_pools(nodes, {"a": 1, "c": 2}) == [
        {"name": "gpu", "gpuCount": 2, "nodeCount": 2, "availableGpus": 1, "gpuModel": "A100-80GB",
         "instanceType": "Standard_NC24ads_A100_v4", "region": "westus"},
        {"name": "g", "gpuCount": 2, "nodeCount": 1, "availableGpus": 2, "gpuModel": "nvidia-l4"},
        {"name": "default", "gpuCount": 0, "nodeCount": 1, "availableGpus": 0},
    ]
