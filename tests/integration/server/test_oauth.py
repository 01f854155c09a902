"""HuggingFace sign-in end to end against a Hub stand-in on 127.0.0.1 that checks the PKCE challenge: start, the
consent page's redirect with a code, the exchange by state; a state is good once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airunway.server.app import Settings

from fakes.hub import USER
from support import in_process_api

REDIRECT = "http://127.0.0.1:3001/oauth/callback"


@pytest.fixture(autouse=True)
def client_id(monkeypatch):
    monkeypatch.setenv("HF_CLIENT_ID", "airunway-test-client")


@pytest.fixture
async def api():
    async with in_process_api(Settings(auth_enabled=True)) as client:  # the OAuth paths are public
        yield client


async def test_sign_in_with_pkce_and_a_state_used_once(api, hub):
    config = (await api.get("/api/oauth/huggingface/config")).json()
    assert config == {"clientId": "airunway-test-client", "authorizeUrl": f"{hub.url}/oauth/authorize",
                      "scopes": ["openid", "profile", "read-repos"]}
    started = (await api.post("/api/oauth/huggingface/start", json={"redirectUri": REDIRECT})).json()
    url = urlsplit(started["authorizationUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == config["authorizeUrl"]
    assert query["client_id"] == "airunway-test-client" and query["redirect_uri"] == REDIRECT
    assert query["scope"] == "openid profile read-repos" and query["state"] == started["state"]
    assert len(query["code_challenge"]) == 43 and "=" not in query["code_challenge"]

    code, state = hub.authorize(started["authorizationUrl"])
    wrong = await api.post("/api/oauth/huggingface/token-with-state", json={"code": "not-the-code", "state": state})
    assert wrong.status_code == 400 and wrong.json()["error"]["message"] == "OAuth token exchange failed"
    # A failed exchange keeps the sign-in open for another try.
    signed_in = await api.post("/api/oauth/huggingface/token-with-state", json={"code": code, "state": state})
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["accessToken"] == hub.token and body["tokenType"] == "Bearer" and body["expiresIn"] == 28800
    assert body["user"]["name"] == USER["name"] and body["user"]["avatarUrl"].endswith("/avatars/sandbox.svg")

    replayed = await api.post("/api/oauth/huggingface/token-with-state", json={"code": code, "state": state})
    assert replayed.status_code == 404
    assert replayed.json()["error"]["message"] == "OAuth session not found or expired"


async def test_requests_that_are_refused(api, hub):
    unknown = await api.post("/api/oauth/huggingface/token-with-state",
                             json={"code": "x", "state": "0b5c3a64-6f43-4d4e-9a53-0e0b7d2f9a11"})
    assert unknown.status_code == 404
    not_uuid = await api.post("/api/oauth/huggingface/token-with-state", json={"code": "x", "state": "abc"})
    assert not_uuid.status_code == 400
    bad_redirect = await api.post("/api/oauth/huggingface/start", json={"redirectUri": "javascript:alert(1)"})
    assert bad_redirect.status_code == 400 and "redirectUri" in bad_redirect.json()["error"]["message"]
    removed = await api.get("/api/oauth/huggingface/verifier/anything")
    assert removed.status_code == 410
    short = await api.post("/api/oauth/huggingface/token", json={"code": "c", "codeVerifier": "short",
                                                                 "redirectUri": REDIRECT})
    assert short.status_code == 400 and "codeVerifier" in short.json()["error"]["message"]
    refused = await api.post("/api/oauth/huggingface/token", json={"code": "c", "codeVerifier": "v" * 43,
                                                                   "redirectUri": REDIRECT})
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "OAuth token exchange failed"

    # Three failed exchanges close a sign-in.
    started = (await api.post("/api/oauth/huggingface/start", json={"redirectUri": REDIRECT})).json()
    code, state = hub.authorize(started["authorizationUrl"])
    for _ in range(3):
        assert (await api.post("/api/oauth/huggingface/token-with-state",
                               json={"code": "wrong", "state": state})).status_code == 400
    closed = await api.post("/api/oauth/huggingface/token-with-state", json={"code": code, "state": state})
    assert closed.status_code == 404


async def test_the_direct_exchange_with_a_verifier(api, hub):
    started = (await api.post("/api/oauth/huggingface/start", json={"redirectUri": REDIRECT})).json()
    from airunway.server.services.oauth import sessions

    verifier = sessions.pending[started["state"]].verifier
    code, _ = hub.authorize(started["authorizationUrl"])
    answer = await api.post("/api/oauth/huggingface/token", json={"code": code, "codeVerifier": verifier,
                                                                  "redirectUri": REDIRECT})
    assert answer.status_code == 200 and answer.json()["accessToken"] == hub.token
