"""Deployments as the dashboard serves them: ModelDeployments with their pods, logs, scheduling problems and
metrics.

Lists come from a watch cache (informers over ModelDeployments and pods, started with the app), so a list of
thousands of deployments costs no request to the API server. Every call made to the API server for a request is
made as the caller when authentication is on (``caller`` is then the caller's client), so that RBAC decides:
single reads, writes, events, logs (``pods/log``), metrics through the service proxy, provider lookups and the
GPU capacity check. Lists and pods come from the cache, filtered to the namespaces the caller may list
ModelDeployments in (asked of the API server with SelfSubjectAccessReviews and remembered per token for
:data:`~airunway.server.auth.ACCESS_TTL` seconds), and a deployment's pods are shown only after a read of the
deployment as the caller has shown the caller may see it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

from airunway.api.constants import GROUP
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.errors import (
    ApiError,
    Forbidden,
    NotFound,
    ServerError,
    TooManyRequests,
)
from airunway.kube.informer import Cache
from airunway.kube.resources import EVENTS, NAMESPACES, PERSISTENTVOLUMECLAIMS, PODS, Key
from airunway.server.auth import AccessCache, access_review, may
from airunway.server import problems
from airunway.server.schemas import CreateDeployment
from airunway.server.services import aikit, conversions, gpus
from airunway.server.services import pods as podlib
from airunway.server.services.listing import RenderedDeployments, rendered, to_json
from airunway.server.services.metrics import MetricsService, target_for
from airunway.server.services.providers import capability_problem, provider_details

log = logging.getLogger("airunway.server.deployments")

T = TypeVar("T")

CACHE_WAIT = 10.0  # seconds a request waits for the first sync before reading the API server instead
LOG_CONTAINERS = ("main", "vllm", "model", "ray-head", "ray-worker", "inference", "worker", "server", "frontend")
ANSI_SGR = re.compile(r"\x1b\[[0-9;]*m")


def kube_message(exc: BaseException) -> str:
    """An API error in words: the server's message and its per-field causes."""
    if not isinstance(exc, ApiError):
        return str(exc) or type(exc).__name__
    message = exc.message or exc.reason or f"HTTP {exc.status}"
    causes = [f"{c.get('field')}: {c.get('message')}" if c.get("field") else str(c.get("message"))
              for c in exc.causes if c.get("message")]
    if causes and not all(c in message for c in causes):
        message += " Details: " + "; ".join(causes)
    return message


def _status_of(exc: BaseException) -> int:
    return exc.status if isinstance(exc, ApiError) and 400 <= exc.status < 600 else 500


def _failure(exc: BaseException, what: str) -> problems.Problem:
    status = _status_of(exc)
    return problems.with_status(status, "Internal Server Error" if status >= 500 else f"{what}: {kube_message(exc)}")


async def with_retry(call: Callable[[], Awaitable[T]], attempts: int = 3, delay: float = 0.5) -> T:
    """``call()``, again after server errors, throttling and broken connections."""
    for attempt in range(attempts):
        try:
            return await call()
        except (ServerError, TooManyRequests, OSError, asyncio.TimeoutError):
            if attempt + 1 == attempts:
                raise
            await asyncio.sleep(delay * 2**attempt)
    raise AssertionError("unreachable")


@dataclass
class Page:
    """A page of the deployment list; each deployment already JSON."""

    deployments: list[bytes]
    total: int
    limit: int
    offset: int

    def to_json(self) -> bytes:
        pagination = {"total": self.total, "limit": self.limit, "offset": self.offset,
                      "hasMore": self.offset + len(self.deployments) < self.total}
        return b'{"deployments":[' + b",".join(self.deployments) + b'],"pagination":' + to_json(pagination) + b"}"

    def to_dict(self) -> dict:
        return json.loads(self.to_json())


EMPTY_PAGE = Page([], 0, 0, 0)


