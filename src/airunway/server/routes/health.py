"""Health, version and the cluster's connection and nodes. One router, served under both ``/api/health`` and
``/api/cluster`` as upstream does (``/api/cluster/status`` is what the UI calls)."""

from __future__ import annotations

from fastapi import Depends

from airunway import __version__
from airunway.kube.client import Client
from airunway.server import responses
from airunway.server.deps import acting_if_any, runtime
from airunway.server.runtime import Runtime
from airunway.server.services import cluster
from airunway.server.services.conversions import now_iso

router = responses.Router()


@router.get("", response_model=responses.Health)
async def healthy() -> dict:
    """Liveness, without touching the cluster."""
    return {"status": "healthy", "timestamp": now_iso()}


@router.get("/version", response_model=responses.Version)
async def version() -> dict:
    return {"version": __version__, "buildTime": now_iso(), "gitCommit": "unknown"}


@router.get("/status", response_model=responses.ClusterStatus)
async def status(rt: Runtime = Depends(runtime)) -> dict:
    """Whether the cluster answers, and whether AI Runway's ModelDeployment CRD is installed."""
    return await cluster.cluster_status(rt.client, rt.settings.namespace(), rt.cluster_name)


@router.get("/nodes", response_model=responses.NodeList)
async def nodes(client: Client | None = Depends(acting_if_any)) -> dict:
    return {"nodes": await cluster.schedulable_nodes(client)}


health = responses.Router()
health.include_router(router, prefix="/api/health", tags=["health"])
health.include_router(router, prefix="/api/cluster", tags=["cluster"])
