"""The shipped provider configs installed ready, and ModelDeployments of mixed specs for controller tests.

The controller runs without webhooks in these tests, so the specs carry what the mutating webhook would add (GPU
counts). Each spec of :data:`MIX` comes with the provider the shipped selection rules give it.
"""

from __future__ import annotations

import json
from typing import Iterator

import yaml

from support import DATA

PROVIDERS = ("dynamo", "kaito", "kuberay", "llmd", "vllm")
MODEL = {"id": "meta-llama/Llama-3.1-8B-Instruct"}


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
