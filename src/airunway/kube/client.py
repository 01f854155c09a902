"""A small asynchronous Kubernetes client over plain JSON dicts.

:func:`load_config` finds credentials (an explicit kubeconfig, ``$KUBECONFIG``, the in-cluster service
account, then ``~/.kube/config``). :class:`Client` speaks to any resource by its :class:`Resource`
(group, version, plural, scope): get, list (paginated), watch (a stream of :class:`WatchEvent`), create,
update, merge/JSON patch, server-side apply (also on the status subresource) and delete. Objects are plain
dicts exactly as the API server sends them. Errors raise the classes in :mod:`airunway.kube.errors`.

Credentials and TLS come from :mod:`airunway.kube.kubeconfig`; requests go through one aiohttp session per
:class:`ApiClient`, with no model (de)serialisation on the path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import ssl
import urllib.request
from dataclasses import dataclass
from sys import intern
from typing import Any, AsyncIterator, Mapping, NamedTuple
from urllib.parse import urlencode, urlsplit

import aiohttp

from airunway import __version__
from airunway.kube.errors import Gone, NotFound, TooManyRequests, error_from_status
from airunway.kube.kubeconfig import ConfigError, Configuration, load_config  # noqa: F401 - ConfigError re-exported
from airunway.kube.resources import Resource
from airunway.kube.selectors import selector_string

log = logging.getLogger("airunway.kube.client")

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"  # a JSON body is valid YAML

DEFAULT_FIELD_MANAGER = "airunway"
_THROTTLE_RETRIES = 5


class ApiClient:
    """One connection pool to the API server for a :class:`Configuration`, shared by every :class:`Client` made
    on it.

    TLS comes from the configuration's files. The proxy is decided once, here: the kubeconfig's ``proxy-url``, else
    ``HTTPS_PROXY``/``HTTP_PROXY`` unless ``NO_PROXY`` names the server. The session does not read the environment
    again per request (no ``.netrc`` or proxy lookups on the request path).
    """

    def __init__(self, configuration: Configuration | None = None):
        self.configuration = configuration or Configuration()
        self.proxy = proxy_for(self.configuration)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            cfg = self.configuration
            context = ssl.create_default_context(cafile=cfg.ssl_ca_cert)
            if cfg.cert_file:
                context.load_cert_chain(cfg.cert_file, keyfile=cfg.key_file)
            if not cfg.verify_ssl:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            # aiohttp's default read buffer (64 KiB): watch lines of any size are joined in :meth:`Client.watch`, and
            # a small buffer keeps a burst of events in the socket rather than in this process's memory.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ssl=context), trust_env=False
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def proxy_for(configuration: Configuration) -> str | None:
    """The proxy requests to ``configuration.host`` go through, if any."""
    if configuration.proxy:
        return configuration.proxy
    url = urlsplit(configuration.host)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass_environment(url.hostname or "", proxies):
        return None
    return proxy


class WatchEvent(NamedTuple):
    type: str  # ADDED, MODIFIED, DELETED or BOOKMARK
    object: dict


@dataclass
class ObjectList:
    items: list[dict]
    resource_version: str


_SHARED_LENGTH = 64


def _shared_strings(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object with its keys and short string values interned: the thousands of objects a watch cache holds
    then share one copy of each ("metadata", "apps/v1", "True"…), about 40% less memory per cached object."""
    return {intern(k): (intern(v) if v.__class__ is str and len(v) <= _SHARED_LENGTH else v) for k, v in pairs}


def loads_shared(payload: bytes | str) -> Any:
    """Parse JSON as :func:`json.loads` does, sharing strings between objects (for what caches keep)."""
    return json.loads(payload, object_pairs_hook=_shared_strings)


