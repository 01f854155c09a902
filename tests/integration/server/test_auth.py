"""Authentication on the sandbox: Bearer tokens checked by a real TokenReview, and deployment reads and writes made
with the caller's token so that RBAC decides. The caller is a ServiceAccount allowed to manage ModelDeployments in
one namespace only (Role + RoleBinding), with a token minted by the TokenRequest API."""

from __future__ import annotations

import uuid

import pytest

from airunway.api.resources import MODEL_DEPLOYMENTS
from airunway.kube.client import Client
from airunway.kube.resources import NAMESPACES, ROLEBINDINGS, ROLES, SERVICEACCOUNTS
from airunway.server.app import Settings

from support import DashboardAPI, until


def model(name: str, namespace: str) -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}}}


@pytest.fixture
async def kube(sandbox):
    async with await Client.connect(sandbox.kubeconfig) as client:
        yield client


@pytest.fixture
async def other_namespace(kube):
    name = f"t-{uuid.uuid4().hex[:10]}"
    await kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        await kube.delete(NAMESPACES, name, ignore_not_found=True)


async def namespaced_token(kube: Client, namespace: str) -> str:
    """A token of a new ServiceAccount that may manage ModelDeployments in ``namespace`` and nothing else."""
    await kube.create(SERVICEACCOUNTS, {"apiVersion": "v1", "kind": "ServiceAccount",
                                        "metadata": {"name": "team", "namespace": namespace}})
    await kube.create(ROLES, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "modeldeployments", "namespace": namespace},
        "rules": [{"apiGroups": ["airunway.ai"], "resources": ["modeldeployments"],
                   "verbs": ["get", "list", "watch", "create", "delete"]}],
    })
    await kube.create(ROLEBINDINGS, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "team-modeldeployments", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "modeldeployments"},
        "subjects": [{"kind": "ServiceAccount", "name": "team", "namespace": namespace}],
    })
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}
    minted = await kube.request("POST", SERVICEACCOUNTS.path(namespace, "team", "token"), body=request)
    return minted["status"]["token"]


async def test_rbac_decides_what_a_caller_sees_and_does(sandbox, namespace, other_namespace, kube):
    token = await namespaced_token(kube, namespace)
    await kube.create(MODEL_DEPLOYMENTS, model("mine", namespace))
    await kube.create(MODEL_DEPLOYMENTS, model("theirs", other_namespace))
    as_team = {"Authorization": f"Bearer {token}"}
    async with DashboardAPI(sandbox, Settings(auth_enabled=True)) as api:
        # Anyone: the public paths. Nobody without a valid token: the rest.
        assert (await api.get("/api/cluster/status")).json()["connected"] is True
        assert (await api.get("/api/settings")).json()["auth"] == {"enabled": True}
        for headers in ({}, {"Authorization": f"Token {token}"}):
            refused = await api.get("/api/deployments", headers=headers)
            assert refused.status_code == 401 and refused.headers["X-Airunway-Auth-Error"] == "true"
            assert refused.json() == {"error": {"message": "Authentication required", "statusCode": 401}}
        forged = await api.get("/api/deployments", headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401 and forged.headers["X-Airunway-Auth-Error"] == "true"
        assert forged.json()["error"]["message"]  # the TokenReview's own reason
        unsaved = await api.put("/api/settings", json={"defaultNamespace": "x"})
        assert unsaved.status_code == 401 and unsaved.headers["X-Airunway-Auth-Error"] == "true"

        async def listed() -> list[str]:
            answer = await api.get("/api/deployments", headers=as_team)
            assert answer.status_code == 200
            return [f"{d['namespace']}/{d['name']}" for d in answer.json()["deployments"]]

        assert await until(listed, what="the caller's deployments") == [f"{namespace}/mine"]
        hidden = await api.get(f"/api/deployments?namespace={other_namespace}", headers=as_team)
        assert hidden.json()["deployments"] == []
        assert (await api.get(f"/api/deployments/mine?namespace={namespace}", headers=as_team)).status_code == 200
        assert (await api.get(f"/api/deployments/mine/pods?namespace={namespace}", headers=as_team)).json() == {
            "pods": []}
        for path in ("", "/pods", "/manifest", "/logs"):
            unseen = await api.get(f"/api/deployments/theirs{path}?namespace={other_namespace}", headers=as_team)
            assert unseen.status_code == 404, path

        created = await api.post("/api/deployments", headers=as_team, json={
            "name": "new", "namespace": namespace, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm"})
        assert created.status_code == 201, created.text
        refused = await api.post("/api/deployments", headers=as_team, json={
            "name": "new", "namespace": other_namespace, "modelId": "Qwen/Qwen3-0.6B", "engine": "vllm"})
        assert refused.status_code == 403
        assert refused.json()["error"]["message"].startswith("Failed to create deployment: ")
        assert "forbidden" in refused.json()["error"]["message"]
        assert await kube.get_or_none(MODEL_DEPLOYMENTS, "new", other_namespace) is None

        not_theirs = await api.delete(f"/api/deployments/theirs?namespace={other_namespace}", headers=as_team)
        assert not_theirs.status_code == 404
        assert await kube.get_or_none(MODEL_DEPLOYMENTS, "theirs", other_namespace) is not None
        removed = await api.delete(f"/api/deployments/new?namespace={namespace}", headers=as_team)
        assert removed.status_code == 200

        # The dashboard's own identity (cluster-admin here) sees everything when authentication is off.
        async with DashboardAPI(sandbox, Settings(auth_enabled=False)) as open_api:
            async def everything() -> bool:
                names = {d["name"] for d in (await open_api.get("/api/deployments")).json()["deployments"]}
                return {"mine", "theirs"} <= names

            await until(everything, what="both deployments listed without authentication")
