"""Costs and speed on the sandbox: node pool prices from an Azure Retail Prices stand-in on 127.0.0.1 (cached for an
hour), instance prices, the throughput estimate for the sandbox's GPU pool, and GPU model normalisation."""

from __future__ import annotations

import pytest

from airunway.sandbox.cluster import CPU_INSTANCE_TYPE, GPU_INSTANCE_TYPE, REGION
from airunway.server.app import Settings
from airunway.server.services import pricing

from fakes.standins import PRICES, AzurePrices, serve
from support import DashboardAPI


@pytest.fixture
def azure(monkeypatch):
    server = serve(AzurePrices)
    monkeypatch.setenv("AZURE_PRICING_URL", server.url)
    monkeypatch.setattr(pricing, "cache", pricing.PriceCache())
    try:
        yield AzurePrices.asked
    finally:
        server.close()


def _settings(sandbox) -> Settings:
    return Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)


async def test_node_pool_prices_are_fetched_once_an_hour(sandbox, azure):
    async with DashboardAPI(sandbox, _settings(sandbox)) as api:
        first = (await api.get("/api/costs/node-pools", params={"gpuCount": 2, "replicas": 2})).json()
        again = (await api.get("/api/costs/node-pools", params={"gpuCount": 2, "replicas": 2})).json()
        static = (await api.get("/api/costs/node-pools", params={"realtime": "false"})).json()
        cpu = (await api.get("/api/costs/node-pools", params={"computeType": "cpu"})).json()
    [pool] = first["nodePoolCosts"]
    assert pool["poolName"] == "gpupool" and pool["gpuModel"] == "NVIDIA-A100-SXM4-80GB"
    assert pool["costBreakdown"]["normalizedGpuModel"] == "A100-80GB" and pool["costBreakdown"]["totalGpus"] == 4
    hourly = round(PRICES[GPU_INSTANCE_TYPE] * 2, 2)
    assert pool["realtimePricing"] == {"instanceType": GPU_INSTANCE_TYPE, "hourlyPrice": hourly,
                                       "monthlyPrice": round(hourly * 730, 2), "currency": "USD", "region": REGION,
                                       "source": "realtime"}
    assert first["pricingSource"] == "realtime-with-fallback"
    assert again["nodePoolCosts"][0]["realtimePricing"]["source"] == "cached"
    assert again["cacheStats"] == {"size": 1, "ttlMs": 3600000, "maxEntries": 1000}
    assert static["pricingSource"] == "static" and "realtimePricing" not in static["nodePoolCosts"][0]
    [cpu_pool] = cpu["nodePoolCosts"]
    assert cpu_pool["poolName"] == "cpupool" and cpu_pool["gpuModel"] == "CPU"
    assert cpu_pool["costBreakdown"]["estimate"]["hourly"] == round(PRICES[CPU_INSTANCE_TYPE], 2)
    gpu_asks = [q for q in azure if GPU_INSTANCE_TYPE in q]
    assert len(gpu_asks) == 1 and f"armRegionName eq '{REGION}'" in gpu_asks[0]
    assert "contains(meterName, 'Spot') eq false" in gpu_asks[0]


async def test_instance_prices(sandbox, azure):
    async with DashboardAPI(sandbox, _settings(sandbox)) as api:
        price = (await api.get("/api/costs/instance-price", params={"instanceType": GPU_INSTANCE_TYPE,
                                                                    "region": "EastUS"})).json()
        cached = (await api.get("/api/costs/instance-price", params={"instanceType": GPU_INSTANCE_TYPE,
                                                                     "region": "eastus"})).json()
        missing = await api.get("/api/costs/instance-price")
        unknown_cloud = await api.get("/api/costs/instance-price", params={"instanceType": "mystery"})
        aws = await api.get("/api/costs/instance-price", params={"instanceType": "p4d.24xlarge"})
        unpriced = await api.get("/api/costs/instance-price", params={"instanceType": "Standard_Nope_v9"})
    assert price == {"success": True, "cached": False, "price": {
        "instanceType": GPU_INSTANCE_TYPE, "provider": "azure", "region": "eastus", "hourlyPrice": 14.692,
        "currency": "USD", "priceType": "ondemand", "lastUpdated": "2025-01-01T00:00:00Z", "gpuCount": 4,
        "gpuModel": "A100-80GB"}}
    assert cached["cached"] is True and cached["price"] == price["price"]
    assert missing.status_code == 400 and missing.json() == {"success": False, "error": "instanceType is required"}
    assert unknown_cloud.status_code == 400
    assert aws.status_code == 404 and aws.json()["error"] == "AWS pricing API not yet implemented"
    assert unpriced.status_code == 404 and unpriced.json() == {"success": False, "error": "Price not found",
                                                              "provider": "azure"}


