"""HuggingFace sign-in with OAuth 2.0 and PKCE.

:meth:`Sessions.start` makes a verifier (32 random bytes, base64url) and its S256 challenge, and a random state; the
verifier and the redirect address stay here, keyed by the state, for at most 10 minutes. The browser comes back with
a code and the state; :meth:`Sessions.exchange` takes the session out before it calls the Hub: a state that was
used (or is in use), expired, or failed too often is refused, so a code cannot be exchanged twice through the
dashboard.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from airunway.server.services import huggingface

DEFAULT_CLIENT_ID = "e05817a1-7053-4b9e-b292-29cd219fccf8"
SCOPES = ("openid", "profile", "read-repos")
LIFETIME = 600.0
MAX_FAILURES = 3
MAX_PENDING = 1000


def clock() -> float:
    return time.monotonic()


def client_id() -> str:
    return os.environ.get("HF_CLIENT_ID") or DEFAULT_CLIENT_ID


def authorize_url() -> str:
    return f"{huggingface.hub_url()}/oauth/authorize"


def config() -> dict:
    return {"clientId": client_id(), "authorizeUrl": authorize_url(), "scopes": list(SCOPES)}


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Session:
    verifier: str
    redirect_uri: str
    created: float = field(default_factory=lambda: clock())
    failures: int = 0


class Sessions:
    """Sign-ins under way, by state. At most :data:`MAX_PENDING` are kept (the oldest dropped first), so a flood of
    ``start`` calls to this public endpoint cannot exhaust memory."""

    def __init__(self) -> None:
        self.pending: dict[str, Session] = {}

    def _sweep(self) -> None:
        now = clock()
        for state in [s for s, session in self.pending.items() if now - session.created > LIFETIME]:
            del self.pending[state]

    def start(self, redirect_uri: str) -> dict:
        self._sweep()
        while len(self.pending) >= MAX_PENDING:
            del self.pending[next(iter(self.pending))]
        verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        state = str(uuid.uuid4())
        self.pending[state] = Session(verifier, redirect_uri)
        query = urlencode({"client_id": client_id(), "redirect_uri": redirect_uri, "scope": " ".join(SCOPES),
                           "response_type": "code", "code_challenge": challenge(verifier),
                           "code_challenge_method": "S256", "state": state})
        return {"authorizationUrl": f"{authorize_url()}?{query}", "state": state}

    async def exchange(self, code: str, state: str) -> dict:
        """The token and user for a code of a pending sign-in. ``KeyError``: no such sign-in (or it expired, was used,
        or is being exchanged right now); ``ValueError``: the Hub refused (the sign-in stays open for another try, up
        to three)."""
        self._sweep()
        # Taken out before the first await: two requests racing with one state cannot both exchange it.
        session = self.pending.pop(state)
        try:
            result = await complete(code, session.verifier, session.redirect_uri)
        except ValueError:
            session.failures += 1
            if session.failures < MAX_FAILURES and clock() - session.created <= LIFETIME:
                self.pending[state] = session
            raise
        return result


async def complete(code: str, verifier: str, redirect_uri: str) -> dict:
    """Exchange the code, then ask who the token belongs to."""
    token = await huggingface.exchange_code(client_id(), code, redirect_uri, verifier)
    user = await huggingface.whoami(token["access_token"])
    out = {"accessToken": token["access_token"], "tokenType": "Bearer", "user": user}
    if isinstance(token.get("expires_in"), int):
        out["expiresIn"] = token["expires_in"]
    if isinstance(token.get("scope"), str):
        out["scope"] = token["scope"]
    return out


sessions = Sessions()
