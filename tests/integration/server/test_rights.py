"""The dashboard never lends its own rights: with authentication on, every operation of the OpenAPI schema is called
with the token of a ServiceAccount that has no RBAC at all, and nothing in the cluster may change (the
resourceVersion of every object of the kinds the dashboard writes, and of those Helm would, is compared before and
after). Each operation has its expected answer in :data:`EXPECTED`: a new operation without an entry fails the test.
Then the same dashboard installs a provider for a caller bound to deploy/dashboard-installer-rbac.yaml's role.

Outside services are stand-ins on 127.0.0.1 (the HuggingFace Hub, Azure prices, vLLM recipes); Docker is missing;
helm and kubectl are the sandbox's own.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest
import yaml

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.resources import (
    CONFIGMAPS,
    CRDS,
    DEPLOYMENTS,
    NAMESPACES,
    ROLEBINDINGS,
    ROLES,
    SECRETS,
    SERVICEACCOUNTS,
    SERVICES,
    Resource,
)
from airunway.server.app import Settings
from airunway.server.services import aikit

from charts import CHART, CRD_NAME, provider_config
from fakes.standins import AzurePrices, RecipesSite, serve
from support import DEPLOY, DashboardAPI, until
from workload import talker

CLUSTERROLES = Resource("rbac.authorization.k8s.io", "v1", "clusterroles", namespaced=False, kind="ClusterRole")
CLUSTERROLEBINDINGS = Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", namespaced=False,
                               kind="ClusterRoleBinding")
WATCHED = (SECRETS, CONFIGMAPS, CRDS, INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS, NAMESPACES, DEPLOYMENTS,
           SERVICES, SERVICEACCOUNTS, ROLES, ROLEBINDINGS, CLUSTERROLES, CLUSTERROLEBINDINGS)
TARGET = "rights-target"
REDIRECT = "http://127.0.0.1:3001/oauth/callback"

# What a caller without any RBAC gets from each operation. 403: the cluster refused the caller (the message names
# the permission); 404: the deployment or state is not visible to the caller; 200: an answer that needs no cluster
# rights or shows only what the caller may see (often nothing); 400/410: the request itself.
EXPECTED: dict[tuple[str, str], int] = {
    ("GET", "/api/health"): 200,
    ("GET", "/api/health/version"): 200,
    ("GET", "/api/health/status"): 200,
    ("GET", "/api/health/nodes"): 200,
    ("GET", "/api/cluster"): 200,
    ("GET", "/api/cluster/version"): 200,
    ("GET", "/api/cluster/status"): 200,
    ("GET", "/api/cluster/nodes"): 200,
    ("GET", "/api/models"): 200,
    ("GET", "/api/models/search"): 200,
    ("GET", "/api/models/{model_id}/gguf-files"): 200,
    ("GET", "/api/models/{model_id}"): 200,
    ("GET", "/api/settings"): 200,
    ("PUT", "/api/settings"): 403,
    ("GET", "/api/settings/providers"): 200,
    ("GET", "/api/settings/providers/{provider_id}"): 403,
    ("GET", "/api/providers"): 200,
    ("GET", "/api/providers/{provider_id}"): 403,
    ("GET", "/api/deployments"): 200,
    ("POST", "/api/deployments"): 403,
    ("POST", "/api/deployments/preview"): 200,
    ("POST", "/api/deployments/selection"): 403,
    ("GET", "/api/deployments/-/pvcs"): 403,
    ("GET", "/api/deployments/{name}"): 404,
    ("DELETE", "/api/deployments/{name}"): 404,
    ("GET", "/api/deployments/{name}/manifest"): 404,
    ("GET", "/api/deployments/{name}/pods"): 404,
    ("GET", "/api/deployments/{name}/metrics"): 404,
    ("GET", "/api/deployments/{name}/pending-reasons"): 404,
    ("POST", "/api/deployments/{namespace}/{name}/chat"): 404,
    ("POST", "/api/deployments/{name}/chat"): 404,
    ("GET", "/api/deployments/{name}/logs"): 404,
    ("GET", "/api/gateway/status"): 200,
    ("GET", "/api/gateway/models"): 200,
    ("GET", "/api/installation/gateway/status"): 403,
    ("POST", "/api/installation/gateway/install-crds"): 403,
    ("GET", "/api/installation/helm/status"): 200,
    ("GET", "/api/installation/gpu-operator/status"): 200,
    ("POST", "/api/installation/gpu-operator/install"): 403,
    ("GET", "/api/installation/gpu-operator/progress"): 200,
    ("GET", "/api/installation/gpu-capacity"): 200,
    ("GET", "/api/installation/gpu-capacity/detailed"): 200,
    ("GET", "/api/installation/gpu-throughput"): 404,
    ("GET", "/api/installation/providers/{provider_id}/status"): 403,
    ("GET", "/api/installation/providers/{provider_id}/commands"): 403,
    ("GET", "/api/installation/providers/{provider_id}/progress"): 200,
    ("POST", "/api/installation/providers/{provider_id}/install"): 403,
    ("POST", "/api/installation/providers/{provider_id}/uninstall"): 403,
    ("POST", "/api/installation/providers/{provider_id}/uninstall-crds"): 403,
    ("GET", "/api/runtimes/status"): 200,
    ("GET", "/api/installation/runtimes/status"): 200,
    ("GET", "/api/secrets/huggingface/status"): 403,
    ("POST", "/api/secrets/huggingface"): 403,
    ("DELETE", "/api/secrets/huggingface"): 403,
    ("POST", "/api/costs/estimate"): 200,
    ("GET", "/api/costs/node-pools"): 200,
    ("GET", "/api/costs/instance-price"): 400,
    ("GET", "/api/costs/gpu-models"): 200,
    ("GET", "/api/costs/normalize-gpu"): 200,
    ("GET", "/api/autoscaler/detection"): 200,
    ("GET", "/api/autoscaler/status"): 404,
    ("GET", "/api/oauth/huggingface/config"): 200,
    ("POST", "/api/oauth/huggingface/start"): 200,
    ("GET", "/api/oauth/huggingface/verifier/{state}"): 410,
    ("POST", "/api/oauth/huggingface/token"): 400,
    ("POST", "/api/oauth/huggingface/token-with-state"): 404,
    ("GET", "/api/aiconfigurator/status"): 200,
    ("POST", "/api/aiconfigurator/analyze"): 200,
    ("POST", "/api/aiconfigurator/normalize-gpu"): 200,
    ("GET", "/api/aikit/models"): 200,
    ("GET", "/api/aikit/models/{model_id}"): 200,
    ("POST", "/api/aikit/build/preview"): 200,
    ("POST", "/api/aikit/build"): 200,
    ("GET", "/api/aikit/infrastructure/status"): 200,
    ("POST", "/api/aikit/infrastructure/setup"): 403,
    ("GET", "/api/vllm/recipes"): 200,
    ("POST", "/api/vllm/recipes/resolve"): 200,
    ("GET", "/api/vllm/recipes/{org}/{model}"): 200,
}


def _bodies(namespace: str, hub_token: str) -> dict[tuple[str, str], dict]:
    deployment = {"name": "rights-probe", "namespace": namespace, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm"}
    return {
        ("PUT", "/api/settings"): {"defaultNamespace": "rights-probe"},
        ("POST", "/api/deployments"): deployment,
        ("POST", "/api/deployments/preview"): deployment,
        ("POST", "/api/deployments/selection"): deployment,
        ("POST", "/api/deployments/{namespace}/{name}/chat"): {"messages": [{"role": "user", "content": "Hi"}]},
        ("POST", "/api/deployments/{name}/chat"): {"messages": [{"role": "user", "content": "Hi"}]},
        ("POST", "/api/secrets/huggingface"): {"accessToken": hub_token},
        ("POST", "/api/costs/estimate"): {"gpuType": "A100", "gpuCount": 1, "replicas": 1},
        ("POST", "/api/oauth/huggingface/start"): {"redirectUri": REDIRECT},
        ("POST", "/api/oauth/huggingface/token"): {"code": "x", "codeVerifier": "v" * 43, "redirectUri": REDIRECT},
        ("POST", "/api/oauth/huggingface/token-with-state"): {"code": "x", "state": str(uuid.uuid4())},
        ("POST", "/api/aiconfigurator/analyze"): {"modelId": "Qwen/Qwen3-8B", "gpuType": "A100", "gpuCount": 1},
        ("POST", "/api/aiconfigurator/normalize-gpu"): {"gpuProduct": "NVIDIA-A100-SXM4-80GB"},
        ("POST", "/api/aikit/build/preview"): {"modelSource": "premade", "premadeModel": aikit.PREMADE[0].id},
        ("POST", "/api/aikit/build"): {"modelSource": "premade", "premadeModel": aikit.PREMADE[0].id},
        ("POST", "/api/vllm/recipes/resolve"): {"modelId": "Qwen/Qwen3-8B"},
    }


def _query(path: str, namespace: str) -> dict[str, str]:
    if path == "/api/models/search":
        return {"q": "qwen"}
    if path == "/api/costs/normalize-gpu":
        return {"label": "NVIDIA-A100-SXM4-80GB"}
    if path.startswith("/api/deployments") and "{namespace}" not in path:
        return {"namespace": namespace}
    return {}


def _url(path: str, namespace: str, provider: str) -> str:
    values = {"name": TARGET, "namespace": namespace, "provider_id": provider, "state": str(uuid.uuid4()),
              "org": "Qwen", "model": "Qwen3-8B", "model_id": "Qwen/Qwen3-8B"}
    if path.startswith("/api/aikit/models/"):
        values["model_id"] = aikit.PREMADE[0].id
    if path.endswith("/gguf-files"):
        values["model_id"] = "Qwen/Qwen3-8B-GGUF"
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


async def _dump(kube: Client) -> dict[tuple[str, str, str], str]:
    """Every object of the watched kinds, by (resource, namespace, name): its resourceVersion."""
    lists = await asyncio.gather(*(kube.list_all(r) for r in WATCHED))
    return {(r.plural, o["metadata"].get("namespace", ""), o["metadata"]["name"]): o["metadata"]["resourceVersion"]
            for r, listed in zip(WATCHED, lists) for o in listed.items}


async def _token(kube: Client, namespace: str, account: str) -> str:
    await kube.create(SERVICEACCOUNTS, {"apiVersion": "v1", "kind": "ServiceAccount",
                                        "metadata": {"name": account, "namespace": namespace}})
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}
    minted = await kube.request("POST", SERVICEACCOUNTS.path(namespace, account, "token"), body=request)
    return minted["status"]["token"]


@pytest.fixture
def outside(monkeypatch, hub, tmp_path):
    """Every outside service a stand-in on 127.0.0.1, Docker missing."""
    azure, recipes = serve(AzurePrices), serve(RecipesSite)
    monkeypatch.setenv("AZURE_PRICING_URL", azure.url)
    monkeypatch.setenv("VLLM_RECIPES_BASE_URL", recipes.url)
    monkeypatch.setenv("DOCKER_PATH", str(tmp_path / "no-docker"))
    monkeypatch.setenv("AIRUNWAY_METRICS_URL", "http://127.0.0.1:9/metrics")
    monkeypatch.setenv("AIRUNWAY_DISABLE_AICONFIGURATOR", "true")
    try:
        yield hub
    finally:
        azure.close()
        recipes.close()


async def _leaving(kube: Client) -> set[str]:
    """The namespaces being deleted (earlier tests' namespaces go away in the background, some slowly: a deployment
    whose provider stopped keeps its finalizer until the core controller releases it)."""
    return {ns["metadata"]["name"] for ns in (await kube.list_all(NAMESPACES)).items
            if (ns.get("status") or {}).get("phase") == "Terminating"}


async def test_a_caller_without_rbac_changes_nothing(sandbox, namespace, outside, helm_env, chart_repo):  # noqa: F811
    provider = f"rights-{uuid.uuid4().hex[:6]}"
    target = f"rights-op-{uuid.uuid4().hex[:6]}"
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(auth_enabled=True)) as api:
        token = await _token(kube, namespace, "nobody")
        headers = {"Authorization": f"Bearer {token}"}
        schema = (await api.get("/api/openapi.json", headers=headers)).json()
        operations = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
        assert operations - EXPECTED.keys() == set(), "operations without an expected answer for a caller without RBAC"
        assert EXPECTED.keys() - operations == set(), "expected answers of operations that no longer exist"

        await kube.create(MODEL_DEPLOYMENTS, {
            "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": TARGET, "namespace": namespace},
            "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}}})
        await kube.create(INFERENCE_PROVIDER_CONFIGS, provider_config(provider, chart_repo, target))
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf-token-secret", "namespace": "default"},
                  "stringData": {"HF_TOKEN": outside.token}}
        await kube.apply(secret, resource=SECRETS)
        try:
            leaving = await _leaving(kube)
            before = await _dump(kube)
            bodies = _bodies(namespace, outside.token)
            answers = {}
            for method, path in sorted(EXPECTED, key=lambda op: (op[0] == "GET", op[1])):
                body = bodies.get((method, path))
                answer = await api.request(method, _url(path, namespace, provider), headers=headers,
                                           params=_query(path, namespace),
                                           **({"json": body} if body is not None else {}))
                answers[(method, path)] = answer
            after = await _dump(kube)
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, provider, ignore_not_found=True)
            await kube.delete(SECRETS, "hf-token-secret", "default", ignore_not_found=True)

    changed = {key: (before.get(key), after.get(key)) for key in before.keys() | after.keys()
               if before.get(key) != after.get(key)
               and key[1] not in leaving and not (key[0] == "namespaces" and key[2] in leaving)}
    assert changed == {}, changed
    got = {op: answer.status_code for op, answer in answers.items()}
    assert got == EXPECTED, {op: (code, answers[op].text[:300]) for op, code in got.items() if code != EXPECTED[op]}
    username = f"system:serviceaccount:{namespace}:nobody"
    for op, answer in answers.items():
        if answer.status_code == 403:
            message = answer.json()["error"]["message"]
            assert "cannot " in message, (op, message)  # the verb and resource the caller lacks
            assert username in message or "the caller cannot" in message, (op, message)
        assert outside.token not in answer.text, op


async def test_the_installer_role_installs_a_provider(sandbox, namespace, chart_repo, helm_env):  # noqa: F811
    """A caller bound to deploy/dashboard-installer-rbac.yaml's ClusterRole (and nothing else) installs a provider
    through the dashboard with authentication on: helm runs with the caller's token, and the caller can remove it."""
    provider = f"installer-{uuid.uuid4().hex[:6]}"
    target = f"installer-op-{uuid.uuid4().hex[:6]}"
    [role, binding] = [d for d in yaml.safe_load_all((DEPLOY / "dashboard-installer-rbac.yaml").read_text()) if d]
    role["metadata"]["name"] = binding["metadata"]["name"] = binding["roleRef"]["name"] = provider
    binding["subjects"] = [{"kind": "ServiceAccount", "name": "installer", "namespace": namespace}]
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(auth_enabled=True)) as api:
        token = await _token(kube, namespace, "installer")
        headers = {"Authorization": f"Bearer {token}"}
        await kube.create(INFERENCE_PROVIDER_CONFIGS, provider_config(provider, chart_repo, target))
        try:
            refused = await api.post(f"/api/installation/providers/{provider}/install", headers=headers)
            await kube.create(CLUSTERROLES, role)
            await kube.create(CLUSTERROLEBINDINGS, binding)
            installed = await until(lambda: _install(api, provider, headers), timeout=30,
                                    what="the install allowed once the role is bound")
            release = await kube.list_all(SECRETS, target, label_selector="owner=helm")
            removed = await api.post(f"/api/installation/providers/{provider}/uninstall", headers=headers)
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, provider, ignore_not_found=True)
            await kube.delete(CRDS, CRD_NAME, ignore_not_found=True)
            await kube.delete(NAMESPACES, target, ignore_not_found=True)
            await kube.delete(CLUSTERROLEBINDINGS, provider, ignore_not_found=True)
            await kube.delete(CLUSTERROLES, provider, ignore_not_found=True)
    assert refused.status_code == 403, refused.text
    assert f"system:serviceaccount:{namespace}:installer" in refused.json()["error"]["message"]
    body = installed.json()
    assert body["success"] is True and [r["step"] for r in body["results"]] == [
        "repo-add-demo", "repo-update", f"install-{CHART}"]
    assert [s["metadata"]["labels"]["name"] for s in release.items] == [CHART]
    assert removed.status_code == 200 and removed.json()["success"] is True, removed.text


