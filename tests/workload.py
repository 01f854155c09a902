"""The shipped provider configs installed ready, ModelDeployments of mixed specs for controller tests, the
selection cases of the shipped rules, and helpers to create deployments and wait for their status.

The controller runs without webhooks in these tests, so the specs carry what the mutating webhook would add (GPU
counts). Each spec of :data:`MIX` comes with the provider the shipped selection rules give it.
"""

from __future__ import annotations

import json
from typing import Iterator

import yaml

from support import DATA, eventually, kget

PROVIDERS = ("dynamo", "kaito", "kuberay", "llmd", "vllm")
MODEL_ID = "meta-llama/Llama-3.1-8B-Instruct"
MODEL = {"id": MODEL_ID}
GATEWAY_ADDRESS = "203.0.113.10"  # documentation range: written into status, never connected to


def gpus(n: int) -> dict:
    return {"resources": {"gpu": {"count": n}}}


VLLM_2_GPUS = {"engine": {"type": "vllm"}, **gpus(2)}  # kuberay
MIX: list[tuple[dict, str]] = [
    ({}, "kaito"),
    ({"engine": {"type": "vllm"}, **gpus(1)}, "dynamo"),
    (VLLM_2_GPUS, "kuberay"),
    ({"engine": {"type": "sglang"}, **gpus(1)}, "dynamo"),
    ({"engine": {"type": "vllm"}, **gpus(1), "provider": {"name": "llmd"}}, "llmd"),
    ({"engine": {"type": "vllm"}, **gpus(1), "provider": {"name": "vllm"}}, "vllm"),
]


def set_ready(sandbox, name: str, ready: bool) -> None:
    sandbox.kubectl(
        "patch", "inferenceproviderconfig", name, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"ready": ready}}),
    )


def installed_providers(sandbox) -> Iterator[tuple[str, ...]]:
    """Install the five provider configs marked ready; remove them when resumed (a fixture's body)."""
    for name in PROVIDERS:
        doc = yaml.safe_load((DATA / "providerconfigs" / f"{name}.yaml").read_text())
        sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump(doc))
        set_ready(sandbox, name, True)
    yield PROVIDERS
    for name in PROVIDERS:
        sandbox.kubectl("delete", "inferenceproviderconfig", name, "--wait=false", check=False)


def model_deployment(namespace: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"model": MODEL, **spec}}


def mixed_deployments(namespace: str, count: int, prefix: str = "md") -> list[tuple[dict, str]]:
    """``count`` deployments cycling through :data:`MIX`, each with its expected provider."""
    return [
        (model_deployment(namespace, f"{prefix}-{i:04d}", MIX[i % len(MIX)][0]), MIX[i % len(MIX)][1])
        for i in range(count)
    ]


def selected_provider(obj: dict) -> str:
    return ((obj.get("status") or {}).get("provider") or {}).get("name") or ""


def md(name: str, spec: dict, annotations: dict | None = None) -> dict:
    meta = {"name": name, **({"annotations": annotations} if annotations else {})}
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "metadata": meta,
            "spec": {"model": MODEL, **spec}}


def create(sandbox, namespace: str, *objs: dict) -> None:
    docs = [{**o, "metadata": {**o["metadata"], "namespace": namespace}} for o in objs]
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump_all(docs))


def status_when(sandbox, namespace: str, name: str, check, what: str) -> dict:
    def current():
        status = kget(sandbox, "modeldeployment", name, "-n", namespace).get("status") or {}
        return status if check(status) else None

    return eventually(current, timeout=30, what=f"{name}: {what}")


def condition(status: dict, type_: str) -> dict:
    found = [c for c in status.get("conditions", []) if c["type"] == type_]
    assert len(found) == 1, f"expected one {type_} condition in {status.get('conditions')}"
    return found[0]


def selected(status: dict) -> bool:
    return bool((status.get("provider") or {}).get("name"))


DISAGGREGATED = {
    "serving": {"mode": "disaggregated"},
    "scaling": {"prefill": {"replicas": 1, "gpu": {"count": 1}}, "decode": {"replicas": 1, "gpu": {"count": 1}}},
}

