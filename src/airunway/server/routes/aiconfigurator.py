"""``/api/aiconfigurator``: is NVIDIA AI Configurator available, and the serving configuration it recommends."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Body, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from airunway.server import responses
from airunway.server.deps import runtime
from airunway.server.runtime import Runtime
from airunway.server.services.aiconfigurator import normalize_gpu_type

router = responses.Router(prefix="/api/aiconfigurator", tags=["aiconfigurator"])


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    modelId: StrictStr = Field(min_length=1, max_length=200)
    gpuType: StrictStr = Field(min_length=1, max_length=200)
    gpuCount: StrictInt = Field(ge=1, le=1024)
    optimizeFor: Literal["throughput", "latency"] | None = None
    maxLatencyMs: float | None = Field(None, gt=0, le=3_600_000)


@router.get("/status", response_model=responses.AIConfiguratorStatus)
async def status(rt: Runtime = Depends(runtime)) -> dict:
    return await rt.aiconfigurator.status()


@router.post("/analyze", response_model=responses.AIConfiguratorResult)
async def analyze(body: Any = Body(None), rt: Runtime = Depends(runtime)):
    try:
        request = AnalyzeRequest.model_validate(body)
    except ValidationError as exc:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": {"message": "Invalid request", "errors": errors, "statusCode": 400}},
                            status_code=400)
    return await rt.aiconfigurator.analyze(request.modelId, request.gpuType, request.gpuCount, request.optimizeFor,
                                           request.maxLatencyMs)


@router.post("/normalize-gpu", response_model=responses.NormalizedGpuType)
async def normalize_gpu(body: Any = Body(None)):
    product = body.get("gpuProduct") if isinstance(body, dict) else None
    if not isinstance(product, str) or not product.strip():
        return JSONResponse({"error": {"message": "gpuProduct string is required", "statusCode": 400}},
                            status_code=400)
    return {"gpuProduct": product, "normalized": normalize_gpu_type(product)}