async def _install(api, provider: str, headers: dict):
    answer = await api.post(f"/api/installation/providers/{provider}/install", headers=headers)
    return answer if answer.status_code != 403 else None


async def test_no_cross_site_writes(sandbox, namespace):
    """With authentication off, a page on another origin cannot change anything with a form (CORS does not stop a
    simple request): a foreign Origin is refused with 403, a body that is not JSON with 415; the dashboard's own page,
    loopback origins and clients that send no Origin (curl) still work."""
    provider = f"csrf-{uuid.uuid4().hex[:6]}"
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(auth_enabled=False)) as api:
        await kube.create(INFERENCE_PROVIDER_CONFIGS, {
            "apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig", "metadata": {"name": provider},
            "spec": {"capabilities": {"engines": [{"name": "vllm", "requiresCRD": True}]}}})
        try:
            uninstall = f"/api/installation/providers/{provider}/uninstall-crds"
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            foreign = await api.post(uninstall, headers={**form, "Origin": "https://evil.example"}, content=b"a=1")
            opaque = await api.post(uninstall, headers={**form, "Origin": "null"}, content=b"a=1")
            still_there = await kube.get_or_none(INFERENCE_PROVIDER_CONFIGS, provider) is not None

            create = {"name": "csrf-probe", "namespace": namespace, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm"}
            as_form = await api.post("/api/deployments", headers=form, content=b"name=csrf-probe")
            as_text = await api.post("/api/deployments", headers={"Content-Type": "text/plain"},
                                     content=json.dumps(create).encode())
            not_created = await kube.get_or_none(MODEL_DEPLOYMENTS, "csrf-probe", namespace) is None
            created = await api.post("/api/deployments", headers={"Origin": "http://localhost:5173"}, json=create)
            same_origin = await api.delete(f"/api/deployments/csrf-probe?namespace={namespace}",
                                           headers={"Origin": "http://dashboard.test"})
            removed = await api.post(uninstall)  # no Origin: not a browser page
        finally:
            await kube.delete(INFERENCE_PROVIDER_CONFIGS, provider, ignore_not_found=True)
    assert foreign.status_code == 403 and opaque.status_code == 403
    assert foreign.json()["error"] == {"statusCode": 403, "message": (
        "Origin https://evil.example may not change anything here: send the request from the dashboard's own page "
        "or an origin listed in CORS_ORIGIN")}
    assert still_there
    assert as_form.status_code == 415 and as_text.status_code == 415
    assert as_text.json()["error"]["message"] == "Content-Type must be application/json (got text/plain)"
    assert not_created
    assert created.status_code == 201, created.text
    assert same_origin.status_code == 200, same_origin.text
    assert removed.status_code == 200 and removed.json()["success"] is True


def _role(namespace: str, name: str, rules: list[dict], account: str) -> tuple[dict, dict]:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace}, "rules": rules}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": name, "namespace": namespace},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]}
    return role, binding


