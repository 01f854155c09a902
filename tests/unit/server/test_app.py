"""The dashboard app's shared behaviour: the error envelope, unknown routes, health, the OpenAPI schema."""

from __future__ import annotations

from fastapi.testclient import TestClient

from airunway.server.app import create_app


def client() -> TestClient:
    return TestClient(create_app(client=object()))  # no route here touches the cluster


def test_health_and_version():
    with client() as api:
        health = api.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "healthy"
        assert api.get("/api/health/version").json()["version"] == "0.1.0"


def test_unknown_api_route_is_named_in_the_error_envelope():
    with client() as api:
        answer = api.get("/api/nothing-here")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"message": "Route not found: GET /api/nothing-here", "statusCode": 404}}


def test_openapi_schema_is_served():
    with client() as api:
        schema = api.get("/api/openapi.json").json()
    assert "/api/gateway/models" in schema["paths"] and "/api/installation/gateway/install-crds" in schema["paths"]
