"""How the Gateway integration names a model: spec.gateway.modelName, then the served name (unless the engine
ignores it), then what the server says at /v1/models, then the model id; and the /v1/models client itself against
a local server."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from airunway.api.modeldeployment import ModelDeployment
from airunway.api.providerconfig import GatewayCapabilities
from airunway.controller.gateway.integration import GatewayIntegration, served_model

SERVICE = {"metadata": {"name": "m"}, "spec": {"ports": [{"name": "http", "port": 8000}]}}


def deployment(**spec) -> ModelDeployment:
    return ModelDeployment.model_validate({
        "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {"model": {"id": "org/model", **spec.pop("model", {})}, **spec},
        "status": {"endpoint": {"service": "m", "port": 8000}},
    })


def name_of(md: ModelDeployment, caps=None, discovered: str = "") -> str:
    asked = []

    async def lister(service: str, namespace: str, port: int) -> str:
        asked.append((service, namespace, port))
        return discovered

    integration = GatewayIntegration(None, None, None, model_lister=lister)
    return asyncio.run(integration._model_name(md, caps, SERVICE))


def test_model_name_priority():
    assert name_of(deployment(gateway={"modelName": "alias"}, model={"servedName": "served"})) == "alias"
    assert name_of(deployment(model={"servedName": "served"}), discovered="found") == "served"
    ignores = GatewayCapabilities(ignores_served_name=True)
    assert name_of(deployment(model={"servedName": "served"}), ignores, discovered="found") == "found"
    assert name_of(deployment(), discovered="") == "org/model"


@pytest.fixture
def model_server():
    """A local server answering /v1/models in the OpenAI format (and badly, on request)."""
    behaviour = {"mode": "ok"}

    async def models(request: web.Request) -> web.StreamResponse:
        if behaviour["mode"] == "error":
            return web.json_response({"error": "nope"}, status=503)
        if behaviour["mode"] == "huge":
            return web.Response(body=b"{" + b" " * (2 << 20) + b"}", content_type="application/json")
        return web.json_response({"object": "list", "data": [{"id": "served-by-server", "object": "model"}]})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    return app, behaviour


def ask(app: web.Application) -> str:
    async def run() -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            return await served_model("m", "ns", port, base_url=lambda s, n, p: f"http://127.0.0.1:{p}")
        finally:
            await runner.cleanup()

    return asyncio.run(run())


def test_served_model_reads_the_first_model_id(model_server):
    app, _ = model_server
    assert ask(app) == "served-by-server"


@pytest.mark.parametrize("mode", ["error", "huge"])
def test_served_model_gives_up_quietly(model_server, mode):
    app, behaviour = model_server
    behaviour["mode"] = mode
    assert ask(app) == ""


def test_served_model_unreachable_is_empty():
    assert asyncio.run(served_model("m", "ns", 9, base_url=lambda s, n, p: "http://127.0.0.1:9")) == ""
    assert json.dumps(asyncio.run(served_model("nowhere", "ns", 8000))) == '""'
