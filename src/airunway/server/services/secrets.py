"""The HuggingFace token, kept as the Secret ``hf-token-secret`` (key ``HF_TOKEN``) in every namespace a provider
may run models in, so gated models can be downloaded wherever they are deployed: the namespace each registered
InferenceProviderConfig names (the one the deploy form starts with), and ``default``.

The token is checked with HuggingFace (who does it belong to) before it is stored, and never leaves this module: not
in a response, a log line or an error message. The client given is the caller's when authentication is on: when the
cluster refuses it in any namespace, the first refusal is raised (:class:`~airunway.kube.errors.Forbidden`) after
every namespace was tried.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import Any, Awaitable, Callable

from airunway.api.provider_annotations import DEFAULT_NAMESPACE, decode, unique
from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.errors import ApiError, Conflict, Forbidden, NotFound
from airunway.kube.resources import NAMESPACES, SECRETS

log = logging.getLogger("airunway.server.secrets")

SECRET_NAME = "hf-token-secret"
TOKEN_KEY = "HF_TOKEN"
LABELS = {"app.kubernetes.io/managed-by": "airunway", "airunway.ai/secret-type": "huggingface-token"}
WRITE_ATTEMPTS = 3

WhoAmI = Callable[[str], Awaitable[dict[str, Any]]]
"""Given a token, the HuggingFace user it belongs to; raises ``ValueError`` (with a message free of the token)
when HuggingFace refuses it."""


def _secret(namespace: str, token: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": SECRET_NAME, "namespace": namespace, "labels": dict(LABELS)},
            "stringData": {TOKEN_KEY: token}}


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ApiError) else type(exc).__name__


class HuggingFaceSecrets:
    def __init__(self, client: Client, whoami: WhoAmI, directory: Client | None = None) -> None:
        """``client`` reads and writes the Secrets (the caller's when authentication is on); ``directory`` lists the
        registered providers, public facts the dashboard reads with its own identity (default: ``client``)."""
        self.client = client
        self.whoami = whoami
        self.directory = directory or client

    async def target_namespaces(self) -> list[str]:
        """The namespace of every registered provider, in the order the API server lists them, and ``default``; each
        once."""
        configs = (await self.directory.list_all(INFERENCE_PROVIDER_CONFIGS)).items
        return unique([decode((c.get("metadata") or {}).get("annotations")).namespace() for c in configs]
                      + [DEFAULT_NAMESPACE])

    async def _token(self, namespaces: list[str]) -> str | None:
        """The stored token of the first target namespace that has one."""
        for namespace in namespaces:
            found = await self.client.get_or_none(SECRETS, SECRET_NAME, namespace)
            encoded = ((found or {}).get("data") or {}).get(TOKEN_KEY)
            if encoded:
                try:
                    return base64.b64decode(encoded).decode().strip() or None
                except (binascii.Error, UnicodeDecodeError):
                    continue
        return None

    async def status(self) -> dict[str, Any]:
        namespaces = []
        targets = await self.target_namespaces()
        for namespace in targets:
            namespaces.append({"name": namespace,
                               "exists": await self.client.get_or_none(SECRETS, SECRET_NAME, namespace) is not None})
        out: dict[str, Any] = {"configured": any(n["exists"] for n in namespaces), "namespaces": namespaces}
        if out["configured"]:
            token = await self._token(targets)
            if token:
                try:
                    out["user"] = await self.whoami(token)
                except (ValueError, OSError) as exc:
                    log.info("the stored HuggingFace token is not accepted", extra={"error": str(exc)})
        return out

    async def _ensure_namespace(self, namespace: str) -> None:
        try:
            found = await self.client.get_or_none(NAMESPACES, namespace)
        except Forbidden:
            return  # the caller may not read namespaces: writing the Secret tells whether it may write there
        if found is None:
            try:
                await self.client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": namespace}})
            except Conflict:
                pass

    async def _write(self, namespace: str, token: str) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            existing = await self.client.get_or_none(SECRETS, SECRET_NAME, namespace)
            try:
                if existing is None:
                    await self.client.create(SECRETS, _secret(namespace, token), namespace)
                else:
                    secret = _secret(namespace, token)
                    secret["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
                    secret["metadata"]["labels"] = {**(existing["metadata"].get("labels") or {}), **LABELS}
                    await self.client.update(SECRETS, secret)
                return
            except (Conflict, NotFound):
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))

    async def save(self, token: str) -> tuple[bool, dict[str, Any]]:
        """Store ``token`` in every target namespace (creating the namespace when needed), one after the other.
        Gives whether all succeeded and the user the token belongs to; raises ``ValueError`` when HuggingFace
        refuses the token (nothing is stored then)."""
        user = await self.whoami(token)
        results = []
        refused: list[Forbidden] = []
        for namespace in await self.target_namespaces():
            try:
                await self._ensure_namespace(namespace)
            except Forbidden as exc:
                refused.append(exc)
                results.append({"namespace": namespace, "success": False, "error": "Failed to create namespace"})
                continue
            except (ApiError, OSError) as exc:
                log.warning("cannot create a namespace for the HuggingFace token",
                            extra={"namespace": namespace, "error": _reason(exc)})
                results.append({"namespace": namespace, "success": False, "error": "Failed to create namespace"})
                continue
            try:
                await self._write(namespace, token)
                results.append({"namespace": namespace, "success": True})
            except Forbidden as exc:
                refused.append(exc)
                results.append({"namespace": namespace, "success": False, "error": _reason(exc)})
            except (ApiError, OSError) as exc:
                log.warning("cannot store the HuggingFace token",
                            extra={"namespace": namespace, "error": _reason(exc)})
                results.append({"namespace": namespace, "success": False, "error": _reason(exc)})
        if refused:
            raise refused[0]
        return all(r["success"] for r in results), {"user": user, "results": results}

    async def delete(self) -> dict[str, Any]:
        """Delete the Secret in every target namespace. As upstream, a namespace without one counts as not deleted
        (``success: false`` there, and overall), so deleting when nothing is stored says so."""
        results = []
        refused: list[Forbidden] = []
        for namespace in await self.target_namespaces():
            try:
                await self.client.delete(SECRETS, SECRET_NAME, namespace)
                results.append({"namespace": namespace, "success": True})
            except Forbidden as exc:
                refused.append(exc)
            except (ApiError, OSError) as exc:
                results.append({"namespace": namespace, "success": False, "error": _reason(exc)})
        if refused:
            raise refused[0]
        ok = all(r["success"] for r in results)
        return {"success": ok, "message": "HuggingFace secrets deleted successfully" if ok
                else "Some secrets could not be deleted", "results": results}
