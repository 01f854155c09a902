"""Gateway integration: ``/api/gateway`` (is a Gateway routing models, which ones) and
``/api/installation/gateway`` (CRD status and install)."""

from __future__ import annotations

from fastapi import Depends
from fastapi.responses import JSONResponse

from airunway.kube.client import Client
from airunway.server import responses
from airunway.server.deps import acting
from airunway.server.services import gateway as service

router = responses.Router(prefix="/api/gateway", tags=["gateway"])
installation = responses.Router(prefix="/api/installation/gateway", tags=["installation"])


@router.get("/status", response_model=responses.GatewayInfo)
async def gateway_status(client: Client = Depends(acting)) -> dict:
    return await service.gateway_info(client)


@router.get("/models", response_model=responses.GatewayModels)
async def gateway_models(client: Client = Depends(acting)) -> dict:
    return await service.gateway_models(client)


@installation.get("/status", response_model=responses.GatewayCrdStatus)
async def crd_status(client: Client = Depends(acting)) -> dict:
    return await service.crd_status(client)


@installation.post("/install-crds", response_model=responses.InstallResult)
async def install_crds(client: Client = Depends(acting)):
    try:
        return await service.install_crds(client)
    except service.InstallFailed as exc:
        return JSONResponse({"error": {"message": str(exc), "statusCode": exc.status_code}, "results": exc.results},
                            status_code=exc.status_code)
