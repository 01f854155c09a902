"""AIKit images for KAITO: ready-made model images, and images built from a HuggingFace GGUF file with Docker
buildx into a registry the dashboard runs in the cluster (``airunway-system/airunway-registry``).

Building needs the ``docker`` CLI with buildx next to the dashboard (``$DOCKER_PATH``, else ``docker``); without it,
the build endpoints say so and the ready-made images still work.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from airunway.kube.client import Client
from airunway.kube.errors import ApiError, Conflict, NotFound
from airunway.kube.resources import DEPLOYMENTS, NAMESPACES, SERVICES

NAMESPACE = "airunway-system"
REGISTRY = "airunway-registry"
REGISTRY_PORT = 5000
REGISTRY_NODE_PORT = 30500
PUSH_REGISTRY = f"{REGISTRY}.{NAMESPACE}.svc:{REGISTRY_PORT}"  # the registry's URL: builds push here
PULL_REGISTRY = f"localhost:{REGISTRY_NODE_PORT}"  # where the nodes' kubelets pull built images from
BUILDER = "airunway-builder"
AIKITFILE = "https://raw.githubusercontent.com/kaito-project/aikit/main/models/aikitfile.yaml"
IMAGE_REPOSITORY = "ghcr.io/kaito-project/aikit"
GGUF_RUNNER_IMAGE = f"{IMAGE_REPOSITORY}/runners/llama-cpp-cuda:latest"
BUILD_TIMEOUT = 600.0
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Premade:
    id: str
    name: str
    size: str
    model_name: str
    license: str
    description: str

    @property
    def image(self) -> str:
        return f"{IMAGE_REPOSITORY}/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "size": self.size, "image": self.image,
                "modelName": self.model_name, "license": self.license, "description": self.description,
                "computeType": "cpu"}


PREMADE = (
    Premade("llama3.2:1b", "Llama 3.2 1B", "1B", "llama-3.2-1b-instruct", "Llama",
            "Meta's smallest Llama 3.2 instruction model; quick on CPU."),
    Premade("llama3.2:3b", "Llama 3.2 3B", "3B", "llama-3.2-3b-instruct", "Llama",
            "Meta's Llama 3.2 3B instruction model."),
    Premade("llama3.1:8b", "Llama 3.1 8B", "8B", "llama-3.1-8b-instruct", "Llama",
            "Meta's Llama 3.1 8B instruction model."),
    Premade("llama3.3:70b", "Llama 3.3 70B", "70B", "llama-3.3-70b-instruct", "Llama",
            "Meta's Llama 3.3 70B instruction model; needs a large node."),
    Premade("mixtral:8x7b", "Mixtral 8x7B", "8x7B", "mixtral-8x7b-instruct", "Apache",
            "Mistral's mixture-of-experts instruction model."),
    Premade("phi4:14b", "Phi-4 14B", "14B", "phi-4-14b-instruct", "MIT", "Microsoft's Phi-4 reasoning model."),
    Premade("gemma2:2b", "Gemma 2 2B", "2B", "gemma-2-2b-instruct", "Gemma", "Google's small Gemma 2 model."),
    Premade("qwq:32b", "QwQ 32B", "32B", "qwq-32b", "Apache 2.0", "Qwen's reasoning model."),
    Premade("codestral:22b", "Codestral 22B", "22B", "codestral-22b", "MNLP", "Mistral's model for code."),
    Premade("gpt-oss:20b", "gpt-oss 20B", "20B", "gpt-oss-20b", "Apache 2.0", "OpenAI's open-weight 20B model."),
)
BY_ID = {p.id: p for p in PREMADE}

QUANTIZATIONS = tuple(rf"[._-]({q})\.gguf$" for q in (r"Q\d+_K_[SM]", r"Q\d+_\d", r"Q\d+", r"IQ\d+_[A-Z]+", r"F\d+"))


def gguf_url(model_id: str, file: str) -> str:
    enc = lambda text: "/".join(quote(p, safe="") for p in text.split("/"))  # noqa: E731
    return f"https://huggingface.co/{enc(model_id)}/resolve/main/{enc(file)}"


def quantization(file: str) -> str:
    for pattern in QUANTIZATIONS:
        found = re.search(pattern, file, re.I)
        if found:
            return found.group(1).upper()
    return "custom"


def sanitize_image_name(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")[:63]


def validate(req: dict[str, Any]) -> list[str]:
    errors = []
    source = req.get("modelSource")
    if source == "premade":
        if not req.get("premadeModel"):
            errors.append("premadeModel is required for premade model source")
        elif req["premadeModel"] not in BY_ID:
            errors.append(f"Unknown premade model: {req['premadeModel']}")
    elif source == "huggingface":
        if not req.get("modelId"):
            errors.append("modelId is required for HuggingFace model source")
        if not req.get("ggufFile"):
            errors.append("ggufFile is required for HuggingFace model source")
        elif not str(req["ggufFile"]).lower().endswith(".gguf"):
            errors.append("ggufFile must be a .gguf file")
    else:
        errors.append('modelSource must be either "premade" or "huggingface"')
    return errors


def _target(req: dict[str, Any]) -> str:
    name = req.get("imageName") or f"aikit-{sanitize_image_name(req['modelId'])}"
    return f"{name}:{req.get('imageTag') or quantization(req['ggufFile']).lower()}"


def image_ref(req: dict[str, Any]) -> str | None:
    """The image a deployment would run: a ready-made one, or where a built one is pulled from by the nodes."""
    if req.get("modelSource") == "premade":
        found = BY_ID.get(req.get("premadeModel") or "")
        return found.image if found else None
    if req.get("modelSource") == "huggingface" and req.get("modelId") and req.get("ggufFile"):
        return f"{PULL_REGISTRY}/{_target(req)}"
    return None


# -- the registry in the cluster --------------------------------------------------------------------------------


def _registry_objects() -> tuple[dict, dict]:
    labels = {"app.kubernetes.io/name": REGISTRY, "app.kubernetes.io/managed-by": "airunway"}
    probe = {"httpGet": {"path": "/v2/", "port": REGISTRY_PORT}}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": REGISTRY, "namespace": NAMESPACE,
                                                                     "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{
                "name": "registry", "image": "registry:2", "ports": [{"containerPort": REGISTRY_PORT}],
                "env": [{"name": "REGISTRY_STORAGE_DELETE_ENABLED", "value": "true"}],
                "readinessProbe": probe, "livenessProbe": probe,
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/registry"}],
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                              "limits": {"cpu": "500m", "memory": "512Mi"}}}],
                "volumes": [{"name": "data", "emptyDir": {}}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": REGISTRY, "namespace": NAMESPACE,
                                                                    "labels": labels},
               "spec": {"type": "NodePort", "selector": labels, "ports": [
                   {"port": REGISTRY_PORT, "targetPort": REGISTRY_PORT, "nodePort": REGISTRY_NODE_PORT}]}}
    return deployment, service


async def registry_status(client: Client) -> dict[str, Any]:
    try:
        deployment = await client.get(DEPLOYMENTS, REGISTRY, NAMESPACE)
    except NotFound:
        return {"ready": False, "url": PUSH_REGISTRY, "message": "Registry deployment not found"}
    desired = (deployment.get("spec") or {}).get("replicas", 1)
    ready = (deployment.get("status") or {}).get("readyReplicas") or 0
    if ready >= desired:
        return {"ready": True, "url": PUSH_REGISTRY, "message": f"Registry ready at {PUSH_REGISTRY}"}
    return {"ready": False, "url": PUSH_REGISTRY, "message": f"Registry not ready: {ready}/{desired} replicas"}


async def ensure_registry(client: Client) -> dict[str, Any]:
    """Create the registry where missing, then wait up to a minute for it to be ready."""
    if await client.get_or_none(NAMESPACES, NAMESPACE) is None:
        try:
            await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        except Conflict:
            pass
    for resource, obj in zip((DEPLOYMENTS, SERVICES), _registry_objects()):
        if await client.get_or_none(resource, REGISTRY, NAMESPACE) is None:
            try:
                await client.create(resource, obj, NAMESPACE)
            except Conflict:
                pass
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        status = await registry_status(client)
        if status["ready"] or time.monotonic() > deadline:
            return status
        await asyncio.sleep(2)


# -- the builder (docker buildx) --------------------------------------------------------------------------------


class DockerMissing(Exception):
    pass


async def _docker(*args: str, timeout: float) -> tuple[bool, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            os.environ.get("DOCKER_PATH") or "docker", *args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    except OSError:
        raise DockerMissing("Docker CLI not found. Install Docker with buildx to build AIKit images.") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return False, f"docker {args[0]} timed out after {int(timeout)} seconds"
    return proc.returncode == 0, out.decode(errors="replace")


async def builder_status() -> dict[str, Any]:
    base = {"name": BUILDER, "driver": "kubernetes"}
    try:
        ok, version = await _docker("version", "--format", "{{.Client.Version}}", timeout=10)
        if not ok:
            return base | {"exists": False, "ready": False, "running": False, "message": f"Docker: {version.strip()}"}
        ok, listed = await _docker("buildx", "ls", timeout=10)
    except DockerMissing as exc:
        return base | {"exists": False, "ready": False, "running": False, "message": str(exc)}
    lines = listed.splitlines()
    index = next((i for i, line in enumerate(lines) if line.startswith(BUILDER) or f"{BUILDER}*" in line), None)
    if not ok or index is None:
        return base | {"exists": False, "ready": False, "running": False, "message": "Builder not found"}
    running = any("running" in line for line in lines[index:])
    return base | {"exists": True, "ready": running, "running": running,
                   "message": "Builder is running" if running else "Builder exists but is not running"}


async def ensure_builder() -> dict[str, Any]:
    status = await builder_status()
    if status["ready"]:
        return status
    if "Docker CLI not found" in status["message"]:
        raise DockerMissing(status["message"])
    if not status["exists"]:
        ok, out = await _docker("buildx", "create", "--name", BUILDER, "--driver", "kubernetes", "--driver-opt",
                                f"namespace={NAMESPACE}", "--driver-opt", "requests.cpu=2", "--driver-opt",
                                "requests.memory=4Gi", timeout=60)
        if not ok:
            return status | {"message": out.strip()}
    ok, out = await _docker("buildx", "inspect", BUILDER, "--bootstrap", timeout=120)
    return await builder_status() if ok else status | {"message": out.strip()}


async def build(client: Client, req: dict[str, Any]) -> dict[str, Any]:
    """The image for a request: a ready-made one at once, or one built and pushed to the cluster's registry."""
    if req["modelSource"] == "premade":
        return {"success": True, "imageRef": BY_ID[req["premadeModel"]].image, "buildTime": 0, "wasPremade": True,
                "message": "Using premade AIKit image"}
    started = time.monotonic()
    registry = await ensure_registry(client)
    if not registry["ready"]:
        raise RuntimeError(f"Failed to set up registry: {registry['message']}")
    builder = await ensure_builder()
    if not builder["ready"]:
        raise RuntimeError(f"Failed to set up builder: {builder['message']}")
    ok, out = await _docker("buildx", "build", "--builder", BUILDER, "--build-arg",
                            f"model={gguf_url(req['modelId'], req['ggufFile'])}", "-t",
                            f"{PUSH_REGISTRY}/{_target(req)}", "--output",
                            "type=image,push=true,registry.insecure=true", AIKITFILE, timeout=BUILD_TIMEOUT)
    if not ok:
        raise RuntimeError(f"Build failed: {out.strip()[-2000:]}")
    return {"success": True, "imageRef": image_ref(req), "buildTime": round(time.monotonic() - started),
            "wasPremade": False, "message": "AIKit image built successfully"}


async def infrastructure_status(client: Client) -> dict[str, Any]:
    try:
        registry = await registry_status(client)
    except (ApiError, OSError) as exc:
        return {"ready": False, "registry": {"ready": False, "message": "Failed to check registry status"},
                "builder": {"exists": False, "running": False, "message": "Failed to check builder status"},
                "error": str(exc)}
    builder = await builder_status()
    return {"ready": registry["ready"] and builder["exists"] and builder["ready"], "registry": registry,
            "builder": builder}
