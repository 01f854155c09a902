"""Who is calling: Bearer tokens checked by the cluster, and Kubernetes clients that act as the caller.

With authentication on (``AUTH_ENABLED`` is ``true`` or ``1``, read on every request unless the app's settings fix
it), every ``/api`` path but a few public ones needs ``Authorization: Bearer <token>``. The token is checked with a
TokenReview made with the dashboard's own credentials; an accepted token is remembered for
:data:`ACCESS_TTL` seconds (by its hash), a rejected one never. Every Kubernetes call made
for the request then uses the caller's token (:class:`UserClients`), including the ``helm`` and ``kubectl`` runs of
the installation endpoints (:func:`kubeconfig_for`), so the cluster's RBAC decides what each user may see and do:
the dashboard impersonates nobody and holds no permission list of its own.

Which namespaces a caller may list ModelDeployments in is asked of the API server with access reviews and kept for
a short time per token (:class:`AccessCache`, keyed by the token's SHA-256, never the token itself). Remembering is
safe because the cluster checks the token again on every call made with it: a revoked token is refused by the API
server at once, and the dashboard's own answers (the cached list) follow within :data:`ACCESS_TTL` seconds.

A missing or rejected token is answered 401 with the header ``X-Airunway-Auth-Error: true`` (the web UI then asks
the user to log in again).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Generic, TypeVar

import yaml
from fastapi import Request
from fastapi.responses import JSONResponse

from airunway.kube.client import ApiClient, Client, Configuration
from airunway.kube.errors import ApiError
from airunway.kube.resources import SELFSUBJECTACCESSREVIEWS, TOKENREVIEWS

log = logging.getLogger("airunway.server.auth")

AUTH_ERROR_HEADER = "X-Airunway-Auth-Error"
AUTH_REQUIRED = "Authentication required"
PUBLIC_PATHS = frozenset({
    "/api/health", "/api/health/", "/api/health/version", "/api/cluster/status",
    "/api/settings", "/api/settings/", "/api/settings/providers", "/api/settings/providers/",
    "/api/providers", "/api/providers/",
})
PUBLIC_PREFIX = "/api/oauth"


def enabled_by_env() -> bool:
    return os.environ.get("AUTH_ENABLED", "").strip().lower() in ("true", "1")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path == PUBLIC_PREFIX or path.startswith(PUBLIC_PREFIX + "/")


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@dataclass
class User:
    username: str
    uid: str = ""
    groups: list[str] = field(default_factory=list)


class AuthFailed(Exception):
    pass


def unauthorized(message: str = AUTH_REQUIRED) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "statusCode": 401}}, status_code=401,
                        headers={AUTH_ERROR_HEADER: "true"})


async def review_token(client: Client, token: str) -> User:
    """The user the cluster says ``token`` belongs to; :class:`AuthFailed` with the reason otherwise."""
    if not token:
        raise AuthFailed("No token provided")
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    try:
        answer = await client.create(TOKENREVIEWS, review)
    except (ApiError, OSError) as exc:
        raise AuthFailed(getattr(exc, "message", "") or str(exc) or "Token review failed") from exc
    status = answer.get("status") or {}
    if not status.get("authenticated"):
        raise AuthFailed(status.get("error") or "Token not authenticated")
    user = status.get("user") or {}
    return User(user.get("username") or "unknown", user.get("uid") or "", list(user.get("groups") or []))


async def authenticate(request: Request, client: Client, reviews: "AccessCache[User] | None" = None
                       ) -> JSONResponse | None:
    """Check the request's Bearer token; on success remember the user and token on ``request.state``, on failure
    the 401 answer to send. ``reviews``: where accepted tokens are remembered (rejected ones never are)."""
    token = bearer_token(request)
    if token is None:
        return unauthorized()
    try:
        if reviews is None or not token:
            request.state.user = await review_token(client, token)
        else:
            request.state.user = await reviews.get(token_key(token), lambda: review_token(client, token))
    except AuthFailed as exc:
        return unauthorized(str(exc))
    request.state.token = token
    return None


class CallerClient(Client):
    """A client acting as one caller; ``key`` stands for the caller's token in caches (:func:`token_key`)."""

    key: str = ""


