"""``/api/autoscaler``: which cluster autoscaler runs, and its status."""

from __future__ import annotations

from fastapi import Depends

from airunway.kube.client import Client
from airunway.server import responses
from airunway.server.deps import acting
from airunway.server.errors import ApiProblem
from airunway.server.services import autoscaler

router = responses.Router(prefix="/api/autoscaler", tags=["autoscaler"])


@router.get("/detection", response_model=responses.AutoscalerDetection)
async def detection(client: Client = Depends(acting)) -> dict:
    return await autoscaler.detect(client)


@router.get("/status", response_model=responses.AutoscalerStatus)
async def status(client: Client = Depends(acting)) -> dict:
    found = await autoscaler.status(client)
    if found is None:
        raise ApiProblem(404, "Autoscaler status not available")
    return found
