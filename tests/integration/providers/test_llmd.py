"""llm-d on the sandbox: the provider in-process (manager, reconciler, registration), deployments selected for it by
a status patch as the core controller would, kwok running the pods on the simulated GPU nodes."""

from __future__ import annotations

from airunway.api.resources import INFERENCE_PROVIDER_CONFIGS, MODEL_DEPLOYMENTS
from airunway.kube import Client
from airunway.kube.resources import DEPLOYMENTS, SERVICES

from support import DEPLOY, check_shim_manifest, granted_rules, running_provider, until

NAME = "llmd"
MANIFEST = DEPLOY / "providers" / "llmd.yaml"


async def create_selected(client: Client, namespace: str, name: str, spec: dict) -> None:
    await client.create(MODEL_DEPLOYMENTS, {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
                                            "metadata": {"name": name, "namespace": namespace},
                                            "spec": {**spec, "provider": {"name": NAME}}})
    await client.patch_merge(MODEL_DEPLOYMENTS, name, {"status": {"provider": {"name": NAME}}}, namespace,
                             subresource="status")


async def status_when(client: Client, namespace: str, name: str, phase: str, timeout: float = 60) -> dict:
    async def check():
        md = await client.get(MODEL_DEPLOYMENTS, name, namespace)
        return md["status"] if (md.get("status") or {}).get("phase") == phase else None

    return await until(check, timeout=timeout, what=f"{name} {phase}")


async def gone(client: Client, resource, namespace: str, *names: str) -> bool:
    return all([await client.get_or_none(resource, n, namespace) is None for n in names])


MODEL = {"model": {"id": "Qwen/Qwen3-0.6B"}, "engine": {"type": "vllm"}}


async def test_aggregated_runs_with_its_endpoint_and_is_cleaned_up(client, namespace):
    async with running_provider(client, NAME):
        await create_selected(client, namespace, "agg", {**MODEL, "resources": {"gpu": {"count": 1}}})
        status = await status_when(client, namespace, "agg", "Running")
        assert status["endpoint"] == {"service": "agg", "port": 8000}
        assert status["message"] == "Deployments created, pods are ready"
        assert status["provider"] == {"name": NAME, "resourceName": "agg", "resourceKind": "Deployment"}
        assert status["replicas"] == {"desired": 1, "ready": 1, "available": 1}
        conditions = {c["type"]: (c["status"], c["reason"], c["message"]) for c in status["conditions"]}
        assert conditions["ResourceCreated"] == ("True", "ResourceCreated",
                                                 "Deployments and Services created successfully")
        assert conditions["ProviderCompatible"][2] == "Configuration compatible with llm-d"
        dep = await client.get(DEPLOYMENTS, "agg", namespace)
        assert dep["spec"]["template"]["spec"]["containers"][0]["args"][:2] == ["--model", "Qwen/Qwen3-0.6B"]
        assert (await client.get(SERVICES, "agg", namespace))["spec"]["ports"][0]["port"] == 8000
        ipc = await client.get(INFERENCE_PROVIDER_CONFIGS, NAME)
        assert ipc["status"]["ready"] is True and ipc["status"]["upstreamCRDVersion"] == "apps/v1"
        engine = ipc["spec"]["capabilities"]["engines"][0]
        assert engine["gateway"]["endpointPicker"]["image"].endswith("llm-d-inference-scheduler:v0.6.0")

        await client.delete(MODEL_DEPLOYMENTS, "agg", namespace)
        await until(lambda: gone(client, MODEL_DEPLOYMENTS, namespace, "agg"), what="the deployment gone")
        await until(lambda: gone(client, DEPLOYMENTS, namespace, "agg"), what="its Deployment gone")
    assert (await client.get(INFERENCE_PROVIDER_CONFIGS, NAME))["status"]["ready"] is False


async def test_disaggregated_decode_and_prefill_run_and_are_cleaned_up(client, namespace):
    spec = {**MODEL, "serving": {"mode": "disaggregated"},
            "scaling": {"prefill": {"replicas": 1, "gpu": {"count": 1}}, "decode": {"replicas": 2, "gpu": {"count": 1}}}}
    async with running_provider(client, NAME):
        await create_selected(client, namespace, "pd", spec)
        status = await status_when(client, namespace, "pd", "Running")
        assert status["endpoint"] == {"service": "pd-decode", "port": 8000}
        assert status["provider"]["resourceName"] == "pd-decode"
        assert status["replicas"] == {"desired": 2, "ready": 2, "available": 2}
        decode = await client.get(DEPLOYMENTS, "pd-decode", namespace)
        prefill = await client.get(DEPLOYMENTS, "pd-prefill", namespace)
        assert "kv_consumer" in " ".join(decode["spec"]["template"]["spec"]["containers"][0]["args"])
        assert "kv_producer" in " ".join(prefill["spec"]["template"]["spec"]["containers"][0]["args"])
        assert not await gone(client, SERVICES, namespace, "pd-decode") and not await gone(
            client, SERVICES, namespace, "pd-prefill")

        await client.delete(MODEL_DEPLOYMENTS, "pd", namespace)
        await until(lambda: gone(client, MODEL_DEPLOYMENTS, namespace, "pd"), what="the deployment gone")
        await until(lambda: gone(client, DEPLOYMENTS, namespace, "pd-decode", "pd-prefill"),
                    what="both Deployments gone")


async def test_an_unschedulable_deployment_stays_pending_with_the_reason(client, namespace):
    async with running_provider(client, NAME):
        await create_selected(client, namespace, "big", {**MODEL, "resources": {"gpu": {"count": 64}}})
        status = await status_when(client, namespace, "big", "Pending")
        assert status["message"].startswith("Pods cannot be scheduled: ")
        assert "Insufficient nvidia.com/gpu" in status["message"]


def test_the_shim_manifest_is_accepted_by_the_api_server(sandbox):
    docs = check_shim_manifest(sandbox, MANIFEST, NAME)
    assert len(docs) == 5  # the InferenceProviderConfig, ServiceAccount, ClusterRole, binding, Deployment
    granted = granted_rules(docs)
    assert granted[("apps", "deployments")] == granted[("", "services")] == {
        "get", "list", "watch", "create", "update", "patch", "delete"}
    assert granted[("", "pods")] == {"get", "list", "watch"}
