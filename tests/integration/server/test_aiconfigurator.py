"""AI Configurator through the API: with a stand-in for the ``aiconfigurator`` CLI on PATH (tests/fakes), without
it, and in a pod."""

from __future__ import annotations

import pytest

from airunway.server.app import Settings
from airunway.server.services.aiconfigurator import friendly_error, normalize_gpu_type

from fakes.aiconfigurator import install_cli
from support import in_process_api


@pytest.fixture
def cli(tmp_path, monkeypatch):
    folder = install_cli(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home" / ".airunway"


def _api(in_cluster: bool = False):
    return in_process_api(Settings(auth_enabled=False, in_cluster=in_cluster))


async def test_analysis_with_the_cli(cli):
    async with _api() as api:
        status = (await api.get("/api/aiconfigurator/status")).json()
        throughput = (await api.post("/api/aiconfigurator/analyze", json={
            "modelId": "Qwen/Qwen3-32B", "gpuType": "NVIDIA-H100-80GB-HBM3", "gpuCount": 8})).json()
        latency = (await api.post("/api/aiconfigurator/analyze", json={
            "modelId": "Qwen/Qwen3-32B", "gpuType": "NVIDIA-A100-SXM4-80GB", "gpuCount": 1,
            "optimizeFor": "latency", "maxLatencyMs": 500})).json()
        too_big = (await api.post("/api/aiconfigurator/analyze", json={
            "modelId": "acme/huge-model", "gpuType": "H100", "gpuCount": 1})).json()
        empty = (await api.post("/api/aiconfigurator/analyze", json={
            "modelId": "acme/empty-model", "gpuType": "H100", "gpuCount": 1})).json()
    assert status == {"available": True, "version": "0.4.0"}
    assert throughput["success"] is True and throughput["mode"] == "disaggregated"
    assert throughput["backend"] == "vllm" and throughput["supportedBackends"] == ["vllm", "sglang", "trtllm"]
    assert throughput["config"]["prefillTensorParallel"] == 2 and throughput["config"]["decodeTensorParallel"] == 4
    assert throughput["config"]["maxNumSeqs"] == 96 and throughput["config"]["maxModelLen"] == 4500
    assert throughput["decodeReplicas"] == 2
    assert throughput["estimatedPerformance"]["throughputTokensPerSec"] == 3360.0
    assert latency["mode"] == "aggregated" and latency["config"]["tensorParallelDegree"] == 2
    assert latency["estimatedPerformance"]["latencyP99Ms"] == pytest.approx(180.75)
    assert latency["backend"] == "trtllm"
    assert latency["warnings"] == ["Using TRTLLM backend (vLLM not available for NVIDIA-A100-SXM4-80GB)"]
    assert too_big["success"] is False and too_big["error"].startswith("The model is too large")
    assert too_big["mode"] == "aggregated" and too_big["replicas"] == 1
    assert too_big["config"]["tensorParallelDegree"] == 1
    assert empty["success"] is False and empty["error"] == "AI Configurator produced no configuration"
    assert empty["mode"] == "aggregated" and empty["replicas"] == 1 and empty["config"]["maxBatchSize"] == 256
    assert not any(cli.iterdir())  # every run's folder is removed


async def test_without_the_cli_and_in_a_pod(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    async with _api() as api:
        status = (await api.get("/api/aiconfigurator/status")).json()
        fallback = (await api.post("/api/aiconfigurator/analyze", json={
            "modelId": "Qwen/Qwen3-8B", "gpuType": "L4", "gpuCount": 12})).json()
        bad_id = (await api.post("/api/aiconfigurator/analyze", json={
            "modelId": "../etc", "gpuType": "L4", "gpuCount": 1})).json()
        invalid = await api.post("/api/aiconfigurator/analyze", json={"modelId": "", "gpuCount": 0})
        normalized = (await api.post("/api/aiconfigurator/normalize-gpu",
                                     json={"gpuProduct": "NVIDIA-A100-SXM4-80GB"})).json()
        missing = await api.post("/api/aiconfigurator/normalize-gpu", json={})
    assert status == {"available": False, "error": "AI Configurator CLI not found"}
    # Not a green "optimal configuration": a failure, with the default configuration to fall back on.
    assert fallback == {"success": False, "error": "AI Configurator CLI not found", "mode": "aggregated",
                        "replicas": 1, "config": {"tensorParallelDegree": 8, "maxBatchSize": 256,
                                                  "gpuMemoryUtilization": 0.9, "maxModelLen": 4096},
                        "warnings": ["AI Configurator not available, using default configuration"]}
    assert bad_id == {"success": False, "error": "Invalid model ID format. Expected format: org/model-name or "
                                                 "model-name", "mode": "aggregated", "replicas": 1,
                      "config": {"tensorParallelDegree": 1, "maxBatchSize": 256, "gpuMemoryUtilization": 0.9,
                                 "maxModelLen": 4096}}
    assert invalid.status_code == 400 and invalid.json()["error"]["message"] == "Invalid request"
    assert any(e.startswith("modelId") for e in invalid.json()["error"]["errors"])
    assert normalized == {"gpuProduct": "NVIDIA-A100-SXM4-80GB", "normalized": "A100-80GB"}
    assert missing.status_code == 400
    async with _api(in_cluster=True) as api:
        in_pod = (await api.get("/api/aiconfigurator/status")).json()
    assert in_pod == {"available": False, "runningInCluster": True,
                      "error": "AI Configurator is only available when running AI Runway locally"}


@pytest.mark.parametrize(("label", "gpu"), [
    ("NVIDIA-A100-SXM4-80GB", "A100-80GB"), ("nvidia a100 pcie 40gb", "A100-40GB"), ("NVIDIA-H100-80GB-HBM3", "H100-80GB"),
    ("NVIDIA-L40S", "L40S"), ("NVIDIA-L4", "L4"), ("Tesla-T4", "T4"), ("Tesla-V100-32GB", "V100-32GB"), ("Tesla-V100-SXM2-16GB", "V100"),
    ("NVIDIA-B200", "B200"),
])
def test_gpu_types(label, gpu):
    assert normalize_gpu_type(label) == gpu


def test_friendly_errors():
    assert "gated" in friendly_error("401 Client Error: Unauthorized for url")
    assert friendly_error("WARNING x\nValueError: bad model\nmore") == "ValueError: bad model"
    assert friendly_error("WARNING only\nsomething odd") == "something odd"
