"""The API contract: every answer is documented by a response model, the models pass answers through unchanged,
and the TypeScript package packages/shared holds the app's schema and the types generated from it
(hack/openapi.py)."""

from __future__ import annotations

import json
import sys

from fastapi import FastAPI
from fastapi.testclient import TestClient

from support import ROOT

sys.path.insert(0, str(ROOT / "hack"))
from airunway.server import responses  # noqa: E402

import openapi  # noqa: E402

STALE = "is stale: run .venv/bin/python hack/openapi.py"
NO_BODY = {("post", "/api/deployments/{namespace}/{name}/chat"),  # an event stream
           ("post", "/api/deployments/{name}/chat"),  # the same, the namespace in the query
           ("get", "/api/oauth/huggingface/verifier/{state}")}  # always 410


def test_the_committed_schema_is_the_apps():
    assert openapi.SCHEMA.read_text() == openapi.schema_text(), f"{openapi.SCHEMA.relative_to(ROOT)} {STALE}"


def test_the_generated_types_are_the_schemas(tmp_path):
    out = tmp_path / "api.gen.ts"
    openapi.generate(out)
    assert openapi.TYPES.read_text() == out.read_text(), f"{openapi.TYPES.relative_to(ROOT)} {STALE}"


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref")
    return components[ref.rsplit("/", 1)[1]] if ref else schema


def test_every_answer_has_a_typed_schema():
    schema = openapi.schema()
    components = schema["components"]["schemas"]
    untyped = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if (method, path) in NO_BODY:
                continue
            ok = [r for code, r in operation["responses"].items() if code.startswith("2")]
            body = [r.get("content", {}).get("application/json", {}).get("schema") for r in ok]
            if not body or not all(b and _resolve(b, components).get("properties") for b in body):
                untyped.append(f"{method.upper()} {path}")
    assert not untyped, f"operations without a response model: {untyped}"


def test_answers_pass_through_the_models_unchanged():
    """Fields a service leaves out stay out, whole numbers stay whole, extra fields are kept, and all in the order
    the service gave them."""
    router = responses.Router()
    answer = {"name": "a", "namespace": "n", "mode": "aggregated", "phase": "Running", "provider": "vllm",
              "replicas": {"available": 1, "desired": 2, "ready": 1},
              "pods": [{"name": "p", "phase": "Running", "ready": True, "restarts": 0, "extra": {"x": [1, 2.5]}}],
              "unknown": "kept", "createdAt": "2026-01-01T00:00:00.000Z", "conditions": [],
              "image": {"requested": "vllm/vllm-openai:v1", "resolved": "vllm/vllm-openai@sha256:0"}}

    @router.get("/d", response_model=responses.DeploymentStatus)
    async def deployment() -> dict:
        return answer

    @router.get("/m", response_model=responses.RawMetric)
    async def metric() -> dict:
        return {"name": "vllm:x", "value": 3, "labels": {}}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/d").content == json.dumps(answer, separators=(",", ":")).encode()
    assert client.get("/m").content == b'{"name":"vllm:x","value":3,"labels":{}}'


def test_an_answer_its_model_does_not_describe_is_answered_and_logged(caplog):
    """The model is what is wrong then: the client gets the service's answer, the log names the field (not its
    value), which the schemathesis test looks for."""
    from airunway.server import errors

    router = responses.Router()

    @router.post("/api/x", status_code=201, response_model=responses.Message)
    async def wrong() -> dict:
        return {"message": {"secret": "s3cr3t"}}

    app = FastAPI()
    errors.install(app)
    app.include_router(router)
    answer = TestClient(app).post("/api/x")
    assert answer.status_code == 201 and answer.json() == {"message": {"secret": "s3cr3t"}}
    logged = [r for r in caplog.records if errors.UNDOCUMENTED in r.getMessage()]
    assert len(logged) == 1 and logged[0].fields == ["message: Input should be a valid string"]
    assert "s3cr3t" not in logged[0].getMessage() + str(logged[0].fields)
