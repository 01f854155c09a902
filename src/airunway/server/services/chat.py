"""Chat with a running model from the browser: the dashboard forwards an OpenAI chat completion request to the
deployment's frontend service and streams the server-sent events back.

The model server is reached like the metrics (:mod:`.metrics`): by service DNS inside a cluster, through the API
server's service proxy with the caller's own credentials outside one, or at ``$AIRUNWAY_MODEL_URL`` (``{service}``,
``{namespace}``, ``{port}``, ``{name}`` filled in) when set. Errors from the model server come back as the error
envelope with a readable message, never its raw body.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from fastapi.responses import StreamingResponse

from airunway.kube.client import Client
from airunway.server import problems
from airunway.server.services.conversions import parse_frontend_service

DEFAULT_PORT = 8000
KEPT_STATUSES = {400, 401, 403, 404, 408, 409, 410, 413, 415, 422, 429, 500, 501, 502, 503, 504}
STREAM_HEADERS = {"Cache-Control": "no-cache, no-transform", "Connection": "keep-alive", "X-Accel-Buffering": "no",
                  "Content-Encoding": "identity"}
ERROR_BYTES = 1001
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Upstream:
    """Where the model server answers: a base URL (``http://…``), or a path on the API server."""

    base_url: str | None
    proxy_path: str | None
    client: Client | None


def upstream(deployment: dict, *, template: str | None, in_cluster: bool, client: Client | None) -> Upstream:
    parsed = parse_frontend_service(deployment.get("frontendService"))
    service, port = (parsed[0], parsed[1] or DEFAULT_PORT) if parsed else (deployment["name"], DEFAULT_PORT)
    namespace = deployment["namespace"]
    if template:
        base = template.format(service=service, namespace=namespace, port=port, name=deployment["name"])
        return Upstream(base.rstrip("/"), None, None)
    if in_cluster:
        return Upstream(f"http://{service}.{namespace}.svc:{port}", None, None)
    return Upstream(None, f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy", client)


def _message(status: int, payload: bytes, name: str) -> str:
    text = payload[:ERROR_BYTES - 1].decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        if body.get("kind") == "Status" and body.get("reason") == "NotFound" and \
                (body.get("details") or {}).get("kind") == "services":
            return (f"The model endpoint for '{name}' is not available yet. The deployment may still be starting, or "
                    "its endpoint may have changed. Try again in a moment or check the logs.")
        error = body.get("error")
        found = (error.get("message") if isinstance(error, dict) else error) or body.get("message") or body.get("detail")
        if isinstance(found, str) and found.strip():
            return found.strip()[:500] + ("…" if len(found.strip()) > 500 else "")
    if text and not text.startswith("<"):
        clean = CONTROL.sub("", text)
        return clean[:500] + ("…" if len(clean) > 500 else "")
    return f"The model did not accept the chat request (HTTP {status}). Try again in a moment."


def _failed(status: int, payload: bytes, name: str) -> problems.Problem:
    return problems.with_status(status if status in KEPT_STATUSES else 502, _message(status, payload, name))


async def _models(up: Upstream) -> str | None:
    """The first model the server lists (its served name), asked with a short timeout."""
    try:
        if up.base_url:
            async with httpx.AsyncClient(timeout=1.0) as http:
                answer = await http.get(f"{up.base_url}/v1/models", headers={"Accept": "application/json"})
                body = answer.json() if answer.status_code == 200 else None
        else:
            assert up.client is not None
            resp = await up.client.open("GET", f"{up.proxy_path}/v1/models", read_timeout=1.0)
            try:
                body = json.loads(await resp.read()) if resp.status == 200 else None
            finally:
                resp.release()
    except (httpx.HTTPError, aiohttp.ClientError, ValueError, TimeoutError, OSError):
        return None
    data = (body or {}).get("data") if isinstance(body, dict) else None
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    return first.get("id") if isinstance(first.get("id"), str) else None


async def open_chat(deployment: dict, request: dict[str, Any], up: Upstream) -> StreamingResponse:
    name = deployment["name"]
    if deployment.get("phase") != "Running":
        raise problems.ConflictError(f"Deployment '{name}' is not running (current phase: {deployment.get('phase')})")
    if not deployment.get("frontendService"):
        raise problems.ConflictError(f"Deployment '{name}' does not expose a frontend service for chat")
    model = request.get("model") if isinstance(request.get("model"), str) else None
    served = deployment.get("servedModelName")
    if not model and served and not (deployment.get("provider") == "kaito" and deployment.get("engine") == "llamacpp"):
        model = served
    model = model or await _models(up) or deployment["modelId"]
    body = {**request, "model": model, "stream": True}
    if up.base_url:
        http = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=10.0))
        try:
            answer = await http.send(http.build_request(
                "POST", f"{up.base_url}/v1/chat/completions", json=body,
                headers={"Accept": "text/event-stream"}), stream=True)
        except httpx.HTTPError as exc:
            await http.aclose()
            raise problems.UpstreamFailed(f"The model server for '{name}' cannot be reached ({type(exc).__name__}). "
                                  "Try again in a moment or check the logs.") from None
        if answer.status_code >= 400:
            payload = await answer.aread()
            await answer.aclose()
            await http.aclose()
            raise _failed(answer.status_code, payload, name)

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in answer.aiter_raw():
                    yield chunk
            finally:
                await answer.aclose()
                await http.aclose()

        return StreamingResponse(relay(), media_type="text/event-stream", headers=STREAM_HEADERS)
    assert up.client is not None
    try:
        resp = await up.client.open("POST", f"{up.proxy_path}/v1/chat/completions", body=body,
                                    accept="text/event-stream")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise problems.UpstreamFailed(f"The model server for '{name}' cannot be reached ({type(exc).__name__}).") from None
    if resp.status >= 400:
        payload = await resp.content.read(ERROR_BYTES)
        resp.release()
        raise _failed(resp.status, payload, name)

    async def relay_proxy() -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.content.iter_any():
                yield chunk
        finally:
            resp.release()

    return StreamingResponse(relay_proxy(), media_type="text/event-stream", headers=STREAM_HEADERS)
