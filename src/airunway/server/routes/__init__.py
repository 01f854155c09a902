"""The API's routers, included by :func:`airunway.server.app.create_app` in this order."""

from airunway.server.routes import gateway, health

ROUTERS = [health.router, gateway.router, gateway.installation]
