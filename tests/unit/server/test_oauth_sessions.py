"""HuggingFace sign-in sessions: the PKCE pair, one exchange per state (also when two requests race), retries after
a refused code, expiry, and a bounded number of pending sign-ins."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from airunway.server.services import oauth


@pytest.fixture
def exchanges(monkeypatch):
    """Stands in for the Hub: records each exchange; a code starting with ``bad`` is refused."""
    seen: list[tuple[str, str, str]] = []

    async def complete(code: str, verifier: str, redirect_uri: str) -> dict:
        seen.append((code, verifier, redirect_uri))
        await asyncio.sleep(0.01)  # the Hub takes a moment: a second request can arrive meanwhile
        if code.startswith("bad"):
            raise ValueError("Failed to exchange code for token: 400 Bad Request")
        return {"accessToken": f"token-for-{code}", "tokenType": "Bearer", "user": {"name": "someone"}}

    monkeypatch.setattr(oauth, "complete", complete)
    return seen


def test_start_gives_an_s256_challenge_of_a_kept_verifier(monkeypatch):
    monkeypatch.delenv("HF_CLIENT_ID", raising=False)
    sessions = oauth.Sessions()
    started = sessions.start("http://localhost:3000/oauth/callback")
    url = urlsplit(started["authorizationUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/oauth/authorize"
    assert query["client_id"] == oauth.DEFAULT_CLIENT_ID and query["response_type"] == "code"
    assert query["scope"] == "openid profile read-repos" and query["code_challenge_method"] == "S256"
    assert query["state"] == started["state"] and uuid.UUID(started["state"]).version == 4
    assert query["redirect_uri"] == "http://localhost:3000/oauth/callback"
    verifier = sessions.pending[started["state"]].verifier
    assert len(verifier) == 43 and "=" not in verifier  # 32 bytes, base64url without padding
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == expected == oauth.challenge(verifier)
    assert verifier not in started["authorizationUrl"]  # only the challenge leaves the server
    assert sessions.start("http://x")["state"] != started["state"]


async def test_a_state_is_exchanged_once(exchanges):
    sessions = oauth.Sessions()
    state = sessions.start("http://localhost/cb")["state"]
    verifier = sessions.pending[state].verifier
    result = await sessions.exchange("code-1", state)
    assert result["accessToken"] == "token-for-code-1"
    assert exchanges == [("code-1", verifier, "http://localhost/cb")]
    with pytest.raises(KeyError):
        await sessions.exchange("code-1", state)
    with pytest.raises(KeyError):
        await sessions.exchange("code-2", str(uuid.uuid4()))
    assert len(exchanges) == 1


async def test_racing_requests_with_one_state(exchanges):
    sessions = oauth.Sessions()
    state = sessions.start("http://localhost/cb")["state"]
    results = await asyncio.gather(*(sessions.exchange(f"code-{i}", state) for i in range(5)),
                                   return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, KeyError) for r in results) == 4
    assert len(exchanges) == 1


async def test_a_refused_code_may_be_retried_three_times(exchanges):
    sessions = oauth.Sessions()
    state = sessions.start("http://localhost/cb")["state"]
    for _ in range(2):
        with pytest.raises(ValueError):
            await sessions.exchange("bad-code", state)
    assert (await sessions.exchange("good", state))["accessToken"] == "token-for-good"

    other = sessions.start("http://localhost/cb")["state"]
    for _ in range(oauth.MAX_FAILURES):
        with pytest.raises(ValueError):
            await sessions.exchange("bad-code", other)
    with pytest.raises(KeyError):  # closed after the third failure
        await sessions.exchange("good", other)


async def test_sessions_expire(exchanges, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(oauth, "clock", lambda: clock[0])  # not time.monotonic: the event loop uses it
    sessions = oauth.Sessions()
    state = sessions.start("http://localhost/cb")["state"]
    clock[0] += oauth.LIFETIME + 1
    with pytest.raises(KeyError):
        await sessions.exchange("code", state)
    assert exchanges == [] and sessions.pending == {}


def test_pending_sign_ins_are_bounded(monkeypatch):
    monkeypatch.setattr(oauth, "MAX_PENDING", 5)
    sessions = oauth.Sessions()
    states = [sessions.start("http://localhost/cb")["state"] for _ in range(8)]
    assert list(sessions.pending) == states[3:]  # the oldest make room


def test_config(monkeypatch):
    monkeypatch.setenv("HF_CLIENT_ID", "my-app")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1234/")
    assert oauth.config() == {"clientId": "my-app", "authorizeUrl": "http://127.0.0.1:1234/oauth/authorize",
                              "scopes": ["openid", "profile", "read-repos"]}
