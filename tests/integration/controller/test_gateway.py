"""The core controller routes Running ModelDeployments through a Gateway with the Gateway API Inference Extension,
on the sandbox with the real Gateway API and GAIE CRDs.

The controller runs as a child process (no webhooks). A deployment is made Running the way a provider would: its
status gets phase Running and the endpoint Service, and the Service selects a pod of the model.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from support import ControllerProcess, DashboardAPI, eventually, kget, kget_or_none
from workload import GATEWAY_ADDRESS, MODEL_ID, apply, running_model


@pytest.fixture(scope="module")
def gateway(sandbox):
    """A Gateway in its own namespace, with an address in its status, labelled as the one to route through (other
    test modules may leave Gateways behind while their namespaces are being deleted)."""
    namespace, name = f"gw-{uuid.uuid4().hex[:8]}", "inference-gateway"
    sandbox.kubectl("create", "namespace", namespace)
    apply(sandbox, {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": name, "namespace": namespace, "labels": {"airunway.ai/inference-gateway": "true"}},
        "spec": {"gatewayClassName": "test", "listeners": [
            {"name": "http", "port": 80, "protocol": "HTTP"},
            {"name": "alt", "port": 8080, "protocol": "HTTP"},
        ]},
    })
    sandbox.kubectl("patch", "gateway", name, "-n", namespace, "--subresource=status", "--type=merge", "-p",
                    json.dumps({"status": {"addresses": [{"type": "IPAddress", "value": GATEWAY_ADDRESS}]}}))
    yield namespace, name
    sandbox.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def controller(sandbox, providers, gateway, tmp_path_factory):
    with ControllerProcess(sandbox, tmp_path_factory.mktemp("controller") / "controller.log") as proc:
        yield proc


async def dashboard_gateway_view(sandbox) -> tuple[dict, list[dict]]:
    """What the dashboard's ``/api/gateway`` endpoints say."""
    async with DashboardAPI(sandbox) as api:
        status = await api.get("/api/gateway/status")
        models = await api.get("/api/gateway/models")
    assert status.status_code == models.status_code == 200
    return status.json(), models.json()["models"]


def gateway_condition(sandbox, namespace: str, name: str) -> dict:
    status = kget(sandbox, "modeldeployment", name, "-n", namespace).get("status") or {}
    return next((c for c in status.get("conditions") or [] if c["type"] == "GatewayReady"), {})


def admitted_namespaces(sandbox, gateway) -> list[list[str] | str]:
    """Per listener: the namespaces admitted by name, or the ``from`` value when no selector is set."""
    gw = kget(sandbox, "gateway", gateway[1], "-n", gateway[0])
    out = []
    for listener in gw["spec"]["listeners"]:
        namespaces = (listener.get("allowedRoutes") or {}).get("namespaces") or {}
        if namespaces.get("from") == "Selector":
            out.append(namespaces["selector"]["matchExpressions"][0]["values"])
        else:
            out.append(namespaces.get("from", "Same"))
    return out


