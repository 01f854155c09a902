"""``/api/settings`` (the dashboard's settings, with the providers and whether authentication is on) and
``/api/providers`` (the registered providers; also under ``/api/settings/providers``)."""

from __future__ import annotations

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, StrictStr

from airunway.kube.client import Client
from airunway.server import auth, responses
from airunway.server.deps import acting_if_any, runtime, token_of
from airunway.server.errors import ApiProblem
from airunway.server.runtime import Runtime
from airunway.server.services import providers as service
from airunway.server.services.settings import SaveFailed

settings_router = responses.Router(prefix="/api/settings", tags=["settings"])
providers_router = responses.Router(prefix="/api/providers", tags=["providers"])


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    defaultNamespace: StrictStr | None = None


async def _providers(rt: Runtime) -> list[dict]:
    return await service.list_providers(rt.client) if rt.client else []


async def _provider(client: Client | None, provider_id: str) -> dict:
    found = await service.get_provider(client, provider_id) if client else None
    if found is None:
        raise ApiProblem(404, f"Provider not found: {provider_id}")
    return found


@settings_router.get("", response_model=responses.Settings)
async def get_settings(rt: Runtime = Depends(runtime)) -> dict:
    config = await rt.config.get() if rt.config else {"defaultNamespace": rt.settings.namespace()}
    return {"config": config, "providers": await _providers(rt), "auth": {"enabled": rt.settings.auth_on()}}


@settings_router.put("", response_model=responses.SettingsUpdated)
async def update_settings(body: SettingsUpdate, request: Request, rt: Runtime = Depends(runtime)):
    # The path is public so the UI can read the settings before login; changing them needs a valid token.
    if rt.settings.auth_on():
        refused = await auth.authenticate(request, rt.client, rt.reviews) if rt.client else auth.unauthorized()
        if refused is not None:
            return refused
    if rt.config is None:
        raise ApiProblem(503, "No Kubernetes cluster is configured: the settings cannot be saved")
    try:
        config = await rt.config.update(body.model_dump(exclude_none=True), rt.caller(token_of(request)))
    except SaveFailed as exc:
        raise ApiProblem(500, "Internal Server Error") from exc
    return {"message": "Settings updated successfully", "config": config}


@settings_router.get("/providers", response_model=responses.ProviderList)
@providers_router.get("", response_model=responses.ProviderList)
async def list_providers(rt: Runtime = Depends(runtime)) -> dict:
    return {"providers": await _providers(rt)}


@settings_router.get("/providers/{provider_id}", response_model=responses.ProviderDetails)
@providers_router.get("/{provider_id}", response_model=responses.ProviderDetails)
async def get_provider(provider_id: str, client: Client | None = Depends(acting_if_any)) -> dict:
    return await _provider(client, provider_id)
