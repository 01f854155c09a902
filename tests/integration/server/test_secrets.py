"""The HuggingFace token through the dashboard: checked with a Hub stand-in on 127.0.0.1 (answering whoami-v2 as the
Hub does), stored in the namespace of every registered provider and ``default``, and never seen again in a response
or a log line."""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS
from airunway.kube.client import Client
from airunway.kube.resources import NAMESPACES, SECRETS
from airunway.server.app import Settings
from airunway.server.services.secrets import SECRET_NAME, HuggingFaceSecrets

from support import DashboardAPI, until

TOKEN = "hf_sandboxTokenThatMustNeverBeShown0123"


class _Hub(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the handler's name
        if self.path != "/api/whoami-v2":
            self.send_error(404)
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            body = json.dumps({"error": "Invalid credentials in Authorization header"}).encode()
            self.send_response(401)
        else:
            body = json.dumps({"type": "user", "id": "6123", "name": "sandbox-user", "fullname": "Sandbox User",
                               "email": "user@example.org", "avatarUrl": "/avatars/sandbox.svg",
                               "auth": {"type": "access_token", "accessToken": {"role": "read"}}}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hub(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield
    finally:
        server.shutdown()


async def _cleanup(kube: Client, namespaces: list[str]) -> None:
    for namespace in namespaces:
        await kube.delete(SECRETS, SECRET_NAME, namespace, ignore_not_found=True)


def _provider(name: str, annotations: dict[str, str]) -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
            "metadata": {"name": name, "annotations": annotations}, "spec": {}}


async def test_the_token_is_stored_everywhere_and_shown_nowhere(sandbox, hub, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    answers = []
    # A provider registered now, whose namespace does not exist yet: the token follows it there.
    provider = f"t-{uuid.uuid4().hex[:8]}"
    models = f"{provider}-models"
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, _provider(provider, {"airunway.ai/default-namespace": models}))
        TARGET_NAMESPACES = await HuggingFaceSecrets(kube, None).target_namespaces()
        assert models in TARGET_NAMESPACES and "default" in TARGET_NAMESPACES
        await _cleanup(kube, TARGET_NAMESPACES)
        try:
            empty = await api.get("/api/secrets/huggingface/status")
            refused = await api.post("/api/secrets/huggingface", json={"accessToken": "hf_not_a_real_token"})
            blank = await api.post("/api/secrets/huggingface", json={"accessToken": ""})
            saved = await api.post("/api/secrets/huggingface", json={"accessToken": TOKEN})
            status = await api.get("/api/secrets/huggingface/status")
            stored = {ns: await kube.get_or_none(SECRETS, SECRET_NAME, ns) for ns in TARGET_NAMESPACES}
            # Saving again replaces the Secrets in place.
            again = await api.post("/api/secrets/huggingface", json={"accessToken": TOKEN})
            deleted = await api.delete("/api/secrets/huggingface")
            after = await api.get("/api/secrets/huggingface/status")
            nothing_left = await api.delete("/api/secrets/huggingface")
            answers = [empty, refused, blank, saved, status, again, deleted, after, nothing_left]
            remaining = [ns for ns in TARGET_NAMESPACES if await kube.get_or_none(SECRETS, SECRET_NAME, ns)]
        finally:
            await _cleanup(kube, TARGET_NAMESPACES)
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, provider, ignore_not_found=True)
            await kube.delete(NAMESPACES, models, ignore_not_found=True)

    assert empty.json() == {"configured": False, "namespaces": [{"name": n, "exists": False} for n in TARGET_NAMESPACES]}
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Invalid HuggingFace token: Failed to get user info: 401 Unauthorized"
    assert blank.status_code == 400 and "accessToken" in blank.text
    assert saved.status_code == 200, saved.text
    user = {"id": "6123", "name": "sandbox-user", "fullname": "Sandbox User", "email": "user@example.org",
            "avatarUrl": "https://huggingface.co/avatars/sandbox.svg"}
    assert saved.json() == {"success": True, "message": "HuggingFace token saved successfully", "user": user,
                            "results": [{"namespace": n, "success": True} for n in TARGET_NAMESPACES]}
    assert status.json() == {"configured": True, "user": user,
                             "namespaces": [{"name": n, "exists": True} for n in TARGET_NAMESPACES]}
    for namespace, secret in stored.items():
        assert secret is not None, namespace
        assert base64.b64decode(secret["data"]["HF_TOKEN"]).decode() == TOKEN
        assert secret["type"] == "Opaque"
        assert secret["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "airunway",
                                                "airunway.ai/secret-type": "huggingface-token"}
    assert again.status_code == 200
    assert deleted.json() == {"success": True, "message": "HuggingFace secrets deleted successfully",
                              "results": [{"namespace": n, "success": True} for n in TARGET_NAMESPACES]}
    assert after.json()["configured"] is False and remaining == []
    # Nothing to delete: as upstream, not a success, and each namespace says why.
    assert nothing_left.status_code == 200
    assert nothing_left.json() == {"success": False, "message": "Some secrets could not be deleted", "results": [
        {"namespace": n, "success": False, "error": f'secrets "{SECRET_NAME}" not found'} for n in TARGET_NAMESPACES]}

    out, err = capfd.readouterr()
    for answer in answers:
        assert TOKEN not in answer.text
    assert caplog.records and TOKEN not in caplog.text
    assert TOKEN not in out and TOKEN not in err


async def test_the_target_namespaces_follow_the_registered_providers(sandbox):
    """Each config's default-namespace annotation, else its installation's defaultNamespace, else ``default``;
    a provider that goes away takes its namespace with it."""
    names = [f"t-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    configs = [_provider(names[0], {"airunway.ai/default-namespace": f"{names[0]}-annotated"}),
               _provider(names[1], {"airunway.ai/installation": json.dumps({"defaultNamespace": f"{names[1]}-installed"})}),
               _provider(names[2], {})]
    async with await Client.connect(sandbox.kubeconfig) as kube:
        secrets = HuggingFaceSecrets(kube, None)
        try:
            for config in configs:
                await kube.create(INFERENCE_PROVIDER_CONFIGS, config)
            targets = await secrets.target_namespaces()
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, names[0])

            async def dropped():
                return f"{names[0]}-annotated" not in await secrets.target_namespaces()

            await until(dropped, what="the deleted provider's namespace no longer a target")
        finally:
            for name in names:
                await kube.delete(INFERENCE_PROVIDER_CONFIGS, name, ignore_not_found=True)
    assert f"{names[0]}-annotated" in targets and f"{names[1]}-installed" in targets
    assert targets.count("default") == 1 and len(targets) == len(set(targets))


async def test_an_unreachable_hub_refuses_the_token_clearly(sandbox, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    async with DashboardAPI(sandbox, Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)) as api:
        answer = await api.post("/api/secrets/huggingface", json={"accessToken": TOKEN})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Invalid HuggingFace token: Failed to reach HuggingFace: HuggingFace Hub is unreachable (ConnectError)"
    assert TOKEN not in answer.text
