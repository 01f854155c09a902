"""The API's routers, included by :func:`airunway.server.app.create_app` in this order. A new area of the API
adds its module here and its router(s) to ``ROUTERS``."""

from airunway.server.routes import (
    aiconfigurator,
    aikit,
    autoscaler,
    costs,
    deployments,
    gateway,
    health,
    installation,
    models,
    oauth,
    secrets,
    settings,
    vllm_recipes,
)

ROUTERS = [
    health.health,
    models.router,
    settings.settings_router,
    settings.providers_router,
    deployments.router,
    gateway.router,
    gateway.installation,
    installation.router,
    installation.runtimes,
    secrets.router,
    costs.router,
    autoscaler.router,
    oauth.router,
    aiconfigurator.router,
    aikit.router,
    vllm_recipes.router,
]
