"""API error mapping and structured, secret-free logs (no cluster)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from airunway.kube import errors
from airunway.kube.logs import REDACTED, JsonFormatter, KeyValueFormatter, configure_logging, redact


def status(code: int, reason: str, message: str = "m", **details) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message}
    if details:
        body["details"] = details
    return body


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (400, "BadRequest", errors.BadRequest),
        (401, "Unauthorized", errors.Unauthorized),
        (403, "Forbidden", errors.Forbidden),
        (404, "NotFound", errors.NotFound),
        (405, "MethodNotAllowed", errors.MethodNotAllowed),
        (409, "Conflict", errors.Conflict),
        (409, "AlreadyExists", errors.AlreadyExists),
        (410, "Expired", errors.Gone),
        (410, "Gone", errors.Gone),
        (422, "Invalid", errors.Invalid),
        (429, "TooManyRequests", errors.TooManyRequests),
        (500, "InternalError", errors.ServerError),
        (503, "ServiceUnavailable", errors.ServerError),
        (418, "Teapot", errors.ApiError),
    ],
)
def test_status_codes_map_to_classes(code, reason, cls):
    err = errors.error_from_status(code, json.dumps(status(code, reason)).encode())
    assert type(err) is cls and err.status == code and err.reason == reason
    assert isinstance(err, errors.ApiError)


def test_invalid_keeps_the_server_message_and_causes():
    body = status(422, "Invalid", 'ModelDeployment.airunway.ai "m" is invalid: spec.model.id: Required value',
                  causes=[{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.model.id"}])
    err = errors.error_from_status(422, body)
    assert "spec.model.id: Required value" in str(err)
    assert err.causes == [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.model.id"}]


def test_watch_error_code_wins_and_odd_bodies_are_handled():
    # a watch ERROR event arrives inside a 200 stream: the Status's own code decides
    assert isinstance(errors.error_from_status(200, status(410, "Expired")), errors.Gone)
    plain = errors.error_from_status(502, b"<html>bad gateway</html>")
    assert isinstance(plain, errors.ServerError) and "bad gateway" in plain.message
    empty = errors.error_from_status(404, b"")
    assert isinstance(empty, errors.NotFound)
    throttled = errors.error_from_status(429, status(429, "TooManyRequests", retryAfterSeconds=3))
    assert throttled.retry_after == 3.0


# -- logs --------------------------------------------------------------------------------------------------


def record(msg: str, **fields) -> logging.LogRecord:
    rec = logging.LogRecord("airunway.test", logging.INFO, __file__, 1, msg, (), None)
    for k, v in fields.items():
        setattr(rec, k, v)
    return rec


def test_json_lines_carry_the_fields():
    line = json.loads(JsonFormatter().format(record("reconciled", controller="md", key="ns/a", retries=2)))
    assert line["msg"] == "reconciled" and line["level"] == "info" and line["logger"] == "airunway.test"
    assert line["controller"] == "md" and line["key"] == "ns/a" and line["retries"] == 2
    assert line["ts"].endswith("Z")


def test_secrets_are_redacted():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf"}, "data": {"HF_TOKEN": "c2VjcmV0"},
              "stringData": {"token": "hunter2"}}
    line = JsonFormatter().format(record("x", object=secret, hf_token="hunter2", authorization="Bearer abc",
                                         nested={"password": "p", "ok": "visible"}))
    assert "hunter2" not in line and "c2VjcmV0" not in line and "abc" not in line and '"p"' not in line
    parsed = json.loads(line)
    assert parsed["object"]["data"] == REDACTED and parsed["object"]["metadata"] == {"name": "hf"}
    assert parsed["hf_token"] == REDACTED and parsed["nested"] == {"password": REDACTED, "ok": "visible"}
    assert redact("token_expired", True) is True, "booleans say nothing secret"


def test_key_value_lines_quote_when_needed():
    line = KeyValueFormatter().format(record("two words", key="ns/a", error='said "no"', n=3))
    assert 'msg="two words"' in line and "key=ns/a" in line and "n=3" in line
    assert 'error="said \\"no\\""' in line


def test_configure_logging_keeps_client_library_bodies_out():
    out = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("debug", "json", stream=out)
        logging.getLogger("kubernetes_asyncio.client.rest").debug("response body: %s", '{"data":{"token":"x"}}')
        logging.getLogger("airunway.kube.test").debug("visible", extra={"key": "a"})
        lines = [json.loads(x) for x in out.getvalue().splitlines()]
        assert [x["msg"] for x in lines] == ["visible"]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