def classify_event(event: dict) -> dict:
    """A Warning event as a pending reason: is it about resources, which one, could more nodes help."""
    reason = event.get("reason") or "Unknown"
    message = event.get("message") or ""
    text = message.lower()
    constraint = reason == "FailedScheduling" or "insufficient" in text
    out: dict[str, Any] = {"reason": reason, "message": message, "isResourceConstraint": constraint}
    helps = False
    if constraint:
        kind = "gpu" if "nvidia.com/gpu" in text else "cpu" if "cpu" in text else "memory" if "memory" in text else None
        if kind:
            out["resourceType"] = kind
            helps = True
    if "taint" in text or "toleration" in text or "node selector" in text or "didn't match" in text:
        helps = False
    out["canAutoscalerHelp"] = helps
    return out


def pick_container(pod: dict) -> str | None:
    """The container whose log is shown when none is asked for."""
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name")]
    for preferred in LOG_CONTAINERS:
        if preferred in names:
            return preferred
    ready = next((c.get("name") for c in (pod.get("status") or {}).get("containerStatuses") or [] if c.get("ready")),
                 None)
    return ready or (names[0] if names else None)


def resolve_images(req: CreateDeployment) -> CreateDeployment:
    """KAITO deployments of a premade model get its image; GGUF files run directly get the runner image and the
    file's URL."""
    if req.provider != "kaito":
        return req
    changes: dict[str, Any] = {}
    if req.modelSource == "premade" and req.premadeModel and not req.imageRef:
        if req.premadeModel in aikit.BY_ID:
            changes["imageRef"] = aikit.BY_ID[req.premadeModel].image
    elif req.modelSource == "huggingface" and req.ggufRunMode == "direct":
        changes["imageRef"] = req.imageRef or aikit.GGUF_RUNNER_IMAGE
        if req.ggufFile:
            changes["engineArgs"] = {**(req.engineArgs or {}), "ggufUrl": aikit.gguf_url(req.modelId, req.ggufFile)}
    return req.model_copy(update=changes) if changes else req


