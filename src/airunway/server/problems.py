"""The dashboard's domain errors: what went wrong for the user, in the services' words. Services raise these (and
let the cluster's Forbidden and Unauthorized pass); :mod:`airunway.server.errors` is the one place that turns them
into HTTP answers (the error envelope with the status each class names)."""

from __future__ import annotations


class Problem(Exception):
    """A failure meant for the user: its message is answered as it is, with the status of its kind."""

    status_code = 500

    def __init__(self, message: str, *, status_code: int | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra


class InvalidInput(Problem):
    """The request cannot be served as asked (a field, a pod name, a provider that cannot be installed here)."""

    status_code = 400


class NotFoundError(Problem):
    status_code = 404


class ConflictError(Problem):
    """The request clashes with the current state (already exists, not running yet, an install under way)."""

    status_code = 409


class Unsupported(Problem):
    """Well-formed, but the chosen provider cannot do it (its capabilities say so)."""

    status_code = 422


class Failed(Problem):
    """The operation failed on the dashboard's side; the message says how."""

    status_code = 500


class UpstreamFailed(Problem):
    """A service behind the dashboard (a model server, the cluster) failed or answered an error."""

    status_code = 502


class Unavailable(Problem):
    """Not possible right now (no cluster configured, a dependency is missing)."""

    status_code = 503


_BY_STATUS: dict[int, type[Problem]] = {400: InvalidInput, 404: NotFoundError, 409: ConflictError, 422: Unsupported,
                                        502: UpstreamFailed, 503: Unavailable}


def with_status(status_code: int, message: str) -> Problem:
    """The problem of an outside answer's status (e.g. the API server's), of its kind where there is one."""
    kind = _BY_STATUS.get(status_code, Problem)
    return kind(message) if kind.status_code == status_code else Problem(message, status_code=status_code)
