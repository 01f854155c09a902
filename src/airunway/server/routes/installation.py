"""``/api/installation`` (Helm, provider runtimes, the GPU Operator, GPU capacity) and ``/api/runtimes/status`` (also
answered at ``/api/installation/runtimes/status``, as upstream).

Installs answer when they are done, as upstream; while one runs, ``…/progress`` tells the steps finished so far and
the one running now.
"""

from __future__ import annotations

import re
from typing import Literal

from fastapi import Depends, Header, Query
from fastapi.responses import JSONResponse

from airunway.kube.client import Client
from airunway.kube.errors import ApiError
from airunway.server import responses
from airunway.server.deps import acting, cluster, installer, runtime
from airunway.server.errors import ApiProblem
from airunway.server.runtime import Runtime
from airunway.server.services import gpus, huggingface, throughput
from airunway.server.services import installation as service
from airunway.server.services.installation import Installer

router = responses.Router(prefix="/api/installation", tags=["installation"])
runtimes = responses.Router(prefix="/api/runtimes", tags=["installation"])

PROVIDER_ID = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def _provider_id(provider_id: str) -> str:
    if not PROVIDER_ID.match(provider_id):
        raise ApiProblem(404, f"Provider not found: {provider_id}")
    return provider_id


def _failed(exc: service.InstallFailed) -> JSONResponse:
    return JSONResponse({"error": {"message": str(exc), "statusCode": exc.status_code}, "results": exc.results},
                        status_code=exc.status_code)


@router.get("/helm/status", response_model=responses.HelmStatus)
async def helm_status(rt: Runtime = Depends(runtime)) -> dict:
    return await rt.runner.helm_status()


@router.get("/gpu-operator/status", response_model=responses.GPUOperatorStatus)
async def gpu_operator_status(client: Client = Depends(acting)) -> dict:
    return await gpus.gpu_operator_status(client) | {"helmCommands": service.gpu_operator_commands()}


@router.post("/gpu-operator/install", response_model=responses.InstallResult)
async def install_gpu_operator(run: Installer = Depends(installer)):
    try:
        return await run.install_gpu_operator()
    except service.InstallFailed as exc:
        return _failed(exc)


@router.get("/gpu-operator/progress", response_model=responses.Progress)
async def gpu_operator_progress(rt: Runtime = Depends(cluster)) -> dict:
    return rt.installer.progress("gpu-operator")


@router.get("/gpu-capacity", response_model=responses.ClusterGpuCapacity)
async def gpu_capacity(client: Client = Depends(acting)) -> dict:
    return (await gpus.gpu_capacity_or_none(client)).to_dict()


@router.get("/gpu-capacity/detailed", response_model=responses.DetailedClusterCapacity)
async def gpu_capacity_detailed(client: Client = Depends(acting)) -> dict:
    return (await gpus.gpu_capacity_or_none(client)).detailed()


Precision = Literal["fp8", "int8", "fp16", "bf16"]


@router.get("/gpu-throughput", response_model=responses.Throughput)
async def gpu_throughput(
    modelId: str | None = Query(None, max_length=200),  # noqa: N803 - upstream's parameter names
    paramCount: float | None = Query(None, ge=1, le=9e12),  # noqa: N803
    contextLen: int | None = Query(None, ge=1, le=1_048_576),  # noqa: N803
    quantization: Precision | None = Query(None),
    kvCacheDtype: Precision | None = Query(None),  # noqa: N803
    gpuModel: str | None = Query(None, min_length=1, max_length=200),  # noqa: N803
    tpSize: int | None = Query(None, ge=1, le=64),  # noqa: N803
    x_hf_token: str | None = Header(None),
    client: Client = Depends(acting),
) -> dict:
    """Estimated generation speed of a model on the cluster's best (or the named) GPU pool."""
    capacity = await gpus.gpu_capacity_or_none(client)
    pool = throughput.choose_pool(capacity.detailed()["nodePools"], gpuModel)
    if pool is None:
        raise ApiProblem(404, "No GPU node pool with known specs found in the cluster.")
    dims = await huggingface.model_dimensions(modelId, x_hf_token or None) if modelId and paramCount else None
    return throughput.estimate(pool, paramCount, context=contextLen, quantization=quantization,
                               kv_dtype=kvCacheDtype, tp_size=tpSize, dims=dims)


@router.get("/providers/{provider_id}/status", response_model=responses.ProviderStatus)
async def provider_status(provider_id: str, client: Client = Depends(acting)) -> dict:
    return await service.provider_status(client, _provider_id(provider_id))


@router.get("/providers/{provider_id}/commands", response_model=responses.ProviderCommands)
async def provider_commands(provider_id: str, client: Client = Depends(acting)) -> dict:
    return await service.provider_commands(client, _provider_id(provider_id))


@router.get("/providers/{provider_id}/progress", response_model=responses.Progress)
async def provider_progress(provider_id: str, rt: Runtime = Depends(cluster)) -> dict:
    return rt.installer.progress(_provider_id(provider_id))


@router.post("/providers/{provider_id}/install", response_model=responses.InstallResult)
async def install_provider(provider_id: str, run: Installer = Depends(installer)):
    try:
        return await run.install_provider(_provider_id(provider_id))
    except service.InstallFailed as exc:
        return _failed(exc)


@router.post("/providers/{provider_id}/uninstall", response_model=responses.InstallResult)
async def uninstall_provider(provider_id: str, run: Installer = Depends(installer)):
    try:
        return await run.uninstall_provider(_provider_id(provider_id))
    except service.InstallFailed as exc:
        return _failed(exc)


@router.post("/providers/{provider_id}/uninstall-crds", response_model=responses.Success)
async def remove_provider_config(provider_id: str, run: Installer = Depends(installer)) -> dict:
    return await run.remove_provider_config(_provider_id(provider_id))


@runtimes.get("/status", response_model=responses.RuntimesStatus)
@router.get("/runtimes/status", response_model=responses.RuntimesStatus)
async def runtimes_status(client: Client = Depends(acting)):
    try:
        return {"runtimes": await service.runtimes_status(client)}
    except (ApiError, OSError) as exc:  # upstream answers with an empty list and the reason
        return JSONResponse({"runtimes": [], "error": str(exc)}, status_code=500)
