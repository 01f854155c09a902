"""Route dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Depends, Request

from airunway.kube.client import Client
from airunway.server.errors import ApiProblem
from airunway.server.runtime import Runtime, runtime_of
from airunway.server.services.installation import Installer


async def runtime(request: Request) -> Runtime:
    """The app's settings, client and services."""
    return await runtime_of(request.app)


def token_of(request: Request) -> str | None:
    """The caller's checked token (set by the authentication middleware; None when authentication is off or the
    path is public)."""
    return getattr(request.state, "token", None)


async def caller(request: Request, rt: Runtime = Depends(runtime)) -> Client | None:
    """A client acting as the authenticated caller; None when authentication is off (the dashboard acts itself)."""
    return rt.caller(token_of(request))


async def cluster(rt: Runtime = Depends(runtime)) -> Runtime:
    """The runtime, when a cluster is configured (503 otherwise)."""
    if rt.client is None or rt.deployments is None or rt.config is None:
        raise ApiProblem(503, "No Kubernetes cluster is configured: pass --kubeconfig or set KUBECONFIG")
    return rt


async def acting(request: Request, rt: Runtime = Depends(cluster)) -> Client:
    """The client every Kubernetes call of the request is made with: the caller's token when authentication is
    on, so the cluster's RBAC decides; the dashboard's own credentials when it is off (or on a public path)."""
    return rt.acting(token_of(request))


async def acting_if_any(request: Request, rt: Runtime = Depends(runtime)) -> Client | None:
    """:func:`acting`, or None when no cluster is configured."""
    return rt.acting(token_of(request))


async def installer(request: Request, rt: Runtime = Depends(cluster)) -> Installer:
    """The installer acting as the caller (its Kubernetes calls, ``helm`` and ``kubectl``)."""
    return rt.installer_for(token_of(request))
