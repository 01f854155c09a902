"""Cloud instance prices: which cloud an instance type belongs to, and its on-demand hourly price.

Azure prices come from the Azure Retail Prices API (``$AZURE_PRICING_URL``, else https://prices.azure.com), which
needs no credentials. AWS and GCP are not priced yet. Prices are cached for an hour per
instance type and region (at most 1,000 entries, the oldest dropped first); failures are not kept.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import OrderedDict
from typing import Any

import httpx

DEFAULT_AZURE = "https://prices.azure.com"
TTL = 3600.0
MAX_ENTRIES = 1000
ATTEMPTS = 3
TIMEOUT = httpx.Timeout(10.0)

GCP_FAMILIES = re.compile(r"^(n1|n2|n2d|c2|c2d|c3|c3d|e2|m1|m2|m3|a2|a3|g2|custom)-", re.I)
AWS_SHAPE = re.compile(r"^[a-z][0-9]+[a-z.]", re.I)
AZURE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
AZURE_REGION = re.compile(r"^[a-z][a-z0-9]*$")

# GPUs of Azure's GPU sizes: (count, model); a fraction is a share of one GPU.
AZURE_GPUS = {
    "Standard_NV6ads_A10_v5": (0.167, "A10"), "Standard_NV12ads_A10_v5": (0.333, "A10"),
    "Standard_NV18ads_A10_v5": (0.5, "A10"), "Standard_NV36ads_A10_v5": (1, "A10"),
    "Standard_NV72ads_A10_v5": (2, "A10"),
    "Standard_NC24ads_A100_v4": (1, "A100-80GB"), "Standard_NC48ads_A100_v4": (2, "A100-80GB"),
    "Standard_NC96ads_A100_v4": (4, "A100-80GB"),
    "Standard_NC40ads_H100_v5": (1, "H100"), "Standard_NC80adis_H100_v5": (2, "H100"),
    "Standard_ND96asr_A100_v4": (8, "A100-40GB"), "Standard_ND96amsr_A100_v4": (8, "A100-80GB"),
    "Standard_ND96isr_H100_v5": (8, "H100"),
    "Standard_NC4as_T4_v3": (1, "T4"), "Standard_NC8as_T4_v3": (1, "T4"), "Standard_NC16as_T4_v3": (1, "T4"),
    "Standard_NC64as_T4_v3": (4, "T4"),
    "Standard_NC6s_v3": (1, "V100"), "Standard_NC12s_v3": (2, "V100"), "Standard_NC24s_v3": (4, "V100"),
    "Standard_NC24rs_v3": (4, "V100"),
}


def detect_provider(instance_type: str) -> str | None:
    if instance_type.startswith(("Standard_", "Basic_")):
        return "azure"
    if GCP_FAMILIES.match(instance_type):
        return "gcp"
    if AWS_SHAPE.match(instance_type) and "." in instance_type:
        return "aws"
    if "-" in instance_type:
        return "gcp"
    return None


def azure_url() -> str:
    return (os.environ.get("AZURE_PRICING_URL") or DEFAULT_AZURE).rstrip("/")


class PriceCache:
    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    def purge(self) -> None:
        now = time.monotonic()
        for key in [k for k, (at, _) in self.entries.items() if now - at > TTL]:
            del self.entries[key]

    def get(self, key: str) -> dict | None:
        self.purge()
        found = self.entries.get(key)
        return found[1] if found else None

    def put(self, key: str, value: dict) -> None:
        self.entries[key] = (time.monotonic(), value)
        while len(self.entries) > MAX_ENTRIES:
            self.entries.popitem(last=False)

    def stats(self) -> dict[str, int]:
        return {"size": len(self.entries), "ttlMs": int(TTL * 1000), "maxEntries": MAX_ENTRIES}


cache = PriceCache()


def _chosen(items: list[dict]) -> dict | None:
    hourly = [i for i in items if i.get("unitOfMeasure") == "1 Hour" and isinstance(i.get("retailPrice"), (int, float))
              and not isinstance(i.get("retailPrice"), bool)]
    for item in hourly:
        product, meter = str(item.get("productName") or ""), str(item.get("meterName") or "")
        if "Virtual Machines" in product and "Windows" not in product and "Low Priority" not in meter \
                and "Spot" not in meter:
            return item
    return hourly[0] if hourly else None


async def _azure(instance_type: str, region: str | None) -> dict[str, Any]:
    if not AZURE_TYPE.match(instance_type) or len(instance_type) > 100:
        return {"success": False, "error": f"Invalid Azure instance type: {instance_type}"}
    if region is not None and (not AZURE_REGION.match(region) or len(region) > 50):
        return {"success": False, "error": f"Invalid Azure region: {region}"}
    query = (f"armSkuName eq '{instance_type}' and priceType eq 'Consumption' and "
             "contains(meterName, 'Spot') eq false")
    if region:
        query += f" and armRegionName eq '{region}'"
    delay = 0.5
    error = "Azure pricing API did not answer"
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        for attempt in range(ATTEMPTS):
            try:
                answer = await http.get(f"{azure_url()}/api/retail/prices", params={"$filter": query})
                if answer.status_code == 200:
                    break
                error = f"Azure pricing API answered {answer.status_code} {answer.reason_phrase}"
            except httpx.HTTPError as exc:
                error = f"Azure pricing API is unreachable ({type(exc).__name__})"
            if attempt < ATTEMPTS - 1:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)
        else:
            return {"success": False, "error": error}
    try:
        items = answer.json().get("Items") or []
    except (ValueError, AttributeError):
        return {"success": False, "error": "Azure pricing API answered something that is not JSON"}
    item = _chosen([i for i in items if isinstance(i, dict)])
    if item is None:
        return {"success": False, "error": "Price not found"}
    price = {"instanceType": instance_type, "provider": "azure", "region": item.get("armRegionName"),
             "hourlyPrice": item.get("retailPrice"), "currency": item.get("currencyCode"), "priceType": "ondemand",
             "lastUpdated": item.get("effectiveStartDate")}
    if instance_type in AZURE_GPUS:
        price["gpuCount"], price["gpuModel"] = AZURE_GPUS[instance_type]
    return {"success": True, "price": {k: v for k, v in price.items() if v is not None}}


async def instance_price(instance_type: str, provider: str, region: str | None = None) -> dict[str, Any]:
    """``{success, price?, error?, cached}`` for one instance type."""
    region = region.lower() if region else None
    key = f"{provider}:{instance_type}:{region or 'default'}"
    if (found := cache.get(key)) is not None:
        return found | {"cached": True}
    if provider == "azure":
        result = await _azure(instance_type, region)
    elif provider in ("aws", "gcp"):
        result = {"success": False, "error": f"{provider.upper()} pricing API not yet implemented"}
    else:
        result = {"success": False, "error": f"Unknown cloud provider: {provider}"}
    if result["success"]:  # a failure is asked again next time
        cache.put(key, result)
    return result | {"cached": False}
