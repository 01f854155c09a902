"""``/api/oauth/huggingface``: sign in to HuggingFace with OAuth and PKCE (public paths: they are how a user gets a
HuggingFace token, not a dashboard login)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from airunway.server import responses
from airunway.server.errors import ApiProblem
from airunway.server.services import oauth

router = responses.Router(prefix="/api/oauth", tags=["oauth"])


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("Must be an http or https URL")
    return value


def _uuid(value: str) -> str:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValueError("Must be a UUID") from None
    return value


Url = Annotated[StrictStr, Field(max_length=2048), AfterValidator(_url)]


class StartBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    redirectUri: Url


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: StrictStr = Field(min_length=1, max_length=2048)
    codeVerifier: StrictStr = Field(min_length=43, max_length=128)
    redirectUri: Url


class StateTokenBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: StrictStr = Field(min_length=1, max_length=2048)
    state: Annotated[StrictStr, Field(max_length=64), AfterValidator(_uuid)]


@router.get("/huggingface/config", response_model=responses.OAuthConfig)
async def config() -> dict:
    return oauth.config()


@router.post("/huggingface/start", response_model=responses.OAuthStart)
async def start(body: StartBody) -> dict:
    return oauth.sessions.start(body.redirectUri)


@router.get("/huggingface/verifier/{state}", status_code=410)
async def verifier(state: str) -> dict:
    raise ApiProblem(410, "This endpoint has been removed for security. Use POST /huggingface/token-with-state "
                          "instead.")


@router.post("/huggingface/token", response_model=responses.OAuthToken)
async def token(body: TokenBody) -> dict:
    try:
        return await oauth.complete(body.code, body.codeVerifier, body.redirectUri)
    except ValueError:
        raise ApiProblem(400, "OAuth token exchange failed") from None


@router.post("/huggingface/token-with-state", response_model=responses.OAuthToken)
async def token_with_state(body: StateTokenBody) -> dict:
    try:
        return await oauth.sessions.exchange(body.code, body.state)
    except KeyError:
        raise ApiProblem(404, "OAuth session not found or expired") from None
    except ValueError:
        raise ApiProblem(400, "OAuth token exchange failed") from None
