"""An HTTPS admission webhook server: AdmissionReview in, AdmissionReview out.

Handlers are registered per path and receive an :class:`AdmissionRequest`; they answer with an
:class:`AdmissionResponse`, usually made by :func:`allowed`, :func:`denied`, :func:`errored` or :func:`patched`
(a mutation as a JSON Patch from the request's object to the changed object). :func:`mutating` and
:func:`validating` wrap plain functions into handlers.

The server behaves like controller-runtime's:

* a request the server cannot read as an AdmissionReview (not JSON, no ``request``, too large) gets HTTP 400
  with an AdmissionReview saying why; a handler that fails answers "not allowed" with code 500, never a crash;
* TLS comes from ``tls.crt``/``tls.key`` in the certificate folder and is reloaded when the files change, so a
  rotated certificate is served without a restart;
* only HTTP/1.1 is offered (ALPN): the HTTP/2 attacks of 2023 (rapid reset) stay out, and aiohttp speaks no
  HTTP/2 anyway, so ``--enable-http2`` changes nothing here.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from airunway.kube.health import server_tls

log = logging.getLogger("airunway.kube.webhook")

ADMISSION_API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
MAX_REQUEST_BYTES = 7 * 1024 * 1024  # an object and its old version, each up to etcd's 1.5 MiB, with room to spare
RELOAD_INTERVAL = 2.0  # seconds between looks at the certificate files


class ReviewError(ValueError):
    """The body is not an AdmissionReview this server can answer."""


@dataclass
class AdmissionRequest:
    """The ``request`` of an AdmissionReview, with the objects decoded."""

    uid: str
    operation: str  # CREATE, UPDATE, DELETE, CONNECT
    kind: dict[str, str] = field(default_factory=dict)  # group, version, kind
    resource: dict[str, str] = field(default_factory=dict)
    sub_resource: str = ""
    name: str = ""
    namespace: str = ""
    object: Any = None
    old_object: Any = None
    user_info: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    api_version: str = ADMISSION_API_VERSIONS[0]  # of the review, echoed in the answer


@dataclass
class AdmissionResponse:
    """A handler's answer (the ``response`` of an AdmissionReview, without the uid)."""

    allowed: bool
    status: dict[str, Any] | None = None  # a metav1.Status: code, reason, message
    warnings: list[str] = field(default_factory=list)
    patch: list[dict[str, Any]] | None = None  # JSON Patch operations

    def to_dict(self, uid: str) -> dict[str, Any]:
        out: dict[str, Any] = {"uid": uid, "allowed": self.allowed}
        if self.status:
            out["status"] = dict(self.status)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.patch:
            out["patchType"] = "JSONPatch"
            out["patch"] = base64.b64encode(json.dumps(self.patch, separators=(",", ":")).encode()).decode()
        return out


Handler = Callable[[AdmissionRequest], Awaitable[AdmissionResponse]]


def allowed(warnings: list[str] | None = None) -> AdmissionResponse:
    return AdmissionResponse(True, warnings=list(warnings or []))


def denied(status: Mapping[str, Any], warnings: list[str] | None = None) -> AdmissionResponse:
    return AdmissionResponse(False, status=dict(status), warnings=list(warnings or []))


def errored(code: int, message: str) -> AdmissionResponse:
    """Not allowed because the request could not be handled (``code`` 400: bad input, 500: our failure)."""
    return AdmissionResponse(False, status={"code": code, "message": message})


def patched(original: Any, mutated: Any, warnings: list[str] | None = None) -> AdmissionResponse:
    """Allowed, with the JSON Patch that turns ``original`` into ``mutated`` (none when they are equal)."""
    return AdmissionResponse(True, warnings=list(warnings or []), patch=json_patch(original, mutated) or None)


# --------------------------------------------------------------------------------------------- JSON Patch


