"""``/api/secrets/huggingface``: store, check and remove the HuggingFace token used to download gated models."""

from __future__ import annotations

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from airunway.kube.client import Client
from airunway.server import responses
from airunway.server.deps import acting, cluster
from airunway.server.errors import ApiProblem
from airunway.server.runtime import Runtime
from airunway.server.services import huggingface
from airunway.server.services.secrets import HuggingFaceSecrets

router = responses.Router(prefix="/api/secrets", tags=["secrets"])


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    accessToken: StrictStr = Field(min_length=1, max_length=4096)


def _secrets(client: Client, rt: Runtime) -> HuggingFaceSecrets:
    """The token's Secrets written as ``client`` (the caller), in the namespaces of the providers the dashboard sees."""
    return HuggingFaceSecrets(client, huggingface.whoami, directory=rt.client)


@router.get("/huggingface/status", response_model=responses.HfSecretStatus)
async def status(client: Client = Depends(acting), rt: Runtime = Depends(cluster)) -> dict:
    return await _secrets(client, rt).status()


@router.post("/huggingface", response_model=responses.HfSecretSaved)
async def save(body: TokenBody, client: Client = Depends(acting), rt: Runtime = Depends(cluster)) -> dict:
    try:
        ok, saved = await _secrets(client, rt).save(body.accessToken.strip())
    except ValueError as exc:
        raise ApiProblem(400, f"Invalid HuggingFace token: {exc}") from None
    if not ok:
        failed = ", ".join(r["namespace"] for r in saved["results"] if not r["success"])
        raise ApiProblem(500, f"Failed to save the HuggingFace token in: {failed}")
    return {"success": True, "message": "HuggingFace token saved successfully", **saved}


@router.delete("/huggingface", response_model=responses.HfSecretDeleted)
async def delete(client: Client = Depends(acting), rt: Runtime = Depends(cluster)) -> dict:
    return await _secrets(client, rt).delete()