async def test_logs_and_settings_need_their_own_rights(sandbox, namespace):
    """A caller allowed only to get ModelDeployments sees the deployment but not its pods' logs (403 naming
    pods/log) until it may get pods/log; changing the settings needs rights on the airunway-config ConfigMap."""
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(auth_enabled=True)) as api:
        token = await _token(kube, namespace, "viewer")
        headers = {"Authorization": f"Bearer {token}"}
        for obj in _role(namespace, "get-deployments", [
                {"apiGroups": ["airunway.ai"], "resources": ["modeldeployments"], "verbs": ["get"]}], "viewer"):
            await kube.create(ROLES if obj["kind"] == "Role" else ROLEBINDINGS, obj)
        await talker(kube, namespace)
        logs = f"/api/deployments/talker/logs?namespace={namespace}"
        seen = await api.get(f"/api/deployments/talker?namespace={namespace}", headers=headers)

        async def pods_listed():
            answer = await api.get(f"/api/deployments/talker/pods?namespace={namespace}", headers=headers)
            return answer.json()["pods"]

        await until(pods_listed, what="the pod in the dashboard's cache")
        refused = await api.get(logs, headers=headers)
        for obj in _role(namespace, "read-logs", [
                {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}], "viewer"):
            await kube.create(ROLES if obj["kind"] == "Role" else ROLEBINDINGS, obj)
        allowed = await until(lambda: _ok(api.get(logs, headers=headers)), what="logs once pods/log is allowed")

        settings = {"defaultNamespace": namespace}
        unsaved = await api.put("/api/settings", headers=headers, json=settings)
        original = await kube.get_or_none(CONFIGMAPS, "airunway-config", "airunway-system")
        if await kube.get_or_none(NAMESPACES, "airunway-system") is None:
            await kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": "airunway-system"}})
        if original is None:
            await kube.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": "airunway-config", "namespace": "airunway-system"}, "data": {"config.json": "{}"}})
        grants = _role("airunway-system", f"settings-{namespace}", [
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["airunway-config"],
             "verbs": ["get", "update"]}], "viewer")
        grants[1]["subjects"][0]["namespace"] = namespace
        try:
            for obj in grants:
                await kube.create(ROLES if obj["kind"] == "Role" else ROLEBINDINGS, obj)
            saved = await until(lambda: _ok(api.put("/api/settings", headers=headers, json=settings)),
                                what="settings saved once the ConfigMap may be updated")
            stored = await kube.get(CONFIGMAPS, "airunway-config", "airunway-system")
        finally:
            if original is None:
                await kube.delete(CONFIGMAPS, "airunway-config", "airunway-system", ignore_not_found=True)
            else:
                original["metadata"].pop("resourceVersion", None)
                await kube.update(CONFIGMAPS, original)
            await kube.delete(ROLES, grants[0]["metadata"]["name"], "airunway-system", ignore_not_found=True)
            await kube.delete(ROLEBINDINGS, grants[1]["metadata"]["name"], "airunway-system", ignore_not_found=True)
    assert seen.status_code == 200
    user = f"system:serviceaccount:{namespace}:viewer"
    assert refused.status_code == 403, refused.text
    message = refused.json()["error"]["message"]
    assert user in message and 'cannot get resource "pods/log"' in message, message
    assert allowed.json()["podName"] == "talker-0" and allowed.json()["logs"]
    assert unsaved.status_code == 403 and user in unsaved.json()["error"]["message"]
    assert 'cannot update resource "configmaps"' in unsaved.json()["error"]["message"]
    assert saved.json()["config"]["defaultNamespace"] == namespace
    assert json.loads(stored["data"]["config.json"])["defaultNamespace"] == namespace


async def _ok(request):
    answer = await request
    return answer if answer.status_code == 200 else None