def test_running_model_gets_pool_picker_and_route_and_can_be_turned_off(sandbox, namespace, gateway, controller):
    gw_namespace, gw_name = gateway
    running_model(sandbox, namespace, "llama")

    route = eventually(lambda: kget_or_none(sandbox, "httproute", "llama", namespace), timeout=30, what="the HTTPRoute")
    pool = kget_or_none(sandbox, "inferencepool", "llama", namespace)
    assert pool["spec"]["selector"]["matchLabels"] == {"airunway.ai/model-deployment": "llama"}
    assert pool["spec"]["targetPorts"] == [{"number": 8000}]
    assert pool["spec"]["endpointPickerRef"]["name"] == "llama-epp"
    assert pool["metadata"]["ownerReferences"][0]["kind"] == "ModelDeployment"
    rule = route["spec"]["rules"][0]
    assert route["spec"]["parentRefs"][0]["name"] == gw_name
    assert rule["matches"][0]["headers"] == [{"type": "Exact", "name": "X-Gateway-Model-Name", "value": MODEL_ID}]
    assert rule["backendRefs"][0]["kind"] == "InferencePool" and rule["backendRefs"][0]["name"] == "llama"
    for kind in ("deployment", "service", "configmap", "serviceaccount", "role", "rolebinding"):
        assert kget_or_none(sandbox, kind, "llama-epp", namespace), f"endpoint picker {kind}"
    pod_labels = kget(sandbox, "pod", "llama-0", "-n", namespace)["metadata"]["labels"]
    assert pod_labels["airunway.ai/model-deployment"] == "llama"

    md = eventually(lambda: (m := kget(sandbox, "modeldeployment", "llama", "-n", namespace))
                    .get("status", {}).get("gateway") and m, timeout=30, what="status.gateway")
    assert md["status"]["gateway"] == {"endpoint": GATEWAY_ADDRESS, "modelName": MODEL_ID,
                                       "gatewayNamespace": gw_namespace}
    assert gateway_condition(sandbox, namespace, "llama")["reason"] == "GatewayConfigured"
    assert md["metadata"]["annotations"]["airunway.ai/httproute-created"] == "true"
    assert admitted_namespaces(sandbox, gateway) == [[namespace], [namespace]]

    # A user who deletes the generated route is respected: a reconcile after it (a new generation observed)
    # does not bring it back.
    sandbox.kubectl("delete", "httproute", "llama", "-n", namespace)
    sandbox.kubectl("patch", "modeldeployment", "llama", "-n", namespace, "--type=merge",
                    "-p", json.dumps({"spec": {"env": [{"name": "TOUCHED", "value": "1"}]}}))
    eventually(lambda: kget(sandbox, "modeldeployment", "llama", "-n", namespace)["status"]
               .get("observedGeneration") == 2, what="generation 2 reconciled")
    assert gateway_condition(sandbox, namespace, "llama")["reason"] == "GatewayConfigured"
    assert kget_or_none(sandbox, "httproute", "llama", namespace) is None

    # Turning the gateway off removes everything and reverts the listeners.
    sandbox.kubectl("patch", "modeldeployment", "llama", "-n", namespace, "--type=merge",
                    "-p", json.dumps({"spec": {"gateway": {"enabled": False}}}))
    eventually(lambda: gateway_condition(sandbox, namespace, "llama").get("reason") == "GatewayDisabled",
               timeout=30, what="GatewayDisabled")
    assert kget_or_none(sandbox, "inferencepool", "llama", namespace) is None
    assert kget_or_none(sandbox, "deployment", "llama-epp", namespace) is None
    md = kget(sandbox, "modeldeployment", "llama", "-n", namespace)
    assert "gateway" not in md["status"]
    assert "airunway.ai/httproute-created" not in (md["metadata"].get("annotations") or {})
    assert admitted_namespaces(sandbox, gateway) == ["Same", "Same"]

    # On again: the route comes back (the deletion record was dropped with the cleanup).
    sandbox.kubectl("patch", "modeldeployment", "llama", "-n", namespace, "--type=merge",
                    "-p", json.dumps({"spec": {"gateway": {"enabled": True}}}))
    eventually(lambda: kget_or_none(sandbox, "httproute", "llama", namespace), timeout=30, what="the HTTPRoute again")

    # Deleting the deployment garbage-collects what it owned and reverts the listeners.
    sandbox.kubectl("delete", "modeldeployment", "llama", "-n", namespace)
    eventually(lambda: kget_or_none(sandbox, "httproute", "llama", namespace) is None
               and kget_or_none(sandbox, "inferencepool", "llama", namespace) is None
               and kget_or_none(sandbox, "deployment", "llama-epp", namespace) is None,
               timeout=60, what="garbage collection of the route, pool and picker")
    eventually(lambda: admitted_namespaces(sandbox, gateway) == ["Same", "Same"], timeout=30,
               what="the listeners reverted")


def test_served_name_and_explicit_model_name(sandbox, namespace, gateway, controller):
    running_model(sandbox, namespace, "named", {"modelName": "my-llama"})

    def route_model() -> str | None:
        route = kget_or_none(sandbox, "httproute", "named", namespace)
        return route and route["spec"]["rules"][0]["matches"][0]["headers"][0]["value"]

    assert eventually(route_model, timeout=30, what="the route") == "my-llama"
    status = eventually(lambda: kget(sandbox, "modeldeployment", "named", "-n", namespace)["status"].get("gateway"),
                        what="status.gateway")
    assert status["modelName"] == "my-llama"