def _query(**params: Any) -> dict[str, str]:
    out = {}
    for key, value in params.items():
        if value is None or value == "":
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class Client:
    """Asynchronous access to the API server with dict objects. Use ``async with await Client.connect()``."""

    def __init__(
        self,
        api_client: ApiClient,
        *,
        field_manager: str = DEFAULT_FIELD_MANAGER,
        request_timeout: float = 60.0,
    ):
        self.api_client = api_client
        self.configuration: Configuration = api_client.configuration
        self.field_manager = field_manager
        self.request_timeout = request_timeout
        self._user_agent = f"airunway/{__version__} ({field_manager})"
        self._discovery: dict[str, dict[str, Resource]] = {}

    @classmethod
    async def connect(
        cls,
        kubeconfig: str | os.PathLike | None = None,
        *,
        context: str | None = None,
        field_manager: str = DEFAULT_FIELD_MANAGER,
        request_timeout: float = 60.0,
    ) -> "Client":
        """A client for the cluster :func:`load_config` finds."""
        cfg = await load_config(kubeconfig, context=context)
        return cls(ApiClient(configuration=cfg), field_manager=field_manager, request_timeout=request_timeout)

    async def close(self) -> None:
        await self.api_client.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def host(self) -> str:
        return self.configuration.host

    # -- raw requests ----------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
        timeout: aiohttp.ClientTimeout | None = None,
        accept: str = JSON,
    ) -> aiohttp.ClientResponse:
        headers = {"Accept": accept, "User-Agent": self._user_agent}
        authorization = await self.configuration.authorization()
        if authorization:
            headers["Authorization"] = authorization
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = encode_body(body)
        url = self.configuration.host + path
        if query:
            url += "?" + urlencode(query)
        kwargs: dict[str, Any] = {}
        if self.api_client.proxy:
            kwargs["proxy"] = self.api_client.proxy
            if self.configuration.proxy_headers:
                kwargs["proxy_headers"] = self.configuration.proxy_headers
        if self.configuration.tls_server_name:
            kwargs["server_hostname"] = self.configuration.tls_server_name
        return await self.api_client.session.request(
            method,
            url,
            data=data,
            headers=headers,
            timeout=timeout or aiohttp.ClientTimeout(total=self.request_timeout),
            **kwargs,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
        shared: bool = False,
    ) -> Any:
        """One request; the parsed JSON answer, or an :class:`ApiError`. Throttling (429) is retried.
        ``shared``: parse with :func:`loads_shared` (an answer a cache keeps)."""
        for attempt in range(_THROTTLE_RETRIES + 1):
            async with await self._send(method, path, query=query, body=body, content_type=content_type) as resp:
                payload = await resp.read()
                if 200 <= resp.status < 300:
                    if not payload:
                        return {}
                    return loads_shared(payload) if shared else json.loads(payload)
                err = error_from_status(resp.status, payload)
                if isinstance(err, TooManyRequests) and attempt < _THROTTLE_RETRIES:
                    retry_after = err.retry_after or float(resp.headers.get("Retry-After") or 1)
                    await asyncio.sleep(min(retry_after, 10.0))
                    continue
                raise err
        raise AssertionError("unreachable")

    async def request_text(
        self, path: str, *, query: Mapping[str, str] | None = None, timeout: float | None = None
    ) -> str:
        """A GET whose answer is text, not JSON (pod logs, a service's ``/metrics`` through the API server proxy);
        errors raise :class:`ApiError` like :meth:`request`."""
        limit = aiohttp.ClientTimeout(total=timeout) if timeout else None
        async with await self._send("GET", path, query=query, timeout=limit, accept="*/*") as resp:
            payload = await resp.read()
            if 200 <= resp.status < 300:
                return payload.decode("utf-8", "replace")
            raise error_from_status(resp.status, payload)

    async def open(
        self, method: str, path: str, *, body: Any = None, accept: str = JSON, read_timeout: float = 300.0
    ) -> aiohttp.ClientResponse:
        """A request whose answer is read by the caller as it arrives (a stream through the API server's service
        proxy); the caller releases the response. Any status is returned, errors included."""
        limit = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=read_timeout)
        return await self._send(method, path, body=body, timeout=limit, accept=accept)

    # -- reading ---------------------------------------------------------------------------------------

    async def get(self, resource: Resource, name: str, namespace: str | None = None, *, subresource: str | None = None) -> dict:
        return await self.request("GET", resource.path(namespace, name, subresource))

    async def get_or_none(self, resource: Resource, name: str, namespace: str | None = None) -> dict | None:
        try:
            return await self.get(resource, name, namespace)
        except NotFound:
            return None

    async def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: Any = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
    ) -> dict:
        """One page of a list: the raw ``…List`` dict (``items``, ``metadata.resourceVersion``, ``metadata.continue``)."""
        query = _query(
            labelSelector=selector_string(label_selector),
            fieldSelector=field_selector,
            limit=limit,
            resourceVersion=resource_version,
            **{"continue": continue_},
        )
        return await self.request("GET", resource.path(namespace), query=query, shared=True)

    async def list_all(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: Any = None,
        field_selector: str | None = None,
        page_size: int = 500,
    ) -> ObjectList:
        """Every matching object, read page by page from one consistent snapshot, and that snapshot's version."""
        items: list[dict] = []
        token: str | None = None
        limit: int | None = page_size
        while True:
            try:
                page = await self.list(
                    resource, namespace, label_selector=label_selector, field_selector=field_selector,
                    limit=limit, continue_=token,
                )
            except Gone:
                if token is None:
                    raise
                # The continue token expired between pages: read everything again in one request.
                items, token, limit = [], None, None
                continue
            kind = (page.get("kind") or "").removesuffix("List")
            for item in page.get("items") or []:
                # List items come without apiVersion/kind; put them back so every object is self-describing.
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind or kind)
                items.append(item)
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return ObjectList(items, meta.get("resourceVersion", ""))

    async def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: Any = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncIterator[WatchEvent]:
        """Events after ``resource_version`` until the server ends the watch (``timeout_seconds``).

        An ``ERROR`` event raises the matching :class:`ApiError` (410 :class:`Gone` when the version is too old).
        """
        query = _query(
            watch=True,
            resourceVersion=resource_version,
            allowWatchBookmarks=allow_bookmarks,
            timeoutSeconds=timeout_seconds,
            labelSelector=selector_string(label_selector),
            fieldSelector=field_selector,
        )
        # The server closes the stream after timeoutSeconds; the read timeout only catches a dead connection.
        read_timeout = (timeout_seconds or 1800) + 30
        timeout = aiohttp.ClientTimeout(total=None, connect=30, sock_connect=30, sock_read=read_timeout)
        resp = await self._send("GET", resource.path(namespace), query=query, timeout=timeout)
        try:
            if resp.status != 200:
                raise error_from_status(resp.status, await resp.read())
            buf = bytearray()
            async for chunk in resp.content.iter_any():
                buf.extend(chunk)
                start = 0
                while (end := buf.find(b"\n", start)) >= 0:
                    line = bytes(buf[start:end])
                    start = end + 1
                    if line.strip():
                        yield _watch_event(line, resource)
                del buf[:start]
            if buf.strip():
                yield _watch_event(bytes(buf), resource)
        finally:
            resp.close()

    # -- writing ---------------------------------------------------------------------------------------

    async def create(self, resource: Resource, obj: dict, namespace: str | None = None) -> dict:
        namespace = namespace or (obj.get("metadata") or {}).get("namespace")
        return await self.request("POST", resource.path(namespace if resource.namespaced else None), body=obj)

    async def update(self, resource: Resource, obj: dict, *, subresource: str | None = None) -> dict:
        """PUT the whole object; its ``metadata.resourceVersion`` makes this fail with Conflict if it changed."""
        meta = obj.get("metadata") or {}
        path = resource.path(meta.get("namespace") if resource.namespaced else None, meta["name"], subresource)
        return await self.request("PUT", path, body=obj)

    async def update_status(self, resource: Resource, obj: dict) -> dict:
        return await self.update(resource, obj, subresource="status")

    async def patch_merge(
        self, resource: Resource, name: str, patch: dict, namespace: str | None = None, *, subresource: str | None = None
    ) -> dict:
        """A JSON merge patch (RFC 7386): maps merge, lists and scalars replace, ``None`` deletes a key."""
        return await self.request(
            "PATCH", resource.path(namespace, name, subresource), body=patch, content_type=MERGE_PATCH
        )

    async def patch_json(
        self, resource: Resource, name: str, ops: list[dict], namespace: str | None = None, *, subresource: str | None = None
    ) -> dict:
        """A JSON patch (RFC 6902); a ``test`` op makes it conditional."""
        return await self.request("PATCH", resource.path(namespace, name, subresource), body=ops, content_type=JSON_PATCH)

    async def apply(
        self,
        obj: dict,
        *,
        field_manager: str | None = None,
        force: bool = True,
        resource: Resource | None = None,
        subresource: str | None = None,
    ) -> dict:
        """Server-side apply ``obj`` (which names its apiVersion, kind, name and namespace) as ``field_manager``.

        The resource is found by discovery unless given. ``force`` takes over fields other managers own.
        """
        resource = resource or await self.resource_for(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata") or {}
        path = resource.path(meta.get("namespace") if resource.namespaced else None, meta["name"], subresource)
        query = _query(fieldManager=field_manager or self.field_manager, force=force)
        return await self.request("PATCH", path, query=query, body=obj, content_type=APPLY_PATCH)

    async def apply_status(
        self, obj: dict, *, field_manager: str | None = None, force: bool = True, resource: Resource | None = None
    ) -> dict:
        """Server-side apply of the status subresource (``obj`` holds apiVersion, kind, metadata and status)."""
        return await self.apply(obj, field_manager=field_manager, force=force, resource=resource, subresource="status")

    async def delete(
        self,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str | None = None,
        preconditions: dict | None = None,
        ignore_not_found: bool = False,
    ) -> dict | None:
        """Delete one object (``propagation_policy``: Foreground, Background or Orphan); None if already gone."""
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        if preconditions:
            body["preconditions"] = preconditions
        try:
            return await self.request("DELETE", resource.path(namespace, name), body=body)
        except NotFound:
            if ignore_not_found:
                return None
            raise

    # -- discovery -------------------------------------------------------------------------------------

    async def resource_for(self, api_version: str, kind: str) -> Resource:
        """The :class:`Resource` serving ``kind`` in ``api_version``, from discovery (cached; refreshed on a miss)."""
        for refresh in (False, True):
            if refresh or api_version not in self._discovery:
                self._discovery[api_version] = await self._discover(api_version)
            found = self._discovery[api_version].get(kind)
            if found:
                return found
        raise NotFound(404, "NotFound", f"the server has no resource of kind {kind} in {api_version}")

    async def _discover(self, api_version: str) -> dict[str, Resource]:
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{api_version}" if group else f"/api/{api_version}"
        try:
            listing = await self.request("GET", path)
        except NotFound:
            return {}
        found = {}
        for r in listing.get("resources") or []:
            if "/" in r["name"]:
                continue
            found[r["kind"]] = Resource(group, version, r["name"], bool(r.get("namespaced")), r["kind"])
        return found


_ESCAPED = re.compile("[\u007f-\uffff]")


def encode_body(body: Any) -> bytes:
    """``body`` as JSON that is also the YAML the API server reads a server-side apply body as.

    ``application/apply-patch+yaml`` bodies are parsed as YAML, whose ``\\u`` escapes cannot spell a character
    outside the Basic Multilingual Plane as a JSON surrogate pair: the API server refuses ``"\\ud83d\\ude80"`` (an
    emoji) with "found invalid Unicode character escape code". So those characters go as themselves (UTF-8), which
    YAML reads; the rest of the non-ASCII (and DEL, a control character YAML refuses raw) stays escaped, as YAML
    reads ``\\u`` escapes of it but not every such character raw (C1 controls, U+FEFF, and U+2028, which it would
    fold as a line break). A lone surrogate, which is not a character, stays escaped for the API server to judge.
    """
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    if not text.isascii():
        text = _ESCAPED.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
    return text.encode("utf-8")


def _watch_event(line: bytes, resource: Resource) -> WatchEvent:
    event = loads_shared(line)
    kind, obj = event.get("type", ""), event.get("object") or {}
    if kind == "ERROR":
        raise error_from_status(int(obj.get("code") or 500), obj)
    obj.setdefault("apiVersion", resource.api_version)
    if resource.kind:
        obj.setdefault("kind", resource.kind)
    return WatchEvent(kind, obj)

