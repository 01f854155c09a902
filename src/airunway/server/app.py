"""The dashboard: a FastAPI app serving the REST API under ``/api`` (and the web UI when it is built).

Routes are thin (``airunway.server.routes``): they read the request, call a service (``airunway.server.services``)
and shape the answer. One Kubernetes client is opened for the app's lifetime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from airunway import __version__
from airunway.kube.client import Client
from airunway.server import errors
from airunway.server.routes import ROUTERS


@dataclass
class Settings:
    kubeconfig: str | None = None


def create_app(settings: Settings | None = None, *, client: Client | None = None) -> FastAPI:
    """The app; ``client`` (tests) replaces the one connected from ``settings.kubeconfig``."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = client is None
        app.state.client = client or await Client.connect(settings.kubeconfig, field_manager="airunway-dashboard")
        try:
            yield
        finally:
            if own:
                await app.state.client.close()

    app = FastAPI(title="AI Runway", version=__version__, openapi_url="/api/openapi.json", docs_url="/api/docs",
                  redoc_url=None, lifespan=lifespan)
    if client is not None:
        app.state.client = client  # also usable without running the lifespan (in-process test transports)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