def test_two_namespaces_share_one_gateway(sandbox, gateway, controller):
    namespaces = [f"t-{uuid.uuid4().hex[:10]}" for _ in range(2)]
    try:
        for ns in namespaces:
            sandbox.kubectl("create", "namespace", ns)
            running_model(sandbox, ns, "model")
        for ns in namespaces:
            eventually(lambda ns=ns: kget_or_none(sandbox, "httproute", "model", ns), timeout=30, what=f"the route in {ns}")
        eventually(lambda: admitted_namespaces(sandbox, gateway) == [sorted(namespaces)] * 2, timeout=30,
                   what="both namespaces admitted")

        for ns in namespaces:
            eventually(lambda ns=ns: gateway_condition(sandbox, ns, "model").get("reason") == "GatewayConfigured",
                       timeout=30, what=f"routing configured in {ns}")
        status, models = asyncio.run(dashboard_gateway_view(sandbox))
        assert status == {"available": True, "endpoint": GATEWAY_ADDRESS}
        assert [(m["namespace"], m["deploymentName"], m["name"], m["provider"], m["ready"]) for m in models] == [
            (ns, "model", MODEL_ID, "vllm", True) for ns in sorted(namespaces)]

        sandbox.kubectl("delete", "modeldeployment", "model", "-n", namespaces[0])
        eventually(lambda: admitted_namespaces(sandbox, gateway) == [[namespaces[1]]] * 2, timeout=30,
                   what="the first namespace released")
        sandbox.kubectl("delete", "modeldeployment", "model", "-n", namespaces[1])
        eventually(lambda: admitted_namespaces(sandbox, gateway) == ["Same", "Same"], timeout=30,
                   what="the listeners reverted after the last one")
    finally:
        for ns in namespaces:
            sandbox.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_gateway_off_when_not_running(sandbox, namespace, gateway, controller):
    """A deployment that is not Running gets no routing objects."""
    apply(sandbox, {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
                    "metadata": {"name": "pending", "namespace": namespace},
                    "spec": {"model": {"id": MODEL_ID}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"},
                             "resources": {"gpu": {"count": 1}}}})
    status = eventually(lambda: kget(sandbox, "modeldeployment", "pending", "-n", namespace).get("status"),
                        what="a status")
    assert status["phase"] == "Pending"
    assert kget_or_none(sandbox, "inferencepool", "pending", namespace) is None
    assert kget_or_none(sandbox, "httproute", "pending", namespace) is None


def test_provider_managed_pool_is_routed_to_once_it_exists(sandbox, namespace, gateway, controller):
    """Dynamo manages its own InferencePool (``<name>-pool``): the controller creates no pool or picker, waits
    (retrying) until the provider's pool exists, then routes to it."""
    running_model(sandbox, namespace, "dyn", provider="dynamo")
    # While the provider's pool is missing, no route and no controller pool.
    eventually(lambda: "airunway.ai/model-deployment" in
               kget(sandbox, "pod", "dyn-0", "-n", namespace)["metadata"]["labels"], what="the pod labelled")
    assert kget_or_none(sandbox, "httproute", "dyn", namespace) is None
    apply(sandbox, {
        "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
        "metadata": {"name": "dyn-pool", "namespace": namespace},
        "spec": {"selector": {"matchLabels": {"app": "dyn-server"}}, "targetPorts": [{"number": 8000}],
                 "endpointPickerRef": {"name": "dyn-epp-by-dynamo", "port": {"number": 9002}}},
    })
    route = eventually(lambda: kget_or_none(sandbox, "httproute", "dyn", namespace), timeout=60, what="the route")
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "dyn-pool"
    assert kget_or_none(sandbox, "inferencepool", "dyn", namespace) is None
    assert kget_or_none(sandbox, "deployment", "dyn-epp", namespace) is None
    eventually(lambda: gateway_condition(sandbox, namespace, "dyn").get("reason") == "GatewayConfigured",
               what="GatewayConfigured")


def test_a_direct_vllm_model_becomes_routable(sandbox, namespace, gateway, controller, tmp_path):
    """The whole path: ``airunway provider vllm`` runs the model on kwok, the core controller routes it."""
    provider = ControllerProcess(sandbox, tmp_path / "provider.log", command=("provider", "vllm"))
    try:
        provider.wait_ready()
        apply(sandbox, {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
                        "metadata": {"name": "real", "namespace": namespace},
                        "spec": {"model": {"id": MODEL_ID}, "engine": {"type": "vllm"}, "provider": {"name": "vllm"},
                                 "resources": {"gpu": {"count": 1}}}})
        eventually(lambda: (kget(sandbox, "modeldeployment", "real", "-n", namespace).get("status") or {})
                   .get("phase") == "Running", timeout=90, what="the model Running")
        route = eventually(lambda: kget_or_none(sandbox, "httproute", "real", namespace), timeout=30, what="the route")
        assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "real"
        pool = kget_or_none(sandbox, "inferencepool", "real", namespace)
        assert pool["spec"]["targetPorts"] == [{"number": 8000}]
        pods = kget(sandbox, "pods", "-n", namespace, "-l", "airunway.ai/model-deployment=real")["items"]
        assert len(pods) == 1, "the model's pod carries the label the pool selects"
        status = eventually(lambda: kget(sandbox, "modeldeployment", "real", "-n", namespace)["status"]
                            .get("gateway"), what="status.gateway")
        assert status["endpoint"] == GATEWAY_ADDRESS and status["modelName"] == MODEL_ID

        sandbox.kubectl("delete", "modeldeployment", "real", "-n", namespace, "--wait=false")
        eventually(lambda: kget_or_none(sandbox, "httproute", "real", namespace) is None
                   and kget_or_none(sandbox, "inferencepool", "real", namespace) is None, timeout=60,
                   what="route and pool garbage-collected")
    finally:
        provider.stop()
