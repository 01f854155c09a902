"""``/api/deployments``: list, create (and preview), read, delete, and a deployment's pods, logs, pending reasons,
metrics, manifest and chat. A request without ``namespace`` uses the configured default namespace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from airunway.kube.client import Client
from airunway.server import responses
from airunway.server.deps import caller, cluster
from airunway.server.runtime import Runtime
from airunway.server.schemas import CreateDeployment, InvalidRequest, Issue, is_namespace, is_resource_name
from airunway.server.services import catalog, chat
from airunway.server.services.deployments import DeploymentService

router = responses.Router(prefix="/api/deployments", tags=["deployments"])

NAME_RULE = "must be 1-253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit"
NAMESPACE_RULE = "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit"


async def deployment_name(name: str = Path(..., description="The ModelDeployment's name")) -> str:
    if not is_resource_name(name):
        raise InvalidRequest([Issue(("name",), NAME_RULE)])
    return name


async def namespace_param(
    namespace: str | None = Query(None, description="Default: the configured namespace"),
) -> str | None:
    if namespace is not None and not is_namespace(namespace):
        raise InvalidRequest([Issue(("namespace",), NAMESPACE_RULE)])
    return namespace


async def _namespace(rt: Runtime, given: str | None) -> str:
    return given or await rt.config.namespace()


@router.get("", response_model=responses.DeploymentList)
async def list_deployments(
    namespace: str | None = Depends(namespace_param),
    limit: int | None = Query(None, ge=1, le=100),
    offset: int | None = Query(None, ge=0),
    rt: Runtime = Depends(cluster),
    user: Client | None = Depends(caller),
):
    page = await rt.deployments.list(user, namespace, limit, offset)
    return Response(page.to_json(), media_type="application/json")  # each deployment is JSON already


@router.post("", response_model=responses.DeploymentCreated, status_code=201)
async def create_deployment(body: CreateDeployment, rt: Runtime = Depends(cluster),
                            user: Client | None = Depends(caller)) -> dict:
    return await rt.deployments.create(user, body, await _namespace(rt, body.namespace),
                                       catalog.min_gpus(body.modelId))


@router.post("/preview", response_model=responses.ManifestAnswer)
async def preview_deployment(body: CreateDeployment, rt: Runtime = Depends(cluster),
                             user: Client | None = Depends(caller)) -> dict:
    return await rt.deployments.preview(body, await _namespace(rt, body.namespace), user)


@router.post("/selection", response_model=responses.Selection)
async def selection(body: CreateDeployment, rt: Runtime = Depends(cluster),
                    user: Client | None = Depends(caller)) -> dict:
    """Which engine and provider the controller would choose for this request, and why (an addition to upstream's
    API: the deploy form's "Automatic" choice shows it)."""
    return await rt.deployments.selection(body, await _namespace(rt, body.namespace), user)


@router.get("/-/pvcs", response_model=responses.PvcList)
async def list_pvcs(namespace: str | None = Depends(namespace_param), rt: Runtime = Depends(cluster),
                    user: Client | None = Depends(caller)) -> dict:
    if not namespace:
        raise InvalidRequest([Issue(("namespace",), "namespace is required")])
    return {"pvcs": await rt.deployments.pvcs(user, namespace)}


@dataclass
class One:
    """The deployment a ``/{name}`` route is about: its service, the caller and the resolved namespace."""

    service: DeploymentService
    caller: Client | None
    namespace: str
    name: str


async def one(name: str = Depends(deployment_name), namespace: str | None = Depends(namespace_param),
              rt: Runtime = Depends(cluster), user: Client | None = Depends(caller)) -> One:
    return One(rt.deployments, user, await _namespace(rt, namespace), name)


@router.get("/{name}", response_model=responses.DeploymentStatus)
async def get_deployment(d: One = Depends(one)) -> dict:
    return await d.service.get(d.caller, d.namespace, d.name)


@router.get("/{name}/manifest", response_model=responses.ManifestAnswer)
async def get_manifest(d: One = Depends(one)) -> dict:
    return await d.service.manifest(d.caller, d.namespace, d.name)


@router.delete("/{name}", response_model=responses.Message)
async def delete_deployment(d: One = Depends(one)) -> dict:
    await d.service.delete(d.caller, d.namespace, d.name)
    return {"message": "Deployment deleted successfully"}


@router.get("/{name}/pods", response_model=responses.PodList)
async def get_pods(d: One = Depends(one)) -> dict:
    return {"pods": await d.service.pods(d.caller, d.namespace, d.name)}


@router.get("/{name}/metrics", response_model=responses.MetricsResponse)
async def get_metrics(d: One = Depends(one)) -> dict:
    return await d.service.deployment_metrics(d.caller, d.namespace, d.name)


@router.get("/{name}/pending-reasons", response_model=responses.PendingReasons)
async def get_pending_reasons(d: One = Depends(one)) -> dict:
    return {"reasons": await d.service.pending_reasons(d.caller, d.namespace, d.name)}


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: StrictStr = Field(min_length=1, max_length=64)
    content: Any = None


class ChatRequest(BaseModel):
    """An OpenAI chat completion request; fields beyond these are passed on as they are."""

    model_config = ConfigDict(extra="allow")
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    model: StrictStr | None = Field(None, min_length=1, max_length=256)
    max_tokens: int | None = Field(None, gt=0)
    seed: int | None = None


CHAT_ANSWER = {200: {"content": {"text/event-stream": {}}, "description": "The model's answer as events"}}


async def _chat(d: One, body: ChatRequest, rt: Runtime):
    deployment = await d.service.get(d.caller, d.namespace, d.name)
    up = chat.upstream(deployment, template=rt.settings.model_target(), in_cluster=rt.settings.running_in_cluster(),
                       client=d.caller or rt.client)
    return await chat.open_chat(deployment, body.model_dump(exclude_none=True), up)


@router.post("/{namespace}/{name}/chat", response_class=StreamingResponse, responses=CHAT_ANSWER)
async def chat_with_model(body: ChatRequest, namespace: str = Path(..., description="The deployment's namespace"), name: str = Depends(deployment_name),
                          rt: Runtime = Depends(cluster), user: Client | None = Depends(caller)):
    if not is_namespace(namespace):
        raise InvalidRequest([Issue(("namespace",), NAMESPACE_RULE)])
    return await _chat(One(rt.deployments, user, namespace, name), body, rt)


@router.post("/{name}/chat", response_class=StreamingResponse, responses=CHAT_ANSWER)
async def chat_in_namespace(body: ChatRequest, d: One = Depends(one), rt: Runtime = Depends(cluster)):
    """The same chat, the namespace from the query (default: the configured one), as upstream's client sends it
    when it has no namespace."""
    return await _chat(d, body, rt)


@router.get("/{name}/logs", response_model=responses.Logs)
async def get_logs(
    d: One = Depends(one),
    podName: str | None = Query(None, description="Default: the deployment's first pod"),
    container: str | None = Query(None, description="Default: the main container"),
    tailLines: int = Query(100, ge=1, le=10000),
    timestamps: str | None = Query(None, description='"true" to prefix each line with its time'),
) -> dict:
    return await d.service.logs(d.caller, d.namespace, d.name, pod=podName or None, container=container or None,
                                tail_lines=tailLines, timestamps=timestamps == "true")
