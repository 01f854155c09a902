"""``/api/aikit``: ready-made AIKit images for KAITO, and images built from HuggingFace GGUF files."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from airunway.kube.client import Client
from airunway.kube.errors import ApiError, Forbidden
from airunway.server import responses
from airunway.server.deps import acting
from airunway.server.errors import ApiProblem
from airunway.server.services import aikit

router = responses.Router(prefix="/api/aikit", tags=["aikit"])


class BuildRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    modelSource: Literal["premade", "huggingface"]
    premadeModel: StrictStr | None = Field(None, max_length=100)
    modelId: StrictStr | None = Field(None, max_length=200)
    ggufFile: StrictStr | None = Field(None, max_length=500)
    imageName: StrictStr | None = Field(None, max_length=63, pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    imageTag: StrictStr | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _checked(body: BuildRequest) -> dict:
    req = body.model_dump()
    if body.modelSource == "premade" and not body.premadeModel:
        raise ApiProblem(400, "premade requires premadeModel field")
    if body.modelSource == "huggingface" and not (body.modelId and body.ggufFile):
        raise ApiProblem(400, "huggingface requires modelId and ggufFile fields")
    errors = aikit.validate(req)
    if errors:
        raise ApiProblem(400, f"Invalid request: {', '.join(errors)}")
    return req


@router.get("/models", response_model=responses.PremadeModels)
async def models() -> dict:
    return {"models": [p.to_dict() for p in aikit.PREMADE], "total": len(aikit.PREMADE)}


@router.get("/models/{model_id}", response_model=responses.PremadeModel)
async def model(model_id: str) -> dict:
    found = aikit.BY_ID.get(model_id)
    if found is None:
        raise ApiProblem(404, f"Premade model not found: {model_id}")
    return found.to_dict()


@router.post("/build/preview", response_model=responses.BuildPreview)
async def preview(body: BuildRequest) -> dict:
    req = _checked(body)
    ref = aikit.image_ref(req)
    if ref is None:
        raise ApiProblem(400, "Unable to determine image reference for this configuration")
    return {"imageRef": ref, "wasPremade": body.modelSource == "premade",
            "requiresBuild": body.modelSource == "huggingface", "registryUrl": aikit.PUSH_REGISTRY}


@router.post("/build", response_model=responses.BuildResult)
async def build(body: BuildRequest, client: Client = Depends(acting)) -> dict:
    req = _checked(body)
    try:
        return await aikit.build(client, req)
    except aikit.DockerMissing as exc:
        raise ApiProblem(400, str(exc)) from None
    except RuntimeError as exc:
        raise ApiProblem(500, str(exc)) from None


@router.get("/infrastructure/status", response_model=responses.InfrastructureStatus)
async def infrastructure_status(client: Client = Depends(acting)) -> dict:
    return await aikit.infrastructure_status(client)


@router.post("/infrastructure/setup", response_model=responses.InfrastructureSetup)
async def infrastructure_setup(client: Client = Depends(acting)) -> dict:
    try:
        registry = await aikit.ensure_registry(client)
    except Forbidden:
        raise
    except ApiError as exc:
        raise ApiProblem(500, f"Failed to set up registry: {exc.message or exc}") from None
    if not registry["ready"]:
        raise ApiProblem(500, f"Failed to set up registry: {registry['message']}")
    try:
        builder = await aikit.ensure_builder()
    except aikit.DockerMissing as exc:
        raise ApiProblem(400, f"Failed to set up builder: {exc}") from None
    if not builder["ready"]:
        raise ApiProblem(500, f"Failed to set up builder: {builder['message']}")
    return {"success": True, "message": "Build infrastructure is ready",
            "registry": {"url": registry["url"], "ready": True}, "builder": {"name": aikit.BUILDER, "ready": True}}
