"""GPU labels to models, the spec table, the static estimate, which cloud an instance type is from, and the
throughput arithmetic."""

from __future__ import annotations

import pytest

from airunway.server.services import costs, pricing, throughput


@pytest.mark.parametrize(("label", "model"), [
    ("NVIDIA-A100-SXM4-80GB", "A100-80GB"), ("NVIDIA-A100-80GB-PCIe", "A100-80GB"), ("A100 80GB", "A100-80GB"),
    ("NVIDIA-A100-SXM4-40GB", "A100-40GB"), ("NVIDIA-A100-PCIE-40GB", "A100-40GB"), ("A100", "A100-40GB"),
    ("NVIDIA-A10", "A10"), ("NVIDIA A10", "A10"), ("NVIDIA-A10G", "A10G"), ("a10g", "A10G"),
    ("NVIDIA-H100-80GB-HBM3", "H100-80GB"), ("NVIDIA-H100-PCIe", "H100-80GB"), ("H100-SXM5", "H100-80GB"),
    ("NVIDIA-H200", "H200-141GB"), ("NVIDIA-H200-141GB-HBM3e", "H200-141GB"),
    ("Tesla-T4", "T4"), ("NVIDIA-Tesla-T4", "T4"), ("Tesla-V100-SXM2-16GB", "V100"), ("V100-PCIE-16GB", "V100"),
    ("NVIDIA-L40S", "L40S"), ("NVIDIA-L4", "L4"), ("h100-80gb", "H100-80GB"),
])
def test_gpu_labels_name_models(label, model):
    assert costs.known_gpu_model(label) == model


def test_unknown_gpus():
    assert costs.known_gpu_model("AMD-MI300X") is None and costs.known_gpu_model("") is None
    assert costs.gpu_model("Quadro-RTX-6000") == "A10"  # lenient: the default
    assert costs.supports_fp8("NVIDIA-H100-80GB-HBM3") and costs.supports_fp8("NVIDIA-L4")
    assert not costs.supports_fp8("NVIDIA-A100-SXM4-80GB") and not costs.supports_fp8("mystery")


def test_spec_table_and_estimate():
    assert costs.gpu_models()[:2] == [{"model": "H200-141GB", "memoryGb": 141, "generation": "Hopper"},
                                      {"model": "H100-80GB", "memoryGb": 80, "generation": "Hopper"}]
    assert len(costs.gpu_models()) == 10
    estimate = costs.estimate_cost("NVIDIA-A100-SXM4-80GB", 2, 3)
    assert estimate["estimate"] == {"hourly": 0, "monthly": 0, "currency": "USD", "source": "static",
                                    "confidence": "low"}
    assert estimate["totalGpus"] == 6 and estimate["normalizedGpuModel"] == "A100-80GB"
    assert estimate["notes"][1] == "GPU: A100-80GB (80GB, Ampere)"
    assert costs.estimate_cost("Mystery", 1, 1)["notes"][1] == "Unknown GPU: Mystery"


@pytest.mark.parametrize(("instance_type", "provider"), [
    ("Standard_NC24ads_A100_v4", "azure"), ("Basic_A1", "azure"), ("p4d.24xlarge", "aws"), ("g5.xlarge", "aws"),
    ("a2-highgpu-1g", "gcp"), ("n1-standard-8", "gcp"), ("custom-4-16384", "gcp"), ("something-else", "gcp"),
    ("mystery", None),
])
def test_cloud_of_instance_types(instance_type, provider):
    assert pricing.detect_provider(instance_type) == provider


def test_throughput_of_a_70b_model_in_fp8_on_h100():
    pool = throughput.choose_pool([{"name": "p", "gpuModel": "NVIDIA-H100-80GB-HBM3", "gpuCount": 16,
                                    "nodeCount": 2}], None)
    assert pool is not None and pool.per_node == 8 and pool.label == "8x80 GB"
    dims = {"numLayers": 80, "numKvHeads": 8, "headDim": 128, "maxPositionEmbeddings": 131072}
    result = throughput.estimate(pool, 70e9, context=None, quantization="fp8", kv_dtype="fp8", tp_size=None, dims=dims)
    assert result["perChatTokensPerSec"] == 38 and result["tpSize"] == 1 and result["contextLen"] == 32768
    assert result["kvCacheDtype"] == "fp8" and result["fp8Supported"] is True
    # 80 GiB - 65.2 GiB of weights - 5 GiB leaves about 9.8 GiB; a 32k sequence takes 5 GiB of fp8 KV cache.
    assert result["concurrentSequences"] == 1 and result["doesNotFit"] is False
    assert result["lowConfidence"] is False  # the architecture is known: the KV cache is counted
    bf16 = throughput.estimate(pool, 70e9, context=8192, quantization="bf16", kv_dtype=None, tp_size=None, dims=dims)
    assert bf16["tpSize"] == 2 and bf16["perChatTokensPerSec"] == round(3350e9 * 2 * 0.85 / 140e9 * 0.8)


def test_throughput_without_the_architecture_is_low_confidence():
    """The speed follows from the size alone; how many chats fit needs the layers and KV heads."""
    pool = throughput.choose_pool([{"name": "p", "gpuModel": "NVIDIA-A100-SXM4-80GB", "gpuCount": 4,
                                    "nodeCount": 1}], None)
    for dims in (None, {}, {"numLayers": 32, "numKvHeads": 8}):  # unknown, or known only in part
        result = throughput.estimate(pool, 8e9, context=None, quantization=None, kv_dtype=None, tp_size=None,
                                     dims=dims)
        assert result["perChatTokensPerSec"] == round(2039e9 / 16e9 * 0.8)
        assert result["lowConfidence"] is True
        assert "concurrentSequences" not in result and "doesNotFit" not in result


def test_throughput_choices():
    pools = [{"name": "a", "gpuModel": "NVIDIA-A10", "gpuCount": 2, "nodeCount": 2},
             {"name": "b", "gpuModel": "NVIDIA-A100-SXM4-80GB", "gpuCount": 4, "nodeCount": 1},
             {"name": "c", "gpuModel": "Mystery"}]
    assert throughput.choose_pool(pools, None).spec.key == "A100-80GB"
    assert throughput.choose_pool(pools, "A10").spec.key == "A10"
    assert throughput.choose_pool([{"gpuModel": "Mystery"}], None) is None
    on_a100 = throughput.choose_pool(pools, None)
    no_params = throughput.estimate(on_a100, None, context=None, quantization=None, kv_dtype="fp8", tp_size=None,
                                    dims=None)
    assert no_params["perChatTokensPerSec"] == 0 and no_params["lowConfidence"] is True
    assert no_params["kvCacheDtype"] == "fp16"  # A100 has no FP8
    assert throughput.derive_tp(300, 80, 8) == 8 and throughput.derive_tp(10, 80, 8) == 1
    assert throughput.derive_tp(100, 4, 4) == 4  # no usable memory: as many as a node has


def test_prices_are_kept_an_hour(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(pricing.time, "monotonic", lambda: clock[0])
    cache = pricing.PriceCache()
    cache.put("azure:x:default", {"success": True})
    clock[0] += 3599
    assert cache.get("azure:x:default") == {"success": True}
    clock[0] += 2
    assert cache.get("azure:x:default") is None and cache.stats()["size"] == 0
    for i in range(pricing.MAX_ENTRIES + 5):
        cache.put(f"k{i}", {"success": True})
    assert cache.stats()["size"] == pricing.MAX_ENTRIES and cache.get("k0") is None and cache.get("k1004")
