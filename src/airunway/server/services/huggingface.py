"""The HuggingFace Hub: model search, a repository's GGUF files, model configs, who a token belongs to, and the
OAuth token exchange.

The Hub is ``$HF_ENDPOINT`` (the variable HuggingFace's own tools read), else https://huggingface.co; OAuth goes to
the same host. A user's token is sent as a Bearer token and never logged or put in an error. A Hub that cannot be
reached raises :class:`HubUnreachable` (the routes answer 502, or 504 on a timeout); a Hub that answers with an
error status gives no results, as upstream.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import httpx

from airunway.server.services.compatibility import describe_model, valid_repo_id

log = logging.getLogger("airunway.server.huggingface")

DEFAULT_HUB = "https://huggingface.co"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
SEARCH_TAGS = ("text-generation", "image-text-to-text")
SEARCH_EXPAND = ("safetensors", "gated", "config", "pipeline_tag", "library_name", "tags", "downloads", "likes")
CONFIG_TTL = 3600.0
CONFIG_CACHE_SIZE = 500
TEXT_CONFIGS = ("text_config", "llm_config", "language_config")


class HubUnreachable(Exception):
    """The Hub did not answer (connection refused, DNS, timeout); ``timeout`` tells which kind."""

    def __init__(self, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class HubError(Exception):
    """The Hub answered with an error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TokenInvalid(ValueError):
    """A token that cannot be a HuggingFace token (not printable ASCII); it is never sent."""


def hub_url() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_HUB).rstrip("/")


def _headers(token: str | None) -> dict[str, str]:
    if not token:
        return {}
    if not (token.isascii() and token.isprintable()) or " " in token or len(token) > 1024:
        raise TokenInvalid("The HuggingFace token is malformed: it must be printable ASCII without spaces")
    return {"Authorization": f"Bearer {token}"}


def repo_path(repo_id: str) -> str:
    return "/".join(quote(part, safe="") for part in repo_id.split("/"))


async def _get(path: str, token: str | None = None, params: Any = None) -> httpx.Response:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            return await http.get(f"{hub_url()}{path}", params=params, headers=_headers(token))
    except httpx.TimeoutException:
        raise HubUnreachable("HuggingFace Hub did not answer in time", timeout=True) from None
    except httpx.HTTPError as exc:
        raise HubUnreachable(f"HuggingFace Hub is unreachable ({type(exc).__name__})") from None


# -- search ------------------------------------------------------------------------------------------------------


async def _search_tag(query: str, tag: str, limit: int, token: str | None) -> list[dict]:
    params = [("search", query), ("full", "true"), ("config", "true"), ("limit", str(limit)), ("filter", tag)]
    params += [("expand[]", e) for e in SEARCH_EXPAND]
    answer = await _get("/api/models", token, params)
    if answer.status_code != 200:
        log.info("HuggingFace search failed", extra={"status": answer.status_code, "tag": tag})
        return []
    try:
        body = answer.json()
    except ValueError:
        return []
    return [m for m in body if isinstance(m, dict)] if isinstance(body, list) else []


async def search(query: str, limit: int = 20, offset: int = 0, token: str | None = None) -> dict[str, Any]:
    """Text-generation and image-text-to-text models matching ``query`` that an engine can serve (gated ones only
    with a token), one page of them."""
    pages = await asyncio.gather(*(_search_tag(query, t, limit + offset + 10, token) for t in SEARCH_TAGS))
    seen: set[str] = set()
    models = []
    for model in (m for page in pages for m in page):
        model_id = str(model.get("id") or model.get("modelId") or "")
        if not model_id or model_id in seen:
            continue
        seen.add(model_id)
        described = describe_model(model)
        if described["compatible"] and (token or not described["gated"]):
            models.append(described)
    page = models[offset:offset + limit]
    return {"models": page, "total": len(models), "hasMore": offset + len(page) < len(models), "query": query}


async def gguf_files(repo_id: str, token: str | None = None) -> list[str]:
    answer = await _get(f"/api/models/{repo_path(repo_id)}", token)
    if answer.status_code != 200:
        raise HubError(f"Failed to fetch model files: {answer.status_code} {answer.reason_phrase}", answer.status_code)
    try:
        body = answer.json()
    except ValueError:
        raise HubError("Failed to fetch model files: the answer is not JSON", 502) from None
    siblings = body.get("siblings") if isinstance(body, dict) else None
    return sorted(s["rfilename"] for s in siblings or [] if isinstance(s, dict) and isinstance(s.get("rfilename"), str)
                  and s["rfilename"].lower().endswith(".gguf"))


