"""The dashboard's HTTP behaviour that needs no cluster: CORS, trailing slashes, compression, which paths need a
token, the 400 answer of a bad request (FastAPI's TestClient; the cluster client is a stand-in no route reaches)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from airunway.server.app import Settings, create_app


class NoCluster:
    """A stand-in client: any use fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"the cluster was used ({name})")


def api(**settings) -> TestClient:
    return TestClient(create_app(Settings(**settings), client=NoCluster()))


@pytest.mark.parametrize("origin, allowed", [
    ("http://localhost:5173", True),
    ("https://127.0.0.1", True),
    ("http://[::1]:3000", True),
    ("http://example.com", False),
    ("http://localhost.example.com", False),
])
def test_cors_allows_loopback_origins_by_default(origin, allowed, monkeypatch):
    monkeypatch.delenv("CORS_ORIGIN", raising=False)
    with api() as client:
        answer = client.get("/api/health", headers={"Origin": origin})
    assert (answer.headers.get("access-control-allow-origin") == origin) is allowed
    if allowed:
        assert "X-Airunway-Auth-Error" in answer.headers["access-control-expose-headers"]


def test_cors_setting_wildcard_list_and_blank():
    with api(cors_origin="*") as client:
        assert client.get("/api/health", headers={"Origin": "http://x.org"}).headers[
            "access-control-allow-origin"] == "*"
    with api(cors_origin=" https://a.org , https://b.org ") as client:
        assert client.get("/api/health", headers={"Origin": "https://b.org"}).headers[
            "access-control-allow-origin"] == "https://b.org"
        assert "access-control-allow-origin" not in client.get("/api/health",
                                                               headers={"Origin": "http://localhost"}).headers
    with api(cors_origin=" , ") as client:  # no origin listed: loopback only
        assert client.get("/api/health", headers={"Origin": "http://localhost:1"}).headers[
            "access-control-allow-origin"] == "http://localhost:1"


def test_trailing_slash_redirects_get_only():
    with api() as client:
        answer = client.get("/api/health/version/?x=1", follow_redirects=False)
        assert answer.status_code == 301 and answer.headers["location"] == "/api/health/version?x=1"
        posted = client.post("/api/deployments/", json={})
        assert posted.status_code == 404
        assert posted.json() == {"error": {"message": "Route not found: POST /api/deployments/", "statusCode": 404}}


def test_trailing_slash_redirects_whatever_answered_404(tmp_path):
    """``/api/models/`` reaches the model route with an empty id, which finds no model: a 404 all the same, so it
    is redirected like a path no route matches (upstream's route needs a non-empty id)."""
    with api() as client:
        models = client.get("/api/models/", follow_redirects=False)
        head = client.head("/api/nothing-here/?x=1", follow_redirects=False)
        followed = client.get("/api/models/")
        one = client.get("/api/models/Qwen/Qwen3-0.6B/", follow_redirects=False)
        missing = client.get("/api/models/acme/nothing")
    with api(ui_dir=str(tmp_path)) as client:  # no UI: an unknown page is a 404
        elsewhere = client.get("http://testserver//evil.example/", follow_redirects=False)
    assert models.status_code == 301 and models.headers["location"] == "/api/models"
    assert head.status_code == 301 and head.headers["location"] == "/api/nothing-here?x=1"
    assert followed.status_code == 200 and len(followed.json()["models"]) == 18
    assert one.status_code == 301 and one.headers["location"] == "/api/models/Qwen/Qwen3-0.6B"
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "Model not found"
    assert elsewhere.status_code == 301 and elsewhere.headers["location"] == "/evil.example"  # never another host


def test_non_api_paths_without_a_built_ui(tmp_path):
    with api(ui_dir=str(tmp_path)) as client:
        answer = client.get("/some/page")
    assert answer.status_code == 404 and answer.text.startswith("Frontend not available")


def test_the_built_ui_is_served_with_its_routes_falling_back_to_index(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>ui</html>")
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("no")
    with api(ui_dir=str(tmp_path)) as client:
        index = client.get("/")
        route = client.get("/deployments/abc?namespace=x")
        asset = client.get("/assets/app-1a2b.js")
        escape = client.get("/..%2Fsecret.txt")
        unknown_api = client.get("/api/nothing")
        post = client.post("/deployments", json={})
    assert index.text == route.text == "<html>ui</html>" and index.headers["cache-control"] == "no-cache"
    assert asset.text == "console.log(1)" and "immutable" in asset.headers["cache-control"]
    assert escape.text == "<html>ui</html>"
    assert unknown_api.status_code == 404 and unknown_api.json()["error"]["message"] == "Route not found: GET /api/nothing"
    assert post.status_code == 404


def test_cluster_router_is_the_health_router():
    with api() as client:
        assert client.get("/api/cluster/version").json()["version"] == "0.1.0"
        assert client.get("/api/health").json()["timestamp"].endswith("Z")


def test_large_answers_are_compressed():
    with api() as client:
        answer = client.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert answer.headers.get("content-encoding") == "gzip"


@pytest.mark.parametrize("path", ["/api/healthz", "/api/health/foo", "/api/health/nodes", "/api/cluster/nodes",
                                  "/api/deployments", "/api/providers/vllm", "/api/settings/providers/x"])
def test_protected_paths_need_a_bearer_token(path, monkeypatch):
    monkeypatch.setenv("AUTH_ENABLED", "TRUE")
    with api() as client:
        for headers in ({}, {"Authorization": "Basic abc"}):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 401
            assert answer.json() == {"error": {"message": "Authentication required", "statusCode": 401}}
            assert answer.headers["X-Airunway-Auth-Error"] == "true"


def test_auth_flag_is_read_per_request(monkeypatch):
    with api() as client:
        monkeypatch.setenv("AUTH_ENABLED", "1")
        assert client.get("/api/deployments/x/pods").status_code == 401
        monkeypatch.setenv("AUTH_ENABLED", "false")
        assert client.get("/api/cluster/version").status_code == 200
        monkeypatch.setenv("AUTH_ENABLED", "1")
        assert client.get("/api/health/version").status_code == 200  # public


def test_bad_request_names_the_field():
    with api() as client:
        answer = client.post("/api/deployments/preview", json={"name": "Bad", "modelId": "", "engine": "vllm"})
        assert answer.status_code == 400
        body = answer.json()
        assert body["success"] is False and body["error"]["name"] == "ZodError"
        assert {tuple(i["path"]) for i in body["error"]["issues"]} == {("name",), ("modelId",)}
        assert "modelId: Model ID is required" in body["error"]["message"]
        malformed = client.post("/api/deployments/preview", content=b"{nope", headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400
        assert client.get("/api/deployments?limit=500").status_code == 400
        assert client.get("/api/deployments/Not_A_Name").json()["error"]["issues"][0]["path"] == ["name"]