def _pointer(path: str, key: str | int) -> str:
    """``path`` extended by one reference token (RFC 6901 escaping)."""
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1``, ``1.0`` and ``true`` are three different values."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b and isinstance(a, float) == isinstance(b, float)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def json_patch(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """RFC 6902 operations that turn ``old`` into ``new``: object members added, removed or changed one by one,
    lists of equal length element by element, any other list replaced whole."""
    if _same(old, new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        ops = [{"op": "remove", "path": _pointer(path, k)} for k in old if k not in new]
        for key, value in new.items():
            if key not in old:
                ops.append({"op": "add", "path": _pointer(path, key), "value": value})
            else:
                ops += json_patch(old[key], value, _pointer(path, key))
        return ops
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        ops = []
        for index, (a, b) in enumerate(zip(old, new)):
            ops += json_patch(a, b, _pointer(path, index))
        return ops
    return [{"op": "replace", "path": path, "value": new}]


# --------------------------------------------------------------------------------------------- reviews


def parse_review(body: bytes | str) -> AdmissionRequest:
    """The request of an AdmissionReview body; :class:`ReviewError` says what is wrong with it."""
    if not body:
        raise ReviewError("request body is empty")
    try:
        review = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReviewError(f"request body is not JSON: {exc}") from None
    if not isinstance(review, dict):
        raise ReviewError("request body is not an AdmissionReview object")
    if review.get("kind") != "AdmissionReview" or review.get("apiVersion") not in ADMISSION_API_VERSIONS:
        raise ReviewError(
            f"expected an AdmissionReview of {' or '.join(ADMISSION_API_VERSIONS)}, "
            f"got kind {review.get('kind')!r} apiVersion {review.get('apiVersion')!r}"
        )
    request = review.get("request")
    if not isinstance(request, dict):
        raise ReviewError("the AdmissionReview has no request")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError("the AdmissionReview request has no uid")

    def mapping(key: str) -> dict:
        value = request.get(key)
        return value if isinstance(value, dict) else {}

    return AdmissionRequest(
        uid=uid,
        operation=str(request.get("operation") or ""),
        kind=mapping("kind"),
        resource=mapping("resource"),
        sub_resource=str(request.get("subResource") or ""),
        name=str(request.get("name") or ""),
        namespace=str(request.get("namespace") or ""),
        object=request.get("object"),
        old_object=request.get("oldObject"),
        user_info=mapping("userInfo"),
        dry_run=bool(request.get("dryRun")),
        api_version=review["apiVersion"],
    )


def review_response(request: AdmissionRequest | None, response: AdmissionResponse) -> dict[str, Any]:
    """The AdmissionReview answering ``request`` (None: a body that was not a review; the uid is then empty)."""
    return {
        "apiVersion": request.api_version if request else ADMISSION_API_VERSIONS[0],
        "kind": "AdmissionReview",
        "response": response.to_dict(request.uid if request else ""),
    }


def mutating(mutate: Callable[[AdmissionRequest], Any]) -> Handler:
    """A handler from ``mutate(request) -> changed object`` (sync or async; it must not change ``request.object``).

    The answer carries the JSON Patch from the request's object to the changed one; DELETE and CONNECT are let
    through unchanged, since there is no object to change.
    """

    async def handle(request: AdmissionRequest) -> AdmissionResponse:
        if request.operation not in ("CREATE", "UPDATE"):
            return allowed()
        if not isinstance(request.object, dict):
            return errored(400, "the request has no object to default")
        result = mutate(request)
        if inspect.isawaitable(result):
            result = await result
        return patched(request.object, result)

    return handle


def validating(validate: Callable[[AdmissionRequest], Any]) -> Handler:
    """A handler from ``validate(request) -> AdmissionResponse`` (sync or async)."""

    async def handle(request: AdmissionRequest) -> AdmissionResponse:
        result = validate(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    return handle


# --------------------------------------------------------------------------------------------- server


class CertificateFiles:
    """A TLS context serving the pair in a folder, reloaded when the files change.

    The listening socket keeps one context; each handshake is switched to the context of the newest pair that
    loaded cleanly, so a half-written or mismatched pair never replaces a working one.
    """

    def __init__(self, cert_dir: Path, cert_name: str = "tls.crt", key_name: str = "tls.key"):
        self.cert_file = Path(cert_dir) / cert_name
        self.key_file = Path(cert_dir) / key_name
        self.context: ssl.SSLContext | None = None  # the listening socket's
        self.current: ssl.SSLContext | None = None  # the one handshakes use
        self._stamp: tuple | None = None
        self._refused: tuple | None = None  # the files that last failed to load, not retried until they change

    def _current_stamp(self) -> tuple:
        stamps = []
        for path in (self.cert_file, self.key_file):
            st = path.stat()
            stamps.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def _use_current(self, tls: ssl.SSLObject, _server_name: str | None, _context: ssl.SSLContext) -> None:
        if self.current is not None and tls.context is not self.current:
            tls.context = self.current

    def load(self) -> ssl.SSLContext:
        """The listening context (created on the first call, from files that must exist)."""
        if self.context is None:
            self._stamp = self._current_stamp()
            self.current = server_tls(self.cert_file, self.key_file)
            self.context = server_tls(self.cert_file, self.key_file)
            self.context.sni_callback = self._use_current
        return self.context

    def reload_if_changed(self) -> bool:
        """Load the files again if they changed; a pair that does not load keeps the previous one in use."""
        if self.context is None:
            return False
        try:
            stamp = self._current_stamp()
        except OSError:
            return False  # a file is missing for now: keep serving, look again later
        if stamp in (self._stamp, self._refused):
            return False
        try:
            fresh = server_tls(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            self._refused = stamp
            log.warning("cannot load the new webhook certificate; serving the previous one",
                        extra={"cert": str(self.cert_file), "error": str(exc)})
            return False
        self.current, self._stamp = fresh, stamp
        log.info("reloaded the webhook serving certificate", extra={"cert": str(self.cert_file)})
        return True


class WebhookServer:
    """Serves registered admission handlers over HTTPS until stopped."""

    def __init__(
        self,
        *,
        host: str = "",
        port: int = 9443,
        cert_dir: Path,
        cert_name: str = "tls.crt",
        key_name: str = "tls.key",
        reload_interval: float = RELOAD_INTERVAL,
    ):
        self.host = host or None
        self.port = port
        self.certificates = CertificateFiles(cert_dir, cert_name, key_name)
        self.reload_interval = reload_interval
        self.handlers: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None
        self.serving = asyncio.Event()

    def register(self, path: str, handler: Handler) -> None:
        if not path.startswith("/"):
            raise ValueError(f"webhook path {path!r} must start with /")
        if path in self.handlers:
            raise ValueError(f"a webhook is already registered at {path}")
        self.handlers[path] = handler

    def readiness(self) -> str | None:
        """A readiness check: None while the server accepts connections."""
        return None if self.serving.is_set() else "the webhook server is not serving yet"

    async def answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The HTTP status and AdmissionReview for a POST of ``body`` to ``path`` (the server without HTTP)."""
        handler = self.handlers.get(path)
        if handler is None:
            return 404, review_response(None, errored(404, f"no webhook is served at {path}"))
        try:
            request = parse_review(body)
        except ReviewError as exc:
            return 400, review_response(None, errored(400, str(exc)))
        try:
            response = await handler(request)
        except Exception as exc:  # noqa: BLE001 - a handler bug refuses this request, the server stays up
            log.exception("admission handler failed", extra={"path": path, "uid": request.uid})
            response = errored(500, f"internal error: {exc}")
        return 200, review_response(request, response)

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response(
                review_response(None, errored(400, f"request body is larger than {MAX_REQUEST_BYTES} bytes")),
                status=400,
            )
        status, review = await self.answer(request.path, body)
        return web.json_response(review, status=status)

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        for path in self.handlers:
            app.router.add_post(path, self._handle)
        return app

    async def start(self) -> None:
        """Listen (the certificate files must exist)."""
        context = self.certificates.load()
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=context, reuse_address=True)
        await site.start()
        if self._runner.addresses:
            self.port = self._runner.addresses[0][1]
        self.serving.set()
        log.info("serving admission webhooks", extra={"address": f"{self.host or ''}:{self.port}",
                                                      "paths": sorted(self.handlers)})

    async def stop(self) -> None:
        self.serving.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def run(self) -> None:
        """Serve, reloading the certificate when its files change, until cancelled."""
        await self.start()
        try:
            while True:
                await asyncio.sleep(self.reload_interval)
                self.certificates.reload_if_changed()
        finally:
            await self.stop()
