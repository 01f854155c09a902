"""The dashboard's error envelope: ``{"error": {"message": …, "statusCode": …}}`` everywhere, server errors
sanitised (the message of a 5xx never leaks internals), unknown API routes named."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airunway.kube.errors import Forbidden, Unauthorized
from airunway.server import ui
from airunway.server.problems import Problem
from airunway.server.auth import AUTH_ERROR_HEADER
from airunway.server.schemas import InvalidRequest, Issue, describe

log = logging.getLogger("airunway.server")


class ApiProblem(Exception):
    """An answer with an error status and a message meant for the user."""

    def __init__(self, status_code: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.extra = extra


def refused_message(exc: Forbidden) -> str:
    """The API server's refusal in words: it names the user, the verb, the resource and the namespace, which is
    the permission the caller lacks."""
    return f"Forbidden by the cluster's RBAC: {exc.message or exc.reason or 'access denied'}"


def envelope(status_code: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "statusCode": status_code, **extra}}, status_code=status_code)


UNDOCUMENTED = "answer does not match its response model"
FRONTEND_MISSING = "Frontend not available. Run with frontend build or in development mode."
_WHERE = {"body", "query", "path", "header"}


def _issue(error: dict) -> Issue:
    """A pydantic error as an Issue: the field path without FastAPI's location prefix, and a plain message."""
    loc = list(error.get("loc", ()))
    if loc and loc[0] in _WHERE:
        loc = loc[1:]
    loc = [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        message = "Malformed JSON in request body"
    return Issue(tuple(loc), message)


def invalid_answer(issues: list[Issue]) -> JSONResponse:
    """400 for a request that breaks its schema: the issues, and one message naming each field for people."""
    message = "Invalid request: " + "; ".join(describe(i) for i in issues) if issues else "Invalid request"
    body = {"success": False, "error": {"name": "ZodError", "message": message, "statusCode": 400,
                                        "issues": [i.to_dict() for i in issues]}}
    return JSONResponse(body, status_code=400)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    @app.exception_handler(Problem)
    async def problem(_: Request, exc: ApiProblem | Problem) -> JSONResponse:
        return envelope(exc.status_code, exc.message, **exc.extra)

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return envelope(403, refused_message(exc))

    @app.exception_handler(Unauthorized)
    async def unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        answer = envelope(401, exc.message or "The cluster did not accept the credentials")
        answer.headers[AUTH_ERROR_HEADER] = "true"
        return answer

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and exc.detail == "Not Found":
            path = request.url.path  # a GET or HEAD with a trailing slash is redirected (app.TrailingSlash)
            if not path.startswith("/api/") and path != "/api":
                built = ui.serve(ui.root_of(request.app.state.settings.ui_dir), path) \
                    if request.method in ("GET", "HEAD") else None
                return built or PlainTextResponse(FRONTEND_MISSING, status_code=404)
            return envelope(404, f"Route not found: {request.method} {path}")
        message = "Internal Server Error" if exc.status_code >= 500 else str(exc.detail)
        return envelope(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_answer([_issue(e) for e in exc.errors()])

    @app.exception_handler(InvalidRequest)
    async def invalid_rule(_: Request, exc: InvalidRequest) -> JSONResponse:
        return invalid_answer(exc.issues)

    @app.exception_handler(ResponseValidationError)
    async def undocumented(request: Request, exc: ResponseValidationError) -> JSONResponse:
        """An answer its response model does not describe: answered as the service built it (the model is what is
        wrong), and logged as an error naming the fields (never their values) so that tests catch it."""
        fields = [".".join(str(p) for p in e.get("loc", ())[1:]) + f": {e.get('msg')}" for e in exc.errors()]
        log.error(f"{UNDOCUMENTED}: {request.method} {request.url.path}", extra={"fields": fields[:20]})
        route = request.scope.get("route")
        return JSONResponse(jsonable_encoder(exc.body), status_code=getattr(route, "status_code", None) or 200)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return envelope(500, "Internal Server Error")


ERROR_SCHEMA = {
    "title": "ErrorEnvelope",
    "type": "object",
    "description": "The error envelope: what went wrong, for people, and the status code. Some answers add fields "
                   "(an invalid request lists its issues; a failed install its step results).",
    "properties": {"error": {"anyOf": [
        {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"},
                                                                   "statusCode": {"type": "integer"}}},
        {"type": "string", "description": "The cost endpoints' older form: {success: false, error: <message>}"},
    ]}},
}


def document(app: FastAPI) -> None:
    """Describe errors in the OpenAPI schema as they are answered: every operation may answer the error envelope
    (invalid requests are 400s with their issues, not FastAPI's 422s)."""
    plain = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = plain()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    responses["default"] = {"description": "An error", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            components["ErrorEnvelope"] = ERROR_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
