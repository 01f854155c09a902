"""AIKit through the API on the sandbox: ready-made images, build previews and their checks, and the build
infrastructure: the registry the dashboard creates in the cluster, and a clear answer when Docker is missing."""

from __future__ import annotations

from airunway.kube.client import Client
from airunway.kube.resources import DEPLOYMENTS, SERVICES
from airunway.server.app import Settings
from airunway.server.services.aikit import NAMESPACE, REGISTRY

from support import DashboardAPI


async def test_premade_models_and_previews(sandbox):
    async with DashboardAPI(sandbox, Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)) as api:
        listed = (await api.get("/api/aikit/models")).json()
        one = await api.get("/api/aikit/models/llama3.2:1b")
        missing = await api.get("/api/aikit/models/nope:1b")
        premade = (await api.post("/api/aikit/build/preview", json={"modelSource": "premade",
                                                                     "premadeModel": "phi4:14b"})).json()
        gguf = (await api.post("/api/aikit/build/preview", json={
            "modelSource": "huggingface", "modelId": "Qwen/Qwen3-8B-GGUF", "ggufFile": "Qwen3-8B-Q4_K_M.gguf"})).json()
        named = (await api.post("/api/aikit/build/preview", json={
            "modelSource": "huggingface", "modelId": "a/b", "ggufFile": "b.F16.gguf", "imageName": "mine",
            "imageTag": "v1"})).json()
        no_premade = await api.post("/api/aikit/build/preview", json={"modelSource": "premade"})
        no_file = await api.post("/api/aikit/build/preview", json={"modelSource": "huggingface", "modelId": "a/b"})
        not_gguf = await api.post("/api/aikit/build/preview", json={"modelSource": "huggingface", "modelId": "a/b",
                                                                     "ggufFile": "model.bin"})
        unknown = await api.post("/api/aikit/build/preview", json={"modelSource": "premade", "premadeModel": "x"})
        bad_source = await api.post("/api/aikit/build/preview", json={"modelSource": "docker"})
        built = (await api.post("/api/aikit/build", json={"modelSource": "premade", "premadeModel": "gemma2:2b"}))
    assert listed["total"] == 10 and [m["id"] for m in listed["models"]][:2] == ["llama3.2:1b", "llama3.2:3b"]
    assert one.json()["image"].endswith("/llama3.2:1b") and one.json()["computeType"] == "cpu"
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "Premade model not found: nope:1b"
    assert premade["imageRef"].endswith("/phi4:14b") and premade["wasPremade"] is True
    assert premade["requiresBuild"] is False
    # The registry is named by its in-cluster Service (where builds push); the image by the node port the kubelets
    # pull from.
    assert gguf == {"imageRef": "localhost:30500/aikit-qwen-qwen3-8b-gguf:q4_k_m", "wasPremade": False,
                    "requiresBuild": True, "registryUrl": "airunway-registry.airunway-system.svc:5000"}
    assert premade["registryUrl"] == "airunway-registry.airunway-system.svc:5000"
    assert named["imageRef"] == "localhost:30500/mine:v1"
    assert no_premade.json()["error"]["message"] == "premade requires premadeModel field"
    assert no_file.json()["error"]["message"] == "huggingface requires modelId and ggufFile fields"
    assert not_gguf.json()["error"]["message"] == "Invalid request: ggufFile must be a .gguf file"
    assert unknown.json()["error"]["message"] == "Invalid request: Unknown premade model: x"
    assert bad_source.status_code == 400 and "modelSource" in bad_source.json()["error"]["message"]
    assert built.status_code == 200 and built.json()["wasPremade"] is True and built.json()["buildTime"] == 0


async def test_build_infrastructure_without_docker(sandbox, monkeypatch):
    monkeypatch.setenv("DOCKER_PATH", "/nonexistent/docker")
    async with await Client.connect(sandbox.kubeconfig) as kube, \
            DashboardAPI(sandbox, Settings(kubeconfig=str(sandbox.kubeconfig), auth_enabled=False)) as api:
        try:
            before = (await api.get("/api/aikit/infrastructure/status")).json()
            setup = await api.post("/api/aikit/infrastructure/setup")
            after = (await api.get("/api/aikit/infrastructure/status")).json()
            service = await kube.get(SERVICES, REGISTRY, NAMESPACE)
            build = await api.post("/api/aikit/build", json={"modelSource": "huggingface", "modelId": "a/b",
                                                              "ggufFile": "b.Q4_0.gguf"})
        finally:
            await kube.delete(DEPLOYMENTS, REGISTRY, NAMESPACE, ignore_not_found=True)
            await kube.delete(SERVICES, REGISTRY, NAMESPACE, ignore_not_found=True)
    assert before["ready"] is False and before["registry"] == {
        "ready": False, "url": "airunway-registry.airunway-system.svc:5000", "message": "Registry deployment not found"}
    assert before["builder"]["exists"] is False and "Docker CLI not found" in before["builder"]["message"]
    assert setup.status_code == 400
    assert setup.json()["error"]["message"].startswith("Failed to set up builder: Docker CLI not found")
    # The registry part of the setup is done: it runs in the cluster (kwok runs its pod).
    assert after["registry"] == {"ready": True, "url": "airunway-registry.airunway-system.svc:5000",
                                 "message": "Registry ready at airunway-registry.airunway-system.svc:5000"}
    assert after["ready"] is False
    assert service["spec"]["type"] == "NodePort" and service["spec"]["ports"][0]["nodePort"] == 30500
    assert build.status_code == 400 and "Docker CLI not found" in build.json()["error"]["message"]
