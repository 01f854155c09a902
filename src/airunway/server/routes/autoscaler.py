"""``/api/autoscaler``: which cluster autoscaler runs, and its status."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from airunway.server.deps import cluster
from airunway.server.errors import ApiProblem
from airunway.server.runtime import Runtime
from airunway.server.services import autoscaler

router = APIRouter(prefix="/api/autoscaler", tags=["autoscaler"])


@router.get("/detection")
async def detection(rt: Runtime = Depends(cluster)) -> dict:
    return await autoscaler.detect(rt.client)


@router.get("/status")
async def status(rt: Runtime = Depends(cluster)) -> dict:
    found = await autoscaler.status(rt.client)
    if found is None:
        raise ApiProblem(404, "Autoscaler status not available")
    return found
