"""Kubernetes API errors as small exception classes.

Every failed request raises an :class:`ApiError`; the common cases have their own subclass so callers
write ``except NotFound`` rather than comparing status codes. The server's own message is kept, because
it usually names the field and the problem.
"""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """A request the API server answered with an error status (or could not be understood)."""

    def __init__(self, status: int, reason: str = "", message: str = "", body: dict | None = None):
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body or {}
        super().__init__(f"{status} {reason}: {message}" if reason else f"{status}: {message}")

    @property
    def details(self) -> dict:
        return self.body.get("details") or {}

    @property
    def causes(self) -> list[dict]:
        """The per-field causes (``field``, ``reason``, ``message``) the server listed, if any."""
        return list(self.details.get("causes") or [])

    @property
    def retry_after(self) -> float | None:
        seconds = self.details.get("retryAfterSeconds")
        return float(seconds) if seconds else None


class BadRequest(ApiError):
    """400: the request itself is malformed."""


class Unauthorized(ApiError):
    """401: the credentials were not accepted."""


class Forbidden(ApiError):
    """403: RBAC does not allow this request."""


class NotFound(ApiError):
    """404: the object (or the resource type) does not exist."""


class MethodNotAllowed(ApiError):
    """405: the resource does not support this verb."""


class Conflict(ApiError):
    """409 Conflict: the object changed since it was read (stale resourceVersion) or an apply conflict."""


class AlreadyExists(ApiError):
    """409 AlreadyExists: create of an object whose name is taken."""


class Gone(ApiError):
    """410 Expired/Gone: the resourceVersion or continue token is too old; list again."""


class Invalid(ApiError):
    """422: the object failed validation; ``causes`` names each field."""


class TooManyRequests(ApiError):
    """429: throttled; see ``retry_after``."""


class ServerError(ApiError):
    """5xx: the server failed; usually worth retrying."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}


def error_from_status(status: int, payload: Any) -> ApiError:
    """Build the matching :class:`ApiError` from an HTTP status and a body (a Status dict, bytes or text)."""
    body: dict = {}
    if isinstance(payload, (bytes, bytearray)):
        payload = payload.decode("utf-8", "replace")
    if isinstance(payload, str):
        try:
            parsed = json.loads(payload) if payload.strip() else {}
        except ValueError:
            parsed = {"message": payload.strip()[:1000]}
        payload = parsed
    if isinstance(payload, dict):
        body = payload
    code = int(body.get("code") or status)
    reason = str(body.get("reason") or "")
    message = str(body.get("message") or "")
    if code == 409:
        cls: type[ApiError] = AlreadyExists if reason == "AlreadyExists" else Conflict
    elif code >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(code, ApiError)
    return cls(code, reason, message, body)
