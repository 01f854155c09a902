"""The dashboard's error envelope: ``{"error": {"message": …, "statusCode": …}}`` everywhere, server errors
sanitised (the message of a 5xx never leaks internals), unknown API routes named."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("airunway.server")


class ApiProblem(Exception):
    """An answer with an error status and a message meant for the user."""

    def __init__(self, status_code: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.extra = extra


def envelope(status_code: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "statusCode": status_code, **extra}}, status_code=status_code)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return envelope(exc.status_code, exc.message, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404 and exc.detail == "Not Found":
            return envelope(404, f"Route not found: {request.method} {request.url.path}")
        message = "Internal Server Error" if exc.status_code >= 500 else str(exc.detail)
        return envelope(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [{"path": [str(p) for p in e.get("loc", ())], "message": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse({"success": False, "error": {"name": "ZodError", "issues": issues}}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return envelope(500, "Internal Server Error")