# The selection rules of the shipped provider configs (seed 000), as the controller must apply them.
SELECTION_CASES = [
    ("no-gpu", {}, "kaito", "llamacpp", "auto-selected from provider kaito capabilities"),
    ("trtllm", {"engine": {"type": "trtllm"}, **gpus(1)}, "dynamo", "trtllm", "explicit engine selection"),
    ("sglang", {"engine": {"type": "sglang"}, **gpus(1)}, "dynamo", "sglang", "explicit engine selection"),
    ("llamacpp", {"engine": {"type": "llamacpp"}}, "kaito", "llamacpp", "explicit engine selection"),
    ("disaggregated", DISAGGREGATED, "dynamo", "vllm", "auto-selected from provider dynamo capabilities"),
    ("vllm-2-gpus", {"engine": {"type": "vllm"}, **gpus(2)}, "kuberay", "vllm", "explicit engine selection"),
    ("vllm-1-gpu", {"engine": {"type": "vllm"}, **gpus(1)}, "dynamo", "vllm", "explicit engine selection"),
    ("auto-1-gpu", gpus(1), "dynamo", "vllm", "auto-selected from provider dynamo capabilities"),
]


def apply(sandbox, *docs: dict) -> None:
    sandbox.kubectl("apply", "--server-side", "--field-manager=test", "-f", "-", input=yaml.safe_dump_all(docs))


def running_model(
    sandbox, namespace: str, name: str, gateway_spec: dict | None = None, provider: str = "vllm"
) -> None:
    """A vLLM ModelDeployment (Direct vLLM unless ``provider`` says otherwise), its Service and pod, and the status
    a provider writes once it runs."""
    spec = {"model": {"id": MODEL_ID}, "engine": {"type": "vllm"}, "provider": {"name": provider},
            "resources": {"gpu": {"count": 1}}}
    if gateway_spec is not None:
        spec["gateway"] = gateway_spec
    selector = {"app": f"{name}-server"}
    apply(sandbox,
          {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
           "metadata": {"name": name, "namespace": namespace}, "spec": spec},
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
           "spec": {"selector": selector, "ports": [{"name": "http", "port": 8000, "targetPort": 8000}]}},
          {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{name}-0", "namespace": namespace,
                                                            "labels": selector},
           "spec": {"containers": [{"name": "server", "image": "vllm/vllm-openai:v0.11.0"}]}})
    eventually(lambda: (kget(sandbox, "modeldeployment", name, "-n", namespace).get("status") or {})
               .get("provider"), timeout=30, what=f"{name} selected")
    sandbox.kubectl("patch", "modeldeployment", name, "-n", namespace, "--subresource=status", "--type=merge",
                    "-p", json.dumps({"status": {"phase": "Running", "endpoint": {"service": name, "port": 8000},
                                                 "replicas": {"desired": 1, "ready": 1, "available": 1}}}))


async def talker(kube, namespace: str, provider: str | None = None) -> None:
    """The ModelDeployment ``talker`` (on ``provider`` when given) and its pod ``talker-0`` on the CPU node, once
    kwok runs it (its logs are the simulated container's)."""
    from airunway.api.resources import MODEL_DEPLOYMENTS
    from airunway.kube.resources import PODS

    from support import until

    spec = {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}}
    if provider:
        spec["provider"] = {"name": provider}
    await kube.create(MODEL_DEPLOYMENTS, {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
                                          "metadata": {"name": "talker"}, "spec": spec}, namespace)
    await kube.create(PODS, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "talker-0", "labels": {"airunway.ai/deployment": "talker"}},
        "spec": {"nodeName": "cpu-node-1", "containers": [{"name": "main", "image": "vllm/vllm-openai:latest"}]}},
        namespace)

    async def running():
        pod = await kube.get(PODS, "talker-0", namespace)
        return (pod.get("status") or {}).get("phase") == "Running"

    await until(running, timeout=60, what="the pod Running")
