"""The generic admission webhook server (kube/webhook.py): JSON Patch generation, AdmissionReview parsing and
answers, malformed requests, HTTPS with HTTP/1.1 only, and the certificate reloaded when its files change."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import ssl
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509

from airunway.kube import certs
from airunway.kube.webhook import (
    AdmissionRequest,
    ReviewError,
    WebhookServer,
    allowed,
    denied,
    json_patch,
    mutating,
    parse_review,
    review_response,
    validating,
)


def apply_patch(doc, ops):
    """A minimal RFC 6902 applier (add, remove, replace) to check the generated patches."""
    doc = copy.deepcopy(doc)
    for op in ops:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
        if not tokens:
            doc = op["value"]
            continue
        parent = doc
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        key = int(last) if isinstance(parent, list) else last
        if op["op"] == "remove":
            del parent[key]
        elif op["op"] == "add" and isinstance(parent, list):
            parent.insert(key, op["value"])
        else:
            parent[key] = op["value"]
    return doc


PATCH_CASES = [
    ("equal", {"a": 1}, {"a": 1}),
    ("added member", {"spec": {}}, {"spec": {"serving": {"mode": "aggregated"}}}),
    ("removed member", {"a": 1, "b": 2}, {"a": 1}),
    ("changed scalar", {"a": {"b": "x"}}, {"a": {"b": "y"}}),
    ("int to bool", {"a": 1}, {"a": True}),
    ("int to float", {"a": 1}, {"a": 1.0}),
    ("list element", {"v": [{"n": "a"}, {"n": "b"}]}, {"v": [{"n": "a"}, {"n": "b", "p": "custom"}]}),
    ("list length", {"v": [1, 2]}, {"v": [1, 2, 3]}),
    ("escaped keys", {"m": {}}, {"m": {"a/b": 1, "c~d": 2}}),
    ("type change", {"a": {"b": 1}}, {"a": [1]}),
    ("root", [1], {"a": 1}),
]


@pytest.mark.parametrize("old,new", [c[1:] for c in PATCH_CASES], ids=[c[0] for c in PATCH_CASES])
def test_json_patch_turns_old_into_new(old, new):
    ops = json_patch(old, new)
    result = apply_patch(old, ops)
    assert result == new and json.dumps(result) == json.dumps(new)
    assert (ops == []) == (json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True))


def test_json_patch_is_minimal_for_added_defaults():
    old = {"spec": {"model": {"id": "m"}, "engine": {"type": "vllm"}}}
    new = {"spec": {"model": {"id": "m", "source": "huggingface"}, "engine": {"type": "vllm"},
                    "serving": {"mode": "aggregated"}}}
    assert json_patch(old, new) == [
        {"op": "add", "path": "/spec/model/source", "value": "huggingface"},
        {"op": "add", "path": "/spec/serving", "value": {"mode": "aggregated"}},
    ]
    assert json_patch({"m": {}}, {"m": {"a/b": 1}}) == [{"op": "add", "path": "/m/a~1b", "value": 1}]


def review(operation="CREATE", obj=None, old=None, uid="1234", api_version="admission.k8s.io/v1") -> dict:
    request = {"uid": uid, "operation": operation, "kind": {"group": "g", "version": "v1", "kind": "K"},
               "resource": {"group": "g", "version": "v1", "resource": "ks"}, "name": "n", "namespace": "ns",
               "userInfo": {"username": "alice"}, "object": obj, "oldObject": old, "dryRun": True}
    return {"apiVersion": api_version, "kind": "AdmissionReview", "request": request}


def test_parse_review_reads_the_request():
    request = parse_review(json.dumps(review("UPDATE", {"a": 1}, {"a": 0})).encode())
    assert (request.uid, request.operation, request.name, request.namespace) == ("1234", "UPDATE", "n", "ns")
    assert request.object == {"a": 1} and request.old_object == {"a": 0}
    assert request.kind["kind"] == "K" and request.user_info["username"] == "alice" and request.dry_run
    assert parse_review(json.dumps(review(api_version="admission.k8s.io/v1beta1"))).api_version.endswith("v1beta1")


@pytest.mark.parametrize("body,why", [
    (b"", "empty"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not an AdmissionReview object"),
    (json.dumps({"apiVersion": "v1", "kind": "Pod"}).encode(), "expected an AdmissionReview"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).encode(), "has no request"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}).encode(), "no uid"),
])
def test_parse_review_refuses_malformed_bodies(body, why):
    with pytest.raises(ReviewError, match=why):
        parse_review(body)


def test_review_response_shapes():
    request = parse_review(json.dumps(review()))
    answer = review_response(request, denied({"code": 403, "reason": "Forbidden", "message": "no"}, ["careful"]))
    assert answer == {
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "response": {"uid": "1234", "allowed": False, "status": {"code": 403, "reason": "Forbidden", "message": "no"},
                     "warnings": ["careful"]},
    }
    assert review_response(request, allowed())["response"] == {"uid": "1234", "allowed": True}


async def test_mutating_handler_answers_a_base64_json_patch():
    def add_label(request: AdmissionRequest) -> dict:
        out = copy.deepcopy(request.object)
        out["metadata"].setdefault("labels", {})["x"] = "y"
        return out

    handler = mutating(add_label)
    obj = {"metadata": {"name": "n"}}
    response = (await handler(parse_review(json.dumps(review(obj=obj))))).to_dict("1234")
    assert response["allowed"] and response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"])) == [{"op": "add", "path": "/metadata/labels",
                                                                "value": {"x": "y"}}]
    unchanged = (await mutating(lambda r: r.object)(parse_review(json.dumps(review(obj=obj))))).to_dict("1")
    assert unchanged == {"uid": "1", "allowed": True}
    deletion = await handler(parse_review(json.dumps(review("DELETE", None, obj))))
    assert deletion.allowed and deletion.patch is None


# --------------------------------------------------------------------------------------------- over HTTPS


def client_context(ca_file: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


@pytest.fixture
async def server(tmp_path):
    artifacts, _ = certs.refresh(None, ["localhost", "127.0.0.1"], ca_name="test-ca", organization="test")
    certs.write_pair(tmp_path, artifacts.serving)
    certs.write_file(tmp_path / "ca.crt", artifacts.ca.cert)
    srv = WebhookServer(host="127.0.0.1", port=0, cert_dir=tmp_path, reload_interval=0.05)

    async def refuse_odd(request: AdmissionRequest):
        if request.object.get("n", 0) % 2:
            return denied({"code": 403, "reason": "Forbidden", "message": "odd"}, ["w"])
        return allowed(["fine"])

    async def broken(request: AdmissionRequest):
        raise RuntimeError("boom")

    srv.register("/validate", validating(refuse_odd))
    srv.register("/broken", validating(broken))
    task = asyncio.create_task(srv.run())
    await srv.serving.wait()
    try:
        yield srv, tmp_path
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def post(srv, ca_file, path, body: bytes):
    connector = aiohttp.TCPConnector(ssl=client_context(ca_file))
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(f"https://127.0.0.1:{srv.port}{path}", data=body,
                                headers={"Content-Type": "application/json"}) as resp:
            return resp.status, await resp.json(content_type=None)


async def test_server_answers_reviews_over_https(server):
    srv, cert_dir = server
    status, answer = await post(srv, cert_dir / "ca.crt", "/validate", json.dumps(review(obj={"n": 2})).encode())
    assert status == 200 and answer["response"] == {"uid": "1234", "allowed": True, "warnings": ["fine"]}
    status, answer = await post(srv, cert_dir / "ca.crt", "/validate", json.dumps(review(obj={"n": 3})).encode())
    assert status == 200 and answer["response"]["allowed"] is False
    assert answer["response"]["status"]["message"] == "odd"


async def test_server_survives_bad_requests_and_failing_handlers(server):
    srv, cert_dir = server
    ca = cert_dir / "ca.crt"
    status, answer = await post(srv, ca, "/validate", b"garbage")
    assert status == 400 and answer["response"]["allowed"] is False
    assert answer["response"]["status"]["code"] == 400 and "not JSON" in answer["response"]["status"]["message"]
    status, answer = await post(srv, ca, "/broken", json.dumps(review(obj={})).encode())
    assert status == 200 and answer["response"]["status"] == {"code": 500, "message": "internal error: boom"}
    status, answer = await post(srv, ca, "/validate", b"x" * (8 * 1024 * 1024))
    assert status == 400 and "larger than" in answer["response"]["status"]["message"]
    # Still serving afterwards.
    status, answer = await post(srv, ca, "/validate", json.dumps(review(obj={"n": 2})).encode())
    assert status == 200 and answer["response"]["allowed"] is True


async def served_certificate(port: int) -> tuple[x509.Certificate, str | None]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    # No server name: the API server calling https://127.0.0.1 sends none either.
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="")
    tls = writer.get_extra_info("ssl_object")
    cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    protocol = tls.selected_alpn_protocol()
    writer.close()
    return cert, protocol


async def test_server_speaks_http1_only_and_reloads_a_rotated_certificate(server):
    srv, cert_dir = server
    before, protocol = await served_certificate(srv.port)
    assert protocol == "http/1.1"
    rotated, _ = certs.refresh(None, ["rotated.example", "127.0.0.1"], ca_name="test-ca-2", organization="test")
    certs.write_pair(cert_dir, rotated.serving)
    wanted = x509.load_pem_x509_certificate(rotated.serving.cert)

    async def reloaded():
        cert, _ = await served_certificate(srv.port)
        return cert == wanted

    from support import until

    await until(reloaded, what="the rotated certificate to be served")
    assert before != wanted


async def test_server_keeps_the_old_certificate_when_the_new_files_do_not_match(server):
    srv, cert_dir = server
    before, _ = await served_certificate(srv.port)
    other, _ = certs.refresh(None, ["127.0.0.1"], ca_name="x", organization="x")
    certs.write_file(cert_dir / "tls.crt", other.serving.cert)  # key left from the old pair: a mismatch
    assert srv.certificates.reload_if_changed() is False
    after, _ = await served_certificate(srv.port)
    assert after == before
