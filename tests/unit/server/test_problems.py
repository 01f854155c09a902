"""Domain errors raised by the services become the error envelope with their kind's status, in one place."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airunway.server import errors, problems


@pytest.mark.parametrize(("problem", "status"), [
    (problems.InvalidInput("Pod 'x' is not part of deployment 'd'"), 400),
    (problems.NotFoundError("Deployment not found"), 404),
    (problems.ConflictError("An install of kaito is already running"), 409),
    (problems.Unsupported("Provider kaito does not support engine sglang"), 422),
    (problems.UpstreamFailed("The model server for 'd' cannot be reached"), 502),
    (problems.Unavailable("No cluster"), 503),
    (problems.with_status(403, "Failed to create deployment: forbidden"), 403),
    (problems.with_status(409, "Failed to create deployment: already exists"), 409),
])
def test_a_problem_is_answered_with_its_status_and_message(problem, status):
    app = FastAPI()
    errors.install(app)

    @app.get("/api/x")
    async def fail() -> None:
        raise problem

    answer = TestClient(app).get("/api/x")
    assert answer.status_code == status
    assert answer.json() == {"error": {"message": problem.message, "statusCode": status}}


def test_the_kind_of_an_outside_status():
    assert isinstance(problems.with_status(409, "x"), problems.ConflictError)
    assert isinstance(problems.with_status(404, "x"), problems.NotFoundError)
    assert type(problems.with_status(418, "x")) is problems.Problem