# -- model configs -----------------------------------------------------------------------------------------------


class _ConfigCache:
    """Model dimensions by model id (and token), kept an hour, the 500 most recently used."""

    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    def get(self, key: str) -> dict | None:
        found = self.entries.get(key)
        if found is None or time.monotonic() - found[0] > CONFIG_TTL:
            self.entries.pop(key, None)
            return None
        self.entries.move_to_end(key)
        return found[1]

    def put(self, key: str, value: dict) -> None:
        self.entries[key] = (time.monotonic(), value)
        self.entries.move_to_end(key)
        while len(self.entries) > CONFIG_CACHE_SIZE:
            self.entries.popitem(last=False)


_configs = _ConfigCache()


def dimensions(config: dict[str, Any]) -> dict[str, Any] | None:
    """Layers, KV heads, head size, context and dtype of a model config (a multimodal one's text part)."""
    text = config if "num_hidden_layers" in config else next(
        (config[k] for k in TEXT_CONFIGS if isinstance(config.get(k), dict) and "num_hidden_layers" in config[k]), None)
    if text is None:
        return None
    heads = text.get("num_attention_heads")
    hidden = text.get("hidden_size")
    head_dim = text.get("head_dim") or (hidden // heads if isinstance(hidden, int) and isinstance(heads, int)
                                        and heads else None)
    return {"numLayers": text.get("num_hidden_layers"), "numKvHeads": text.get("num_key_value_heads") or heads,
            "headDim": head_dim, "maxPositionEmbeddings": text.get("max_position_embeddings"),
            "torchDtype": text.get("torch_dtype") or config.get("torch_dtype")}


async def model_dimensions(repo_id: str, token: str | None = None) -> dict[str, Any] | None:
    """The model's dimensions from its ``config.json``; None when it cannot be read."""
    if not valid_repo_id(repo_id):
        return None
    key = f"{repo_id}:{hashlib.sha256(token.encode()).hexdigest()}" if token else repo_id
    if (cached := _configs.get(key)) is not None:
        return cached
    try:
        answer = await _get(f"/{repo_path(repo_id)}/resolve/main/config.json", token)
        found = dimensions(answer.json()) if answer.status_code == 200 else None
    except (HubUnreachable, ValueError, AttributeError):
        return None
    if found is not None:
        _configs.put(key, found)
    return found


# -- accounts ----------------------------------------------------------------------------------------------------


def user_of(body: dict[str, Any]) -> dict[str, Any]:
    avatar = body.get("avatarUrl")
    if isinstance(avatar, str) and avatar.startswith("/"):
        avatar = f"{DEFAULT_HUB}{avatar}"
    user = {"id": body.get("id"), "name": body.get("name"), "fullname": body.get("fullname") or body.get("name"),
            "email": body.get("email"), "avatarUrl": avatar}
    return {k: v for k, v in user.items() if v is not None}


async def whoami(token: str) -> dict[str, Any]:
    """The token's user; ``ValueError`` when the Hub refuses the token or cannot be reached."""
    try:
        answer = await _get("/api/whoami-v2", token)
    except HubUnreachable as exc:
        raise ValueError(f"Failed to reach HuggingFace: {exc}") from None
    if answer.status_code != 200:
        raise ValueError(f"Failed to get user info: {answer.status_code} {answer.reason_phrase}")
    try:
        body = answer.json()
    except ValueError:
        raise ValueError("Failed to get user info: the answer is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("Failed to get user info: the answer is not a JSON object")
    return user_of(body)


async def exchange_code(client_id: str, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
    """Trade an authorization code (with its PKCE verifier) for an access token; ``ValueError`` on refusal."""
    form = {"grant_type": "authorization_code", "client_id": client_id, "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.post(f"{hub_url()}/oauth/token", data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ValueError(f"Failed to reach HuggingFace: {type(exc).__name__}") from None
    if answer.status_code != 200:
        raise ValueError(f"Failed to exchange code for token: {answer.status_code} {answer.reason_phrase}")
    try:
        body = answer.json()
    except ValueError:
        raise ValueError("Failed to exchange code for token: the answer is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise ValueError("Failed to exchange code for token: no access token in the answer")
    return body
