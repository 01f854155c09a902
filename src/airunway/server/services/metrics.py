"""Metrics of a deployment: its inference server's Prometheus text, scraped and parsed.

The target is the deployment's frontend service (``<name>-frontend`` for Dynamo when no endpoint is reported,
else the deployment's name) on its port (8000 by default), path ``/metrics``. Inside a cluster it is reached
by service DNS; outside, through the API server's service proxy. ``metrics_url`` (setting or
``AIRUNWAY_METRICS_URL``) replaces both with any URL, where ``{service}``, ``{namespace}``, ``{port}`` and
``{name}`` are filled in.

Answers are cached per target (15 s when the scrape worked, 5 s when it failed) and simultaneous requests for the
same target share one scrape. vLLM (``vllm:…``) and llama.cpp (``llamacpp:…``) exports parse the same way.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import httpx

from airunway.kube.client import Client
from airunway.kube.errors import ApiError
from airunway.server.services.conversions import now_iso

SUCCESS_TTL = 15.0
FAILURE_TTL = 5.0
SCRAPE_TIMEOUT = 5.0
DEFAULT_PORT = 8000
METRICS_PATH = "/metrics"

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(-?[\d.eE+-]+(?:NaN|Inf)?)\s*(\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"')


def parse_prometheus(text: str) -> list[dict]:
    """Samples of a Prometheus text exposition as ``{name, value, labels}``; comments, blank lines and values
    that are not finite numbers are left out."""
    samples = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        value = _number(match.group(3))
        if value is None:
            continue
        labels = dict(_LABEL.findall(match.group(2) or ""))
        samples.append({"name": match.group(1), "value": value, "labels": labels})
    return samples


def _number(text: str) -> float | int | None:
    """The leading number of ``text`` (as JavaScript's parseFloat reads it), None when there is none or it is
    not finite."""
    match = re.match(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text)
    if not match:
        return None
    value = float(match.group(0))
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def find_metric(samples: list[dict], name: str) -> dict | None:
    return next((s for s in samples if s["name"] == name), None)


def histogram_average(samples: list[dict], name: str) -> float | None:
    """``<name>_sum / <name>_count`` of a histogram, None without observations."""
    total, count = find_metric(samples, f"{name}_sum"), find_metric(samples, f"{name}_count")
    if not total or not count or count["value"] <= 0:
        return None
    return total["value"] / count["value"]


def friendly_error(message: str, status: int | None = None) -> str:
    """A scrape failure in words a user can act on."""
    text = message or ""
    lower = text.lower()
    if "enotfound" in lower or "getaddrinfo" in lower or "name or service not known" in lower \
            or "name resolution" in lower:
        return "Cannot resolve service DNS. The deployment service may not exist yet."
    if "no cluster" in lower:
        return "Cannot connect to the Kubernetes cluster. Check your kubeconfig."
    if "econnrefused" in lower or "connection refused" in lower or "connect call failed" in lower \
            or "all connection attempts failed" in lower:
        return "Connection refused. The deployment may not be ready yet."
    if "abort" in lower or "timed out" in lower or "timeout" in lower:
        return "Request timed out. The deployment may be under heavy load or not responding."
    if status == 404 or "404" in text:
        return "Metrics endpoint not found. The deployment may not expose metrics."
    if status == 503 or "503" in text:
        return "Service unavailable. The deployment is starting up."
    if "fetch failed" in lower or "connecterror" in lower:
        return "Cannot connect to metrics endpoint. Verify the deployment is running."
    return text


@dataclass(frozen=True)
class Target:
    namespace: str
    name: str
    provider: str | None
    service: str
    port: int

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}/{self.provider or 'default'}/{self.service}/{self.port}{METRICS_PATH}"


def target_for(namespace: str, name: str, provider: str | None, service: str | None, port: int | None) -> Target:
    if not service:
        service = f"{name}-frontend" if provider == "dynamo" else name
    return Target(namespace, name, provider, service, port if port and port > 0 else DEFAULT_PORT)


class ScrapeFailed(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class _Entry:
    answer: dict
    expires: float


@dataclass
class MetricsService:
    """Scrapes with a per-target cache. ``client``: the dashboard's own Kubernetes client (service proxy)."""

    client: Client | None
    url_template: str | None = None
    in_cluster: bool = False
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, _Entry] = field(default_factory=dict)
    _inflight: dict[str, asyncio.Future] = field(default_factory=dict)

    async def deployment_metrics(self, target: Target, caller: Client | None = None) -> dict:
        """The target's metrics; through the service proxy, scraped as ``caller`` (a caller's client, when
        authentication is on; cached per caller then)."""
        key = f"{getattr(caller, 'key', '')}/{target.key}" if caller is not None else target.key
        entry = self._cache.get(key)
        if entry and entry.expires > self.clock():
            return entry.answer
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            answer, ttl = await self._scrape(target, caller)
            self._cache[key] = _Entry(answer, self.clock() + ttl)
            future.set_result(answer)
            return answer
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waits
            raise
        finally:
            self._inflight.pop(key, None)

    async def _scrape(self, target: Target, caller: Client | None = None) -> tuple[dict, float]:
        try:
            text = await self._fetch(target, caller)
        except ScrapeFailed as exc:
            return ({"available": False, "error": friendly_error(str(exc), exc.status), "timestamp": now_iso(),
                     "metrics": []}, FAILURE_TTL)
        return {"available": True, "timestamp": now_iso(), "metrics": parse_prometheus(text)}, SUCCESS_TTL

    def url(self, target: Target) -> str | None:
        """The URL scraped directly (None: through the API server's service proxy)."""
        if self.url_template:
            return self.url_template.format(service=target.service, namespace=target.namespace,
                                            port=target.port, name=target.name)
        if self.in_cluster:
            return f"http://{target.service}.{target.namespace}.svc.cluster.local:{target.port}{METRICS_PATH}"
        return None

    async def _fetch(self, target: Target, caller: Client | None = None) -> str:
        url = self.url(target)
        if url is not None:
            return await _http_get(url)
        client = caller or self.client
        if client is None:
            raise ScrapeFailed("no cluster configured")
        path = f"/api/v1/namespaces/{target.namespace}/services/{target.service}:{target.port}/proxy{METRICS_PATH}"
        return await _guard(client.request_text(path, timeout=SCRAPE_TIMEOUT))


async def _http_get(url: str) -> str:
    try:
        async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT) as http:
            resp = await http.get(url, headers={"Accept": "text/plain"})
    except httpx.TimeoutException as exc:
        raise ScrapeFailed(f"The operation was aborted ({exc})") from exc
    except httpx.ConnectError as exc:
        raise ScrapeFailed(f"fetch failed: {exc}") from exc
    except httpx.HTTPError as exc:
        raise ScrapeFailed(f"fetch failed: {exc}") from exc
    if resp.status_code >= 400:
        raise ScrapeFailed(f"HTTP {resp.status_code}: {resp.reason_phrase}", resp.status_code)
    return resp.text


async def _guard(call: Awaitable[str]) -> str:
    try:
        return await call
    except ApiError as exc:
        raise ScrapeFailed(f"HTTP {exc.status}: {exc.message}", exc.status) from exc
    except asyncio.TimeoutError as exc:
        raise ScrapeFailed("The operation was aborted (timeout)") from exc
    except OSError as exc:
        raise ScrapeFailed(f"fetch failed: {exc}") from exc
