"""``/api/costs``: GPU models and their normalisation, the static estimate, and cloud prices of node pools and
instance types."""

from __future__ import annotations

from fastapi import Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from airunway.kube.client import Client
from airunway.server import responses
from airunway.server.deps import acting
from airunway.server.services import costs, gpus, pricing

router = responses.Router(prefix="/api/costs", tags=["costs"])


class EstimateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    gpuType: StrictStr = Field(min_length=1, max_length=200)
    gpuCount: StrictInt = Field(ge=1, le=10_000)
    replicas: StrictInt = Field(ge=1, le=10_000)
    hoursPerMonth: StrictInt | None = Field(None, ge=1, le=744)


def _int(text: str | None, default: int) -> int:
    try:
        return max(1, int(text)) if text is not None else default
    except ValueError:
        return default


def _realtime(price: dict, replicas: int) -> dict:
    hourly = round(price["hourlyPrice"] * replicas, 2)
    return {"instanceType": price["instanceType"], "hourlyPrice": hourly, "monthlyPrice": round(hourly * 730, 2),
            "currency": price.get("currency") or "USD", "region": price.get("region")}


@router.post("/estimate", response_model=responses.CostEstimateResponse)
async def estimate(body: EstimateRequest) -> dict:
    return {"success": True, "breakdown": costs.estimate_cost(body.gpuType, body.gpuCount, body.replicas)}


@router.get("/node-pools", response_model=responses.NodePoolCosts)
async def node_pools(gpuCount: str | None = Query(None), replicas: str | None = Query(None),  # noqa: N803
                     realtime: str | None = Query(None), computeType: str | None = Query(None),  # noqa: N803
                     client: Client = Depends(acting)) -> dict:
    gpu_count, copies = _int(gpuCount, 1), _int(replicas, 1)
    live = realtime != "false"
    entries = []
    if computeType == "cpu":
        for pool in (p for p in await gpus.all_node_pools(client) if p["gpuCount"] == 0):
            found = await _price(pool) if pool.get("instanceType") else None
            if not found:
                continue
            price, cached = found
            live_price = _realtime(price, copies) | {"source": "cached" if cached else "realtime"}
            entries.append({"poolName": pool["name"], "gpuModel": "CPU", "availableGpus": 0, "costBreakdown": {
                "estimate": {"hourly": live_price["hourlyPrice"], "monthly": live_price["monthlyPrice"],
                             "currency": "USD", "source": "cloud-api", "confidence": "high"},
                "perGpu": {"hourly": 0, "monthly": 0}, "totalGpus": 0, "gpuModel": "CPU", "normalizedGpuModel": "CPU",
                "notes": ["Real-time pricing from AZURE"]}, "realtimePricing": live_price})
    else:
        capacity = await gpus.gpu_capacity_or_none(client)
        for pool in capacity.detailed()["nodePools"]:
            if not pool.get("gpuModel"):
                continue
            entry = {"poolName": pool["name"], "gpuModel": pool["gpuModel"], "availableGpus": pool["availableGpus"],
                     "costBreakdown": costs.estimate_cost(pool["gpuModel"], gpu_count, copies)}
            if live and pool.get("instanceType") and (found := await _price(pool)):
                price, cached = found
                entry["realtimePricing"] = _realtime(price, copies) | {"source": "cached" if cached else "realtime"}
            entries.append(entry)
    return {"success": True, "nodePoolCosts": entries,
            "pricingSource": "realtime-with-fallback" if live else "static", "cacheStats": pricing.cache.stats()}


async def _price(pool: dict) -> tuple[dict, bool] | None:
    provider = pricing.detect_provider(pool["instanceType"])
    if provider is None:
        return None
    result = await pricing.instance_price(pool["instanceType"], provider, pool.get("region"))
    return (result["price"], result["cached"]) if result["success"] else None


@router.get("/instance-price", response_model=responses.InstancePriceResponse)
async def instance_price(instanceType: str | None = Query(None), region: str | None = Query(None)):  # noqa: N803
    if not instanceType:
        return JSONResponse({"success": False, "error": "instanceType is required"}, status_code=400)
    provider = pricing.detect_provider(instanceType)
    if provider is None:
        return JSONResponse({"success": False, "error": f"Could not detect cloud provider for instance type: "
                                                        f"{instanceType}"}, status_code=400)
    result = await pricing.instance_price(instanceType, provider, region or None)
    if not result["success"]:
        return JSONResponse({"success": False, "error": result["error"], "provider": provider}, status_code=404)
    return {"success": True, "price": result["price"], "cached": result["cached"]}


@router.get("/gpu-models", response_model=responses.GpuModels)
async def gpu_models() -> dict:
    return {"success": True, "models": costs.gpu_models(),
            "note": "For actual pricing, use /costs/node-pools or /costs/instance-price for real-time cloud provider "
                    "pricing"}


@router.get("/normalize-gpu", response_model=responses.NormalizedGpu)
async def normalize_gpu(label: str | None = Query(None)):
    if not label:
        return JSONResponse({"success": False, "error": "GPU label is required"}, status_code=400)
    spec = costs.known_gpu_spec(label)
    return {"success": True, "originalLabel": label, "normalizedModel": costs.gpu_model(label),
            "gpuInfo": {"memoryGb": spec.memory_gb, "generation": spec.generation} if spec else None}