async def test_an_unreachable_price_api_is_not_fatal(sandbox, monkeypatch):
    monkeypatch.setenv("AZURE_PRICING_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(pricing, "cache", pricing.PriceCache())
    async with DashboardAPI(sandbox, _settings(sandbox)) as api:
        pools = await api.get("/api/costs/node-pools")
        price = await api.get("/api/costs/instance-price", params={"instanceType": GPU_INSTANCE_TYPE})
    assert pools.status_code == 200 and "realtimePricing" not in pools.json()["nodePoolCosts"][0]
    assert price.status_code == 404
    assert price.json()["error"] == "Azure pricing API is unreachable (ConnectError)"


async def test_throughput_for_the_sandbox_pool(sandbox, hub):
    async with DashboardAPI(sandbox, _settings(sandbox)) as api:
        answer = await api.get("/api/installation/gpu-throughput", params={"paramCount": 8e9})
        known = (await api.get("/api/installation/gpu-throughput",
                               params={"paramCount": 8e9, "modelId": "Qwen/Qwen3-8B"})).json()
        unknown = (await api.get("/api/installation/gpu-throughput",
                                 params={"paramCount": 8e9, "modelId": "acme/no-config-here"})).json()
        bad = await api.get("/api/installation/gpu-throughput", params={"quantization": "fp4"})
        models = (await api.get("/api/costs/gpu-models")).json()
        normal = (await api.get("/api/costs/normalize-gpu", params={"label": "NVIDIA-A100-SXM4-40GB"})).json()
        no_label = await api.get("/api/costs/normalize-gpu")
        estimate = await api.post("/api/costs/estimate", json={"gpuType": "NVIDIA-H100-80GB-HBM3", "gpuCount": 2,
                                                               "replicas": 2})
        invalid = await api.post("/api/costs/estimate", json={"gpuType": "", "gpuCount": 0, "replicas": 1})
    body = answer.json()
    assert answer.status_code == 200 and body["gpuModel"] == "A100-80GB" and body["capacityLabel"] == "4x80 GB"
    assert body["perChatTokensPerSec"] == round(2039e9 / 16e9 * 0.8) and body["tpSize"] == 1
    assert body["lowConfidence"] is True  # no model id: its architecture is unknown
    # The Hub's config.json gives the layers and KV heads: how many chats fit is counted.
    assert known["lowConfidence"] is False and known["concurrentSequences"] > 0 and known["doesNotFit"] is False
    assert unknown["lowConfidence"] is True and "concurrentSequences" not in unknown
    assert bad.status_code == 400 and "quantization" in bad.json()["error"]["message"]
    assert models["success"] is True and len(models["models"]) == 10
    assert normal == {"success": True, "originalLabel": "NVIDIA-A100-SXM4-40GB", "normalizedModel": "A100-40GB",
                      "gpuInfo": {"memoryGb": 40, "generation": "Ampere"}}
    assert no_label.status_code == 400 and no_label.json() == {"success": False, "error": "GPU label is required"}
    assert estimate.json()["breakdown"]["totalGpus"] == 4
    assert invalid.status_code == 400 and "gpuType" in invalid.json()["error"]["message"]