class DeploymentService:
    def __init__(self, client: Client, metrics: MetricsService, *, cache: Cache | None = None):
        """``client``: the dashboard's own credentials. ``cache``: where the ModelDeployment and pod informers live
        (one is made when not given); :meth:`start` starts them."""
        self.client = client
        self.metrics = metrics
        self.cache = cache or Cache(client)
        self.deployments = self.cache.informer(MODEL_DEPLOYMENTS)
        self.pod_index = podlib.PodIndex(self.cache.informer(PODS))
        self.rendered = RenderedDeployments(self.deployments, self.pod_index)
        self.access: AccessCache[bool] = AccessCache()
        self._started_at: float | None = None

    def start(self) -> None:
        self._started_at = asyncio.get_running_loop().time()
        self.cache.start()

    async def stop(self) -> None:
        await self.cache.stop()

    # -- reads ------------------------------------------------------------------------------------------------

    async def _pods_of(self, namespace: str, name: str) -> list[dict]:
        if self.pod_index.synced():
            return self.pod_index.pods(namespace, name)
        return await podlib.list_pods(self.client, namespace, name)

    async def _pod_or_none(self, namespace: str, name: str) -> dict | None:
        """A pod as the watch cache holds it (read only after the caller was shown to see its deployment)."""
        found = self.pod_index.informer.get(Key(namespace, name), copy=False) if self.pod_index.synced() else None
        if found is None:
            listed = (await self.client.list_all(PODS, namespace, field_selector=f"metadata.name={name}")).items
            found = listed[0] if listed else None
        return found

    async def _statuses(self, namespace: str, name: str) -> list[dict]:
        return [podlib.pod_status(p) for p in await self._pods_of(namespace, name)]

    async def _cached_deployments(self, namespaces: frozenset[str] | None) -> list[dict] | None:
        """The cached ModelDeployments in ``namespaces`` (None: all), or None when the cache is not usable."""
        if not self.deployments.has_synced():
            # Just started: worth waiting for the first sync. Later (the CRD is missing, or listing is not
            # allowed) a request must not wait for a cache that may never fill.
            waited = asyncio.get_running_loop().time() - (self._started_at or 0.0)
            if not self.deployments.running or waited >= CACHE_WAIT or \
                    not await self.deployments.wait_synced(CACHE_WAIT - waited):
                return None
        if namespaces is None:
            return self.deployments.list(copy=False)
        return [md for ns in sorted(namespaces) for md in self.deployments.list(ns, copy=False)]

    async def _may_list(self, caller: Client, namespace: str | None) -> bool:
        """Whether the caller may list ModelDeployments in ``namespace`` (None: in all), remembered a short time
        per token."""
        key = getattr(caller, "key", "")
        if not key:
            return await may(caller, "list", GROUP, MODEL_DEPLOYMENTS.plural, namespace)
        try:  # a review that failed is not remembered
            return await self.access.get(f"{key} list {namespace or '*'}", lambda: access_review(
                caller, "list", GROUP, MODEL_DEPLOYMENTS.plural, namespace))
        except (ApiError, OSError) as exc:
            log.debug("access review failed", extra={"error": kube_message(exc)})
            return False

    async def _readable_namespaces(self, caller: Client, namespace: str | None) -> frozenset[str] | None:
        """Namespaces whose ModelDeployments the caller may list (None: all). Without a namespace asked for, only
        the namespaces that hold a deployment are asked about (all of them while the cache is not synced)."""
        if namespace:
            return frozenset({namespace}) if await self._may_list(caller, namespace) else frozenset()
        if await self._may_list(caller, None):
            return None
        if self.deployments.has_synced():
            names = sorted({md["metadata"]["namespace"] for md in self.deployments.list(copy=False)})
        else:
            names = [ns["metadata"]["name"] for ns in (await self.client.list_all(NAMESPACES)).items]
        allowed = [self.access.peek(f"{getattr(caller, 'key', '')} list {ns}") for ns in names]
        missing = [i for i, known in enumerate(allowed) if known is None]
        for i, ok in zip(missing, await asyncio.gather(*(self._may_list(caller, names[i]) for i in missing))):
            allowed[i] = ok
        return frozenset(ns for ns, ok in zip(names, allowed) if ok)

    async def _listed(self, caller: Client | None, namespace: str | None) -> tuple[list[dict], bool]:
        """The ModelDeployments to list, and whether they come from the cache."""
        namespaces: frozenset[str] | None = frozenset({namespace}) if namespace else None
        if caller is not None:
            namespaces = await self._readable_namespaces(caller, namespace)
            if namespaces is not None and not namespaces:
                return [], False
        cached = await self._cached_deployments(namespaces)
        if cached is not None:
            return cached, True
        reader = caller or self.client
        try:
            if namespaces is None:
                return (await reader.list_all(MODEL_DEPLOYMENTS)).items, False
            lists = await asyncio.gather(*(reader.list_all(MODEL_DEPLOYMENTS, ns) for ns in sorted(namespaces)))
            return [md for listed in lists for md in listed.items], False
        except (NotFound, Forbidden):
            return [], False

    async def list(self, caller: Client | None, namespace: str | None, limit: int | None = None,
                   offset: int | None = None) -> Page:
        """Deployments newest first; a page of them when ``limit`` or ``offset`` is given. Never fails: a problem
        reading them is an empty list."""
        try:
            items, from_cache = await self._listed(caller, namespace)
            if from_cache and self.rendered.ready():
                entries = self.rendered.entries(items)
            else:
                keys = [(md["metadata"]["namespace"], md["metadata"]["name"]) for md in items]
                pod_lists = await asyncio.gather(*(self._pods_of(ns, n) for ns, n in keys))
                entries = [rendered(md, pods) for md, pods in zip(items, pod_lists)]
        except Exception as exc:  # noqa: BLE001 - the list view shows nothing rather than an error
            log.warning("cannot list deployments", extra={"error": kube_message(exc)})
            return EMPTY_PAGE
        entries.sort(key=lambda e: e.created, reverse=True)  # stable: equal times keep the cache's order
        shown = [e.body for e in entries]
        total = len(shown)
        if limit is None and offset is None:
            return Page(shown, total, total, 0)
        start = offset or 0
        end = start + limit if limit is not None else None
        return Page(shown[start:end], total, limit or total, start)

    async def read(self, caller: Client | None, namespace: str, name: str) -> dict | None:
        """The ModelDeployment as the caller sees it; None if it does not exist or the caller may not read it."""
        try:
            return await (caller or self.client).get(MODEL_DEPLOYMENTS, name, namespace)
        except Exception as exc:  # noqa: BLE001 - any failure reads as "not there", as upstream
            if not isinstance(exc, NotFound):
                log.info("deployment read failed", extra={"deployment": f"{namespace}/{name}",
                                                          "error": kube_message(exc)})
            return None

    async def _visible(self, caller: Client | None, namespace: str, name: str) -> dict:
        md = await self.read(caller, namespace, name)
        if md is None:
            raise problems.NotFoundError("Deployment not found")
        return md

    async def get(self, caller: Client | None, namespace: str, name: str) -> dict:
        md = await self._visible(caller, namespace, name)
        return conversions.deployment_status(md, await self._statuses(namespace, name))

    async def manifest(self, caller: Client | None, namespace: str, name: str) -> dict:
        md = await self.read(caller, namespace, name)
        if md is None:
            raise problems.NotFoundError("Deployment manifest not found")
        return conversions.manifest_answer(md)

    async def pods(self, caller: Client | None, namespace: str, name: str) -> list[dict]:
        await self._visible(caller, namespace, name)
        return await self._statuses(namespace, name)

    async def pending_reasons(self, caller: Client | None, namespace: str, name: str) -> list[dict]:
        await self._visible(caller, namespace, name)
        pending = [p for p in await self._statuses(namespace, name) if p["phase"] == "Pending"]
        if not pending:
            return []
        try:
            events = (await (caller or self.client).list_all(
                EVENTS, namespace, field_selector=f"involvedObject.name={pending[0]['name']}")).items
        except Forbidden:
            raise
        except (ApiError, OSError) as exc:
            log.info("cannot list events", extra={"pod": pending[0]["name"], "error": kube_message(exc)})
            return []
        return [classify_event(e) for e in events if e.get("type") == "Warning"]

    async def logs(self, caller: Client | None, namespace: str, name: str, *, pod: str | None,
                   container: str | None, tail_lines: int, timestamps: bool) -> dict:
        await self._visible(caller, namespace, name)
        names = [p["name"] for p in await self._statuses(namespace, name)]
        if not names:
            return {"logs": "", "podName": "", "message": "No pods found for this deployment"}
        target = pod or names[0]
        if target not in names:
            raise problems.InvalidInput(f"Pod '{target}' is not part of deployment '{name}'")
        reader = caller or self.client
        try:
            if not container:
                found = await self._pod_or_none(namespace, target)
                container = pick_container(found) if found else None
            query = {"tailLines": str(tail_lines), "timestamps": "true" if timestamps else "false"}
            if container:
                query["container"] = container
            text = await with_retry(lambda: reader.request_text(PODS.path(namespace, target, "log"), query=query))
        except Forbidden:
            raise
        except NotFound:
            raise problems.Failed(f"Pod '{target}' not found in namespace '{namespace}'")
        except (ApiError, OSError, asyncio.TimeoutError) as exc:
            raise problems.Failed(f"Failed to get logs for pod '{target}': {kube_message(exc)}")
        out = {"logs": ANSI_SGR.sub("", text), "podName": target}
        if container:
            out["container"] = container
        return out

    async def deployment_metrics(self, caller: Client | None, namespace: str, name: str) -> dict:
        md = await self._visible(caller, namespace, name)
        shown = conversions.deployment_status(md, [])
        service = conversions.parse_frontend_service(shown.get("frontendService"))
        target = target_for(namespace, name, shown.get("provider"), service[0] if service else None,
                            service[1] if service else None)
        return await self.metrics.deployment_metrics(target, caller)

    async def pvcs(self, caller: Client | None, namespace: str) -> list[dict]:
        try:
            claims = (await (caller or self.client).list_all(PERSISTENTVOLUMECLAIMS, namespace)).items
        except (ApiError, OSError) as exc:
            raise _failure(exc, "Failed to list storage disks") from exc
        out = []
        for pvc in claims:
            spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
            out.append({
                "name": pvc["metadata"]["name"],
                "status": status.get("phase") or "Unknown",
                "storageClass": spec.get("storageClassName") or "",
                "capacity": (status.get("capacity") or {}).get("storage")
                or ((spec.get("resources") or {}).get("requests") or {}).get("storage") or "",
            })
        return out

    # -- writes -----------------------------------------------------------------------------------------------

    async def _check_provider(self, req: CreateDeployment, caller: Client | None) -> None:
        if not req.provider:
            return
        try:
            config = await (caller or self.client).get(INFERENCE_PROVIDER_CONFIGS, req.provider)
        except NotFound:
            raise problems.NotFoundError(f"Provider not found: {req.provider}")
        except (ApiError, OSError, asyncio.TimeoutError) as exc:
            log.info("provider lookup failed; admission will check", extra={"error": kube_message(exc)})
            return
        problem = capability_problem(
            req.provider, provider_details(config)["capabilities"], engine=req.engine, mode=req.mode,
            model_source=req.modelSource, router_mode=req.routerMode, overrides=req.providerOverrides)
        if problem:
            raise problems.Unsupported(problem)

    async def prepare(self, req: CreateDeployment, namespace: str, caller: Client | None = None) -> dict:
        """The ModelDeployment for a create request, after the checks that need the cluster."""
        req.check()
        req = resolve_images(req)
        await self._check_provider(req, caller)
        return conversions.to_manifest(req, namespace)

    async def selection(self, req: CreateDeployment, namespace: str, caller: Client | None = None) -> dict:
        """Which engine and provider the core controller would choose for this request, and why each registered
        provider would or would not be (the same defaulting, validation and CEL rules as the controller)."""
        from airunway.api.providerconfig import InferenceProviderConfig
        from airunway.policy.render import render
        from airunway.policy.selection import Liveness
        from airunway.server.services.installation import staleness_seconds

        req.check()
        configs = [InferenceProviderConfig.model_validate(c)
                   for c in (await (caller or self.client).list_all(INFERENCE_PROVIDER_CONFIGS)).items]
        result = render(conversions.to_manifest(resolve_images(req), namespace), configs,
                        Liveness(staleness=staleness_seconds()))
        out: dict[str, Any] = {"errors": list(result.errors), "warnings": list(result.warnings),
                               "failure": result.failure, "configProblems": result.config_problems}
        if result.engine is not None and result.engine.engine:
            out["engine"] = {"type": result.engine.engine, "reason": result.engine.reason}
        if result.provider is not None:
            if result.provider.provider:
                out["provider"] = {"name": result.provider.provider, "reason": result.provider.reason}
            out["verdicts"] = [{"name": v.name, "outcome": v.outcome.value, "explanation": v.explanation,
                                "brokenRules": [{"index": r.index, "condition": r.condition, "error": r.error}
                                                for r in v.broken_rules]}
                               for v in result.provider.verdicts]
        return out

    async def preview(self, req: CreateDeployment, namespace: str, caller: Client | None = None) -> dict:
        return conversions.manifest_answer(conversions.with_storage_defaults(
            await self.prepare(req, namespace, caller)))

    async def create(self, caller: Client | None, req: CreateDeployment, namespace: str,
                     min_gpus: int = 1) -> dict:
        manifest = await self.prepare(req, namespace, caller)
        warnings: list[str] = []
        try:
            warnings = gpus.fit_warnings(req, await gpus.gpu_capacity(caller or self.client), min_gpus)
        except Exception as exc:  # noqa: BLE001 - a capacity check never blocks a deployment
            log.info("GPU fit check skipped", extra={"error": str(exc)})
        writer = caller or self.client
        try:
            await with_retry(lambda: writer.create(MODEL_DEPLOYMENTS, manifest, namespace))
        except (ApiError, OSError, asyncio.TimeoutError) as exc:
            raise _failure(exc, "Failed to create deployment") from exc
        out: dict[str, Any] = {"message": "Deployment created successfully", "name": req.name, "namespace": namespace}
        if warnings:
            out["warnings"] = warnings
        return out

    async def delete(self, caller: Client | None, namespace: str, name: str) -> None:
        if await self.read(caller, namespace, name) is None:
            raise problems.NotFoundError(f"Deployment '{name}' not found in namespace '{namespace}'")
        writer = caller or self.client
        try:
            await with_retry(lambda: writer.delete(MODEL_DEPLOYMENTS, name, namespace))
        except (ApiError, OSError, asyncio.TimeoutError) as exc:
            raise _failure(exc, "Failed to delete deployment") from exc
