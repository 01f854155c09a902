"""Stand-ins on 127.0.0.1 for the outside services the dashboard talks to, answering in their real formats
(shapes written down from their public API documentation): the Azure Retail Prices API and the vLLM recipes site.
:func:`serve` starts one; ``close()`` stops it. The HuggingFace Hub stand-in is in ``fakes.hub``."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from airunway.sandbox.cluster import CPU_INSTANCE_TYPE, GPU_INSTANCE_TYPE


class Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.handler = handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def serve(handler: type[BaseHTTPRequestHandler]) -> Server:
    handler.asked = []
    handler.down = False
    return Server(handler)


PRICES = {GPU_INSTANCE_TYPE: 14.692, CPU_INSTANCE_TYPE: 0.768}


def _item(sku: str, region: str, price: float, product: str, meter: str) -> dict:
    return {"currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
            "armRegionName": region, "location": region, "effectiveStartDate": "2025-01-01T00:00:00Z",
            "meterId": "m", "meterName": meter, "productId": "p", "skuId": "s", "productName": product,
            "skuName": sku.removeprefix("Standard_").replace("_", " "), "serviceName": "Virtual Machines",
            "serviceId": "x", "serviceFamily": "Compute", "unitOfMeasure": "1 Hour", "type": "Consumption",
            "isPrimaryMeterRegion": True, "armSkuName": sku}


class AzurePrices(BaseHTTPRequestHandler):
    asked: list[str] = []
    down = False

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = parse_qs(url.query).get("$filter", [""])[0]
        type(self).asked.append(query)
        sku = re.search(r"armSkuName eq '([^']+)'", query)
        region = re.search(r"armRegionName eq '([^']+)'", query)
        items = []
        if url.path == "/api/retail/prices" and sku and sku.group(1) in PRICES:
            where = region.group(1) if region else "eastus"
            price = PRICES[sku.group(1)]
            items = [_item(sku.group(1), where, price * 1.8, "Virtual Machines Series Windows", "Windows meter"),
                     _item(sku.group(1), where, price * 0.2, "Virtual Machines Series", "Low Priority meter"),
                     _item(sku.group(1), where, price, "Virtual Machines Series", "Linux meter")]
        body = json.dumps({"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
                           "Items": items, "NextPageLink": None, "Count": len(items)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)



INDEX = {"models": [{"hf_id": "Qwen/Qwen3-8B", "title": "Qwen3 8B"}, {"hf_id": "deepseek-ai/DeepSeek-V3.2"},
                   {"hf_id": "Qwen/Qwen3-0.6B", "title": "Qwen3 0.6B"}, "junk"]}
RECIPES = {
    "/Qwen/Qwen3-8B.json": {
        "hf_id": "Qwen/Qwen3-8B", "precision": "bf16", "revision": "abc123",
        "recommended_command": {
            "argv": ["vllm", "serve", "Qwen/Qwen3-8B", "--tensor-parallel-size", "2", "--max-model-len", "32768",
                     "--enable-prefix-caching", "--reasoning-parser", "qwen3", "--max-model-len", "16384",
                     "--seed", "-1"],
            "env": {"VLLM_USE_V1": "1", "IGNORED": 3}, "docker_image": "vllm/vllm-openai:v0.11.0",
            "alternatives": [{"name": "throughput", "strategy": "throughput", "json": "Qwen/Qwen3-8B/throughput.json"},
                             {"name": "outside", "strategy": "evil", "url": "http://127.0.0.2:1/x.json"}]},
        "features": {"tool_calling": {"args": ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"]},
                     "reasoning": {"args": ["--reasoning-parser", "qwen3"]}},
        "hardware_overrides": {"H200": {"extra_args": ["--gpu-memory-utilization", "0.95"],
                                        "extra_env": {"NCCL_DEBUG": "WARN"}}},
    },
    "/Qwen/Qwen3-0.6B.json": {
        "hf_id": "Qwen/Qwen3-0.6B", "precision": "bf16",
        "recommended_command": {"argv": ["vllm", "serve", "Qwen/Qwen3-0.6B", "--max-model-len", "8192",
                                         "--reasoning-parser", "qwen3"],
                                "env": {"VLLM_USE_V1": "1"}, "docker_image": "vllm/vllm-openai:v0.11.0"}},
    "/Qwen/Qwen3-8B/throughput.json": {"argv": ["serve", "Qwen/Qwen3-8B", "--tensor-parallel-size", "4",
                                                "--pipeline-parallel-size", "2"], "deploy_type": "disaggregated"},
}


class RecipesSite(BaseHTTPRequestHandler):
    down = False
    asked: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        type(self).asked.append(self.path)
        if type(self).down:
            self.send_response(503)
            self.end_headers()
            return
        body = INDEX if self.path == "/models.json" else RECIPES.get(self.path)
        data = json.dumps(body).encode() if body is not None else b'{"error": "not found"}'
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)




RAY_SERVE_METRICS = """# TYPE ray_serve_replica_processing_queries gauge
ray_serve_replica_processing_queries{deployment="VLLMDeployment",replica="r1"} 2.0
ray_serve_replica_processing_queries{deployment="VLLMDeployment",replica="r2"} 1.0
# TYPE ray_serve_deployment_queued_queries gauge
ray_serve_deployment_queued_queries{deployment="VLLMDeployment"} 4.0
# TYPE ray_serve_deployment_processing_latency_ms histogram
ray_serve_deployment_processing_latency_ms_sum{deployment="VLLMDeployment"} 5000.0
ray_serve_deployment_processing_latency_ms_count{deployment="VLLMDeployment"} 20.0
# TYPE ray_serve_deployment_request_counter_total counter
ray_serve_deployment_request_counter_total{deployment="VLLMDeployment"} 20.0
# TYPE ray_serve_deployment_error_counter_total counter
ray_serve_deployment_error_counter_total{deployment="VLLMDeployment"} 3.0
"""

SGLANG_METRICS = """# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="m"} 5.0
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="m"} 7.0
# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="m"} 0.25
# TYPE sglang:time_to_first_token_seconds histogram
sglang:time_to_first_token_seconds_sum{model_name="m"} 1.5
sglang:time_to_first_token_seconds_count{model_name="m"} 10.0
"""


class ServerMetrics(BaseHTTPRequestHandler):
    """Inference servers' ``/metrics`` by deployment name (``/<name>/metrics``): names starting ``e2e-ray`` export
    Ray Serve's metrics, ``e2e-sglang`` SGLang's; any other name is forwarded to ``upstream`` (a simulator)."""

    asked: list[str] = []
    down = False
    upstream = ""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        type(self).asked.append(self.path)
        name = self.path.strip("/").split("/")[0]
        if name.startswith("e2e-ray"):
            body = RAY_SERVE_METRICS.encode()
        elif name.startswith("e2e-sglang"):
            body = SGLANG_METRICS.encode()
        else:
            with urllib.request.urlopen(self.upstream, timeout=5) as answer:
                body = answer.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