class UserClients:
    """Clients that call the API server with a user's token and the dashboard's cluster address and CA.

    They share one connection pool without the dashboard's client certificate (the API server would otherwise
    authenticate the certificate, not the token). They are cheap: make one per request, never close it.
    """

    def __init__(self, base: Client):
        self.base = base
        cfg = copy.deepcopy(base.configuration)
        cfg.cert_file = None
        cfg.key_file = None
        cfg.api_key = {}
        cfg.api_key_prefix = {}
        cfg.refresh_api_key_hook = None
        self._api = ApiClient(configuration=cfg)

    def for_token(self, token: str) -> "CallerClient":
        client = CallerClient(self._api, field_manager=self.base.field_manager,
                              request_timeout=self.base.request_timeout)
        cfg = copy.copy(self._api.configuration)
        cfg.api_key = {"BearerToken": f"Bearer {token}"}
        client.configuration = cfg
        client.key = token_key(token)
        return client

    async def close(self) -> None:
        await self._api.close()


async def access_review(client: Client, verb: str, group: str, resource: str, namespace: str | None = None) -> bool:
    """Whether the caller ``client`` acts for may do ``verb`` on ``resource`` (all namespaces when None); raises
    when the review cannot be made."""
    attributes = {"verb": verb, "group": group, "resource": resource}
    if namespace:
        attributes["namespace"] = namespace
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": attributes}}
    answer = await client.create(SELFSUBJECTACCESSREVIEWS, review)
    return bool((answer.get("status") or {}).get("allowed"))


async def may(client: Client, verb: str, group: str, resource: str, namespace: str | None = None) -> bool:
    """:func:`access_review`, with a review that cannot be made counted as "no"."""
    try:
        return await access_review(client, verb, group, resource, namespace)
    except (ApiError, OSError) as exc:
        log.debug("access review failed", extra={"error": str(exc)})
        return False


def kubeconfig_for(configuration: Configuration, token: str) -> str:
    """A kubeconfig (YAML text) for the cluster ``configuration`` points at, authenticating with ``token`` only
    (no client certificate): what ``helm`` and ``kubectl`` run with for a caller."""
    cluster: dict = {"server": configuration.host}
    if configuration.ssl_ca_cert:
        cluster["certificate-authority-data"] = base64.b64encode(Path(configuration.ssl_ca_cert).read_bytes()).decode()
    if not configuration.verify_ssl:
        cluster["insecure-skip-tls-verify"] = True
    if getattr(configuration, "tls_server_name", None):
        cluster["tls-server-name"] = configuration.tls_server_name
    if configuration.proxy:
        cluster["proxy-url"] = configuration.proxy
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "caller",
        "clusters": [{"name": "cluster", "cluster": cluster}],
        "users": [{"name": "caller", "user": {"token": token}}],
        "contexts": [{"name": "caller", "context": {"cluster": "cluster", "user": "caller"}}],
    })


def token_key(token: str) -> str:
    """What a token is known by in memory: its SHA-256 (the token itself is never kept or logged)."""
    return hashlib.sha256(token.encode()).hexdigest()


T = TypeVar("T")

ACCESS_TTL = 15.0  # seconds a caller's access is remembered
ACCESS_ENTRIES = 10_000  # answers (token and question) remembered at most; the least recently used go first


class AccessCache(Generic[T]):
    """Answers about a caller's access, per key (a token's hash and the question), for ``ttl`` seconds, at most
    ``size`` of them. Callers asking the same question at once share one computation."""

    def __init__(self, ttl: float = ACCESS_TTL, size: int = ACCESS_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._pending: dict[str, asyncio.Future] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: str) -> T | None:
        """The answer remembered for ``key``, None when there is none (or it expired)."""
        found = self._entries.get(key)
        if found is None or found[0] <= self.clock():
            return None
        self._entries.move_to_end(key)
        return found[1]

    async def get(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        found = self._entries.get(key)
        if found is not None:
            if found[0] > self.clock():
                self._entries.move_to_end(key)
                return found[1]
            del self._entries[key]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no warning when nobody else waits
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        self._entries[key] = (self.clock() + self.ttl, value)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value
