"""The dashboard: a FastAPI app serving the REST API under ``/api`` (and the web UI when it is built).

Routes are thin (``airunway.server.routes``): they read the request, call a service (``airunway.server.services``)
and shape the answer. One Kubernetes client is opened for the app's lifetime, and the watch cache behind the
deployment list runs as long as the app does.

Every request goes through, outermost first: gzip compression, the trailing-slash redirect (a GET or HEAD that
would be a 404 with a trailing slash is sent to the path without it, 301), CORS (loopback origins unless
``CORS_ORIGIN`` says otherwise; ``X-Airunway-Auth-Error`` is exposed), the cross-site write check, the 1 MiB
ceiling on request bodies (413 before the body is read) and authentication (``/api`` only, when on).

The cross-site write check (CORS does not stop a page on another origin from sending a form): a POST, PUT, PATCH
or DELETE whose ``Origin`` is neither an allowed origin (as CORS allows them) nor the dashboard's own is refused
with 403, and one to an operation that takes a body whose ``Content-Type`` is not ``application/json`` with 415.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import RedirectResponse, Response

from airunway import __version__
from airunway.kube.client import Client, ConfigError
from airunway.server import auth, errors
from airunway.server.bodylimit import BodyLimit
from airunway.server.routes import ROUTERS
from airunway.server.runtime import Settings, runtime_of

__all__ = ["Settings", "create_app"]

log = logging.getLogger("airunway.server")

LOOPBACK_ORIGIN = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
COMPRESS_FROM = 1024  # bytes
COMPRESS_LEVEL = 1  # JSON shrinks almost as much as at level 9, several times faster


STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_TYPE = "application/json"


def allowed_origins(setting: str | None) -> list[str]:
    """The origins ``CORS_ORIGIN`` lists: ``["*"]`` for any, an empty list for loopback origins only."""
    if setting is not None and setting.strip() == "*":
        return ["*"]
    return [o.strip() for o in (setting or "").split(",") if o.strip()]


def origin_allowed(origin: str, setting: str | None, host: str | None) -> bool:
    """Whether a state-changing request from a page on ``origin`` is accepted: an origin CORS allows, or the
    dashboard's own (the ``Host`` the request was sent to)."""
    origins = allowed_origins(setting)
    if origins == ["*"] or origin in origins:
        return True
    if not origins and re.fullmatch(LOOPBACK_ORIGIN, origin):
        return True
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def _body_operations(app: FastAPI) -> list[tuple[str, re.Pattern]]:
    """(method, path pattern) of every operation that takes a request body, from the app's OpenAPI schema."""
    found = getattr(app.state, "body_operations", None)
    if found is None:
        found = [(method.upper(), re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"))
                 for path, item in app.openapi().get("paths", {}).items()
                 for method, operation in item.items() if "requestBody" in operation]
        app.state.body_operations = found
    return found


def _takes_body(app: FastAPI, method: str, path: str) -> bool:
    return any(m == method and pattern.match(path) for m, pattern in _body_operations(app))


class _Guard:
    """A pure ASGI middleware that may answer a request itself: ``check(request)`` gives the answer that stops it,
    or None to pass it on (unlike ``@app.middleware``, no task group per request)."""

    def __init__(self, app, check: Callable[[Request], Awaitable[Response | None]]) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            refused = await self.check(Request(scope, receive))
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


class TrailingSlash:
    """A GET or HEAD answered 404 whose path ends with ``/`` is redirected (301) to the path without it, the query
    kept, whatever gave the 404 (no route, or a route that found nothing for an empty path part, such as
    ``/api/models/``). Leading slashes collapse to one, so the target is never another host (``//host``)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope.get("method") not in ("GET", "HEAD") or not path.endswith("/") or path == "/":
            await self.app(scope, receive, send)
            return
        redirected = False

        async def send_or_redirect(message) -> None:
            nonlocal redirected
            if message["type"] == "http.response.start" and message["status"] == 404:
                redirected = True
                raw = (scope.get("raw_path") or path.encode()).decode("latin-1").split("?", 1)[0]
                query = scope.get("query_string", b"").decode("latin-1")
                target = "/" + raw.strip("/") + (f"?{query}" if query else "")
                await RedirectResponse(target, status_code=301)(scope, receive, send)
            elif not redirected:
                await send(message)

        await self.app(scope, receive, send_or_redirect)


def _cross_site_writes(app: FastAPI, setting: str | None) -> None:
    async def refuse_cross_site_writes(request: Request) -> Response | None:
        if request.method in STATE_CHANGING:
            origin = request.headers.get("origin")
            if origin is not None and not origin_allowed(origin, setting, request.headers.get("host")):
                return errors.envelope(403, f"Origin {origin} may not change anything here: send the request from "
                                            "the dashboard's own page or an origin listed in CORS_ORIGIN")
            media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if media != JSON_TYPE and _takes_body(request.app, request.method, request.url.path):
                return errors.envelope(415, f"Content-Type must be {JSON_TYPE} (got {media or 'none'})")
        return None

    app.add_middleware(_Guard, check=refuse_cross_site_writes)


def _cors(app: FastAPI, setting: str | None) -> None:
    common = {"allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": [auth.AUTH_ERROR_HEADER]}
    origins = allowed_origins(setting)
    if origins == ["*"]:
        app.add_middleware(CORSMiddleware, allow_origins=["*"], **common)
        return
    if setting is not None and setting.strip() and not origins:
        log.warning("CORS_ORIGIN lists no origin; allowing loopback origins only", extra={"CORS_ORIGIN": setting})
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, **common)
    else:
        app.add_middleware(CORSMiddleware, allow_origin_regex=LOOPBACK_ORIGIN, **common)


def _authentication(app: FastAPI) -> None:
    async def authenticate(request: Request) -> Response | None:
        path = request.url.path
        if request.method != "OPTIONS" and path.startswith("/api/") and not auth.is_public(path):
            runtime = await runtime_of(request.app)
            if runtime.settings.auth_on():
                if runtime.client is None:
                    return auth.unauthorized("Authentication is not possible without a cluster")
                return await auth.authenticate(request, runtime.client, runtime.reviews)
        return None

    app.add_middleware(_Guard, check=authenticate)


def create_app(settings: Settings | None = None, *, client: Client | None = None) -> FastAPI:
    """The app; ``client`` (tests) replaces the one connected from ``settings.kubeconfig``."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = client is None
        if own:
            try:
                app.state.client = await Client.connect(settings.kubeconfig, field_manager="airunway-dashboard")
            except ConfigError as exc:
                log.warning("no cluster: the dashboard runs, every cluster call fails", extra={"error": str(exc)})
                app.state.client = None
        runtime = await runtime_of(app)
        runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            app.state.runtime = None
            if own and app.state.client is not None:
                await app.state.client.close()

    app = FastAPI(title="AI Runway", version=__version__, openapi_url="/api/openapi.json", docs_url="/api/docs",
                  redoc_url=None, lifespan=lifespan)
    app.router.redirect_slashes = False  # the 404 handler redirects GET and HEAD only, with 301
    app.state.settings = settings
    app.state.runtime = None
    if client is not None:
        app.state.client = client  # also usable without running the lifespan (in-process test transports)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    errors.document(app)
    _authentication(app)
    app.add_middleware(BodyLimit)
    _cross_site_writes(app, settings.cors())
    _cors(app, settings.cors())
    app.add_middleware(TrailingSlash)
    app.add_middleware(GZipMiddleware, minimum_size=COMPRESS_FROM, compresslevel=COMPRESS_LEVEL)
    return app
