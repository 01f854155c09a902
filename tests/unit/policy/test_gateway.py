"""The Gateway integration's pure decisions: the Gateway chosen, ports, names, listener rewrites, object shapes."""

from __future__ import annotations

import asyncio

import pytest

from airunway.controller.gateway.detector import Detector
from airunway.policy import gateway as objects
from airunway.versions import GAIE_CRDS

MD = {
    "apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
    "metadata": {"name": "llama", "namespace": "team-a", "uid": "u-1"},
}


def gateway(name: str, namespace: str = "gw", labels: dict | None = None, listeners: list | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"listeners": listeners if listeners is not None else [{"name": "http", "port": 80}]}}


def test_the_only_gateway_is_chosen():
    assert objects.choose_gateway([gateway("one")])["metadata"]["name"] == "one"


def test_several_gateways_need_the_label():
    with pytest.raises(objects.NoGateway, match="none labeled with airunway.ai/inference-gateway=true"):
        objects.choose_gateway([gateway("a"), gateway("b")])
    labelled = {"airunway.ai/inference-gateway": "true"}
    chosen = objects.choose_gateway([gateway("a"), gateway("z", labels=labelled), gateway("b", labels=labelled)])
    assert chosen["metadata"]["name"] == "b"


def test_no_gateway():
    with pytest.raises(objects.NoGateway, match="no Gateway resources found in cluster"):
        objects.choose_gateway([])


def test_endpoint_is_the_first_non_empty_address():
    gw = {"status": {"addresses": [{"value": ""}, {"type": "IPAddress", "value": "203.0.113.7"}]}}
    assert objects.gateway_endpoint(gw) == "203.0.113.7"
    assert objects.gateway_endpoint({}) == ""


@pytest.mark.parametrize(
    ("ports", "endpoint_port", "expected"),
    [
        ([{"name": "metrics", "port": 9090}, {"name": "http", "port": 80, "targetPort": 8000}], None, 8000),
        ([{"name": "x", "port": 8080, "targetPort": "web"}], None, 8080),  # named targetPort: the port itself
        ([{"name": "first", "port": 5000}], None, 5000),
        ([], 7000, 7000),
        ([], None, 8000),
    ],
)
def test_pool_target_port(ports, endpoint_port, expected):
    assert objects.pool_target_port({"spec": {"ports": ports}}, endpoint_port) == expected


def test_pool_without_a_service_uses_the_endpoint_port_or_8000():
    assert objects.pool_target_port(None, 9000) == 9000
    assert objects.pool_target_port(None, None) == 8000


def test_inference_pool_selects_the_models_pods_and_names_its_picker():
    pool = objects.inference_pool(MD, 8000, 0)
    assert pool["spec"] == {
        "selector": {"matchLabels": {"airunway.ai/model-deployment": "llama"}},
        "targetPorts": [{"number": 8000}],
        "endpointPickerRef": {"name": "llama-epp", "port": {"number": 9002}},
    }
    assert pool["metadata"]["ownerReferences"][0]["uid"] == "u-1"


def test_endpoint_picker_objects():
    made = {o["kind"]: o for o in objects.epp_objects(MD, image="epp:1", port=9002, config_data=None)}
    assert set(made) == {"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service"}
    assert all(o["metadata"]["name"] == "llama-epp" for o in made.values())
    container = made["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:4] == ["--pool-name", "llama", "--pool-namespace", "team-a"]
    assert made["ConfigMap"]["data"]["default-plugins.yaml"].startswith("apiVersion: inference.networking.x-k8s.io")
    assert made["Service"]["spec"]["ports"][0]["appProtocol"] == "kubernetes.io/h2c"
    custom = {o["kind"]: o for o in objects.epp_objects(MD, image="epp:1", port=9100, config_data="x: 1\n")}
    assert custom["ConfigMap"]["data"]["default-plugins.yaml"] == "x: 1\n"
    assert custom["Service"]["spec"]["ports"][0]["port"] == 9100


def test_http_route_matches_the_model_header():
    spec = objects.http_route_spec("gw", "gw-ns", "meta-llama/Llama", "llama", "team-a")
    rule = spec["rules"][0]
    assert spec["parentRefs"] == [{"name": "gw", "namespace": "gw-ns"}]
    assert rule["matches"][0]["headers"] == [{"type": "Exact", "name": "X-Gateway-Model-Name", "value": "meta-llama/Llama"}]
    assert rule["backendRefs"][0]["kind"] == "InferencePool" and rule["timeouts"] == {"request": "300s"}


def test_allowed_namespaces_from_labels_and_expressions():
    selector = {"matchLabels": {"kubernetes.io/metadata.name": "a"},
                "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["b", "c"]},
                                     {"key": "team", "operator": "In", "values": ["ignored"]}]}
    gw = gateway("g", listeners=[{"name": "plain"}, {"name": "sel", "allowedRoutes": {"namespaces": {
        "from": "Selector", "selector": selector}}}])
    assert objects.allowed_namespaces(gw) == {"a", "b", "c"}
    assert objects.allowed_namespaces(gateway("g")) == set()


def test_listeners_rewritten_then_reverted_to_same():
    gw = gateway("g", listeners=[{"name": "http", "port": 80, "allowedRoutes": {"kinds": [{"kind": "HTTPRoute"}]}},
                                 {"name": "https", "port": 443}])
    admitted = objects.listeners_admitting(gw, {"b", "a"})
    for listener in admitted:
        assert listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]["values"] == ["a", "b"]
    assert admitted[0]["allowedRoutes"]["kinds"] == [{"kind": "HTTPRoute"}]
    reverted = objects.listeners_admitting({"spec": {"listeners": admitted}}, set())
    assert all(listener["allowedRoutes"]["namespaces"] == {"from": "Same"} for listener in reverted)


def test_pattern_substitution_and_model_ids():
    assert objects.substitute("{name}-pool", "llama", "ns") == "llama-pool"
    assert objects.substitute("{namespace}", "llama", "ns") == "ns"
    assert objects.first_model_id({"data": [{"id": "served"}]}) == "served"
    assert objects.first_model_id({"data": []}) == "" and objects.first_model_id([1]) == ""


class _Discovery:
    def __init__(self, answers: dict[str, list[str]]):
        self.answers, self.calls = answers, 0

    async def request(self, method: str, path: str):
        self.calls += 1
        if path not in self.answers:
            raise RuntimeError("404")
        return {"resources": [{"name": name} for name in self.answers[path]]}


def test_detector_rechecks_a_negative_answer_after_the_interval():
    now = [0.0]
    client = _Discovery({"/apis/gateway.networking.k8s.io/v1": ["httproutes"]})
    detector = Detector(client, recheck=60, clock=lambda: now[0])
    assert asyncio.run(detector.available()) is False
    calls = client.calls
    assert asyncio.run(detector.available()) is False and client.calls == calls  # cached
    client.answers["/apis/inference.networking.k8s.io/v1"] = ["inferencepools"]
    now[0] = 61
    assert asyncio.run(detector.available()) is True
    client.answers.clear()
    assert asyncio.run(detector.available()) is True  # positive answers are kept
    detector.refresh()
    assert asyncio.run(detector.available()) is False


def test_the_endpoint_picker_is_of_the_pinned_inference_extension_release():
    """One pin for the InferencePool CRD the sandbox and install-crds install and the endpoint picker beside it."""
    assert objects.DEFAULT_EPP_IMAGE == f"registry.k8s.io/gateway-api-inference-extension/epp:{GAIE_CRDS.version}"
