"""Route dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Depends, Request

from airunway.kube.client import Client
from airunway.server.errors import ApiProblem
from airunway.server.runtime import Runtime, runtime_of


def kube(request: Request) -> Client:
    """The app's Kubernetes client."""
    return request.app.state.client


async def runtime(request: Request) -> Runtime:
    """The app's settings, client and services."""
    return await runtime_of(request.app)


async def caller(request: Request, rt: Runtime = Depends(runtime)) -> Client | None:
    """A client acting as the authenticated caller; None when authentication is off (the dashboard acts itself)."""
    return rt.caller(getattr(request.state, "token", None))


async def cluster(rt: Runtime = Depends(runtime)) -> Runtime:
    """The runtime, when a cluster is configured (503 otherwise)."""
    if rt.client is None or rt.deployments is None or rt.config is None:
        raise ApiProblem(503, "No Kubernetes cluster is configured: pass --kubeconfig or set KUBECONFIG")
    return rt
