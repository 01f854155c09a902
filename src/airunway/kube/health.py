"""The probe and metrics HTTP server: ``/healthz``, ``/readyz`` and Prometheus ``/metrics``.

Checks are named functions returning None/True (healthy), or False/a message (unhealthy), sync or async; a check
that raises is unhealthy. Answers follow the Kubernetes convention: ``ok`` with 200, or 500 listing each check
(``[+]name ok`` / ``[-]name failed: why``); ``?verbose`` lists them on success too, ``/readyz/<name>`` runs one.

``/metrics`` can be served over TLS and restricted to callers whose bearer token passes a TokenReview and who may
``get`` the ``/metrics`` URL per a SubjectAccessReview, like controller-runtime's secure metrics endpoint.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
import ssl
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from airunway.kube.client import Client
from airunway.kube.resources import SUBJECTACCESSREVIEWS, TOKENREVIEWS

log = logging.getLogger("airunway.kube.health")

Check = Callable[[], Any]


def parse_address(address: str | None) -> tuple[str | None, int] | None:
    """``":8081"`` → all interfaces, ``"127.0.0.1:0"`` → loopback on a free port; ``"0"``/empty/None → disabled."""
    if not address or address == "0":
        return None
    host, sep, port = address.rpartition(":")
    if not sep:
        raise ValueError(f"bind address {address!r} must look like ':8081' or '127.0.0.1:8081' (or '0' to disable)")
    return (host.strip("[]") or None), int(port)


async def _run_check(check: Check) -> str | None:
    """None if healthy, else why not."""
    try:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
    except Exception as exc:  # noqa: BLE001 - a failing check is an unhealthy answer, not a server error
        return str(exc) or type(exc).__name__
    if outcome is None or outcome is True:
        return None
    return "check failed" if outcome is False else str(outcome)


class TokenReviewAuth:
    """Authenticate a bearer token (TokenReview) and authorize ``get`` on a URL path (SubjectAccessReview).

    Answers are cached briefly (per token) so a scrape every few seconds costs no API calls.
    """

    def __init__(self, client: Client, *, ttl: float = 10.0):
        self.client = client
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, int]] = {}

    async def __call__(self, request: web.Request) -> int:
        """The HTTP status to answer with: 200 (allowed), 401 or 403."""
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            return 401
        token = header[7:].strip()
        cache_key = (token, request.path)
        now = time.monotonic()
        cached = self._cache.get(cache_key)
        if cached and cached[0] > now:
            return cached[1]
        status = await self._review(token, request.path)
        if len(self._cache) > 1000:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[cache_key] = (now + self.ttl, status)
        return status

    async def _review(self, token: str, path: str) -> int:
        review = await self.client.create(
            TOKENREVIEWS, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        )
        status = review.get("status") or {}
        if not status.get("authenticated"):
            return 401
        user = status.get("user") or {}
        sar = await self.client.create(
            SUBJECTACCESSREVIEWS,
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": {
                    "user": user.get("username", ""),
                    "uid": user.get("uid", ""),
                    "groups": user.get("groups") or [],
                    "extra": user.get("extra") or {},
                    "nonResourceAttributes": {"path": path, "verb": "get"},
                },
            },
        )
        return 200 if (sar.get("status") or {}).get("allowed") else 403


def self_signed_tls(directory: Path, hosts: list[str] | None = None) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed ECDSA P-256 certificate (written to ``directory``)."""
    from airunway.kube.certs import new_serving, write_pair  # cryptography is loaded only when a certificate is made

    pair = new_serving(hosts or ["localhost", "127.0.0.1"], validity=datetime.timedelta(days=365))
    write_pair(directory, pair)
    return server_tls(directory / "tls.crt", directory / "tls.key")


def server_tls(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class ProbeServer:
    """One HTTP listener serving any of: health checks, readiness checks, metrics."""

    def __init__(
        self,
        address: str,
        *,
        healthz: dict[str, Check] | None = None,
        readyz: dict[str, Check] | None = None,
        registry: CollectorRegistry | None = None,
        ssl_context: ssl.SSLContext | None = None,
        authorize: Callable[[web.Request], Awaitable[int]] | None = None,
    ):
        parsed = parse_address(address)
        if parsed is None:
            raise ValueError(f"bind address {address!r} disables this server")
        self.host, self.port = parsed
        self.healthz = healthz
        self.readyz = readyz
        self.registry = registry
        self.ssl_context = ssl_context
        self.authorize = authorize
        self._runner: web.AppRunner | None = None

    def _app(self) -> web.Application:
        app = web.Application()
        for path, checks in (("/healthz", self.healthz), ("/readyz", self.readyz)):
            if checks is not None:
                app.router.add_get(path, self._checks_handler(checks))
                app.router.add_get(path + "/{name}", self._checks_handler(checks))
        if self.registry is not None:
            app.router.add_get("/metrics", self._metrics)
        return app

    def _checks_handler(self, checks: dict[str, Check]):
        async def handle(request: web.Request) -> web.Response:
            name = request.match_info.get("name")
            if name is not None and name not in checks:
                return web.Response(status=404, text=f"no check named {name}\n")
            selected = {name: checks[name]} if name else dict(checks)
            results = dict(zip(selected, await asyncio.gather(*(_run_check(c) for c in selected.values()))))
            failed = any(r is not None for r in results.values())
            if not failed and "verbose" not in request.query:
                return web.Response(text="ok")
            lines = [f"[+]{n} ok" if r is None else f"[-]{n} failed: {r}" for n, r in results.items()]
            lines.append(f"{request.path.strip('/').split('/')[0]} check {'failed' if failed else 'passed'}")
            return web.Response(status=500 if failed else 200, text="\n".join(lines) + "\n")

        return handle

    async def _metrics(self, request: web.Request) -> web.Response:
        if self.authorize is not None:
            try:
                status = await self.authorize(request)
            except Exception as exc:  # noqa: BLE001 - the API server may be unreachable
                log.warning("metrics authorization failed", extra={"error": str(exc)})
                status = 500
            if status != 200:
                text = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Authorization failed")
                return web.Response(status=status, text=text + "\n")
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context, reuse_address=True)
        await site.start()
        if self._runner.addresses:  # the bound port, when 0 was asked for
            self.port = self._runner.addresses[0][1]
        log.info("serving", extra={"address": f"{self.host or ''}:{self.port}", "tls": self.ssl_context is not None})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
