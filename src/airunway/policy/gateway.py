"""The objects the core controller writes for a model routed through the Gateway API Inference Extension, and the
small decisions about them (which Gateway, which port, which model name, which namespaces a listener admits).

Everything here is pure: it takes objects as read and returns objects to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airunway.api.constants import LABEL_INFERENCE_GATEWAY, LABEL_MODEL_DEPLOYMENT
from airunway.api.resources import (
    DESTINATION_RULES,
    GATEWAYS,
    HTTP_ROUTES,
    INFERENCE_POOLS,
    REFERENCE_GRANTS,
    owner_reference,
)
from airunway.kube.resources import (
    CONFIGMAPS,
    DEPLOYMENTS,
    ROLEBINDINGS,
    ROLES,
    SERVICEACCOUNTS,
    SERVICES,
)
from airunway.versions import GAIE_CRDS

DEFAULT_TARGET_PORT = 8000
DEFAULT_EPP_PORT = 9002
EPP_HEALTH_PORT = 9003
GAIE_VERSION = GAIE_CRDS.version  # the endpoint picker of the InferencePool release the cluster gets
DEFAULT_EPP_IMAGE = f"registry.k8s.io/gateway-api-inference-extension/epp:{GAIE_VERSION}"
EPP_CONFIG_KEY = "default-plugins.yaml"
DEFAULT_EPP_CONFIG = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"
MODEL_NAME_HEADER = "X-Gateway-Model-Name"
ROUTE_TIMEOUT = "300s"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class NoGateway(Exception):
    """No Gateway can be chosen; the message says why."""


def epp_name(md_name: str) -> str:
    return f"{md_name}-epp"


# -- choosing the Gateway ------------------------------------------------------------------------------------


def choose_gateway(gateways: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The Gateway to route through: the only one, or the one labelled ``airunway.ai/inference-gateway=true``
    (the first of several, by namespace and name)."""
    if not gateways:
        raise NoGateway("no Gateway resources found in cluster")
    if len(gateways) == 1:
        return gateways[0]
    labelled = [
        gw for gw in gateways if ((gw["metadata"].get("labels") or {}).get(LABEL_INFERENCE_GATEWAY) == "true")
    ]
    if not labelled:
        raise NoGateway(f"multiple Gateways found but none labeled with {LABEL_INFERENCE_GATEWAY}=true")
    return sorted(labelled, key=lambda gw: (gw["metadata"].get("namespace", ""), gw["metadata"]["name"]))[0]


def gateway_endpoint(gateway: Mapping[str, Any] | None) -> str:
    """The first non-empty address in the Gateway's status."""
    for address in ((gateway or {}).get("status") or {}).get("addresses") or []:
        if address.get("value"):
            return address["value"]
    return ""


# -- ports and names -----------------------------------------------------------------------------------------


def serving_port(service: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Service port that serves HTTP: the one named ``http``, else port 80 or 8080, else the first."""
    ports = (service.get("spec") or {}).get("ports") or []
    for port in ports:
        if port.get("name") == "http" or port.get("port") in (80, 8080):
            return port
    return ports[0] if ports else None


def pool_target_port(service: Mapping[str, Any] | None, endpoint_port: int | None) -> int:
    """The pod port the InferencePool targets: the serving Service port's numeric targetPort (or the port itself),
    else the port in ``status.endpoint``, else 8000."""
    port = serving_port(service) if service else None
    number = 0
    if port:
        target = port.get("targetPort")
        number = target if isinstance(target, int) and target > 0 else int(port.get("port") or 0)
    if number <= 0 and endpoint_port and endpoint_port > 0:
        number = endpoint_port
    return number or DEFAULT_TARGET_PORT


def discovery_port(service: Mapping[str, Any] | None, endpoint_port: int | None) -> int:
    """The Service port to ask ``/v1/models`` on: the serving port, else status.endpoint.port, else 8000."""
    port = serving_port(service) if service else None
    if port and port.get("port"):
        return int(port["port"])
    return endpoint_port if endpoint_port and endpoint_port > 0 else DEFAULT_TARGET_PORT


def substitute(pattern: str | None, name: str, namespace: str) -> str:
    return (pattern or "").replace("{name}", name).replace("{namespace}", namespace)


def first_model_id(body: Any) -> str:
    """``data[0].id`` of an OpenAI ``/v1/models`` answer, or ""."""
    if not isinstance(body, Mapping):
        return ""
    data = body.get("data")
    if isinstance(data, list) and data and isinstance(data[0], Mapping) and isinstance(data[0].get("id"), str):
        return data[0]["id"]
    return ""


# -- controller-managed InferencePool and endpoint picker --------------------------------------------------------


def inference_pool(md: Mapping[str, Any], target_port: int, epp_port: int) -> dict[str, Any]:
    name, namespace = md["metadata"]["name"], md["metadata"]["namespace"]
    return {
        "apiVersion": INFERENCE_POOLS.api_version,
        "kind": INFERENCE_POOLS.kind,
        "metadata": {"name": name, "namespace": namespace, "ownerReferences": [owner_reference(md)]},
        "spec": {
            "selector": {"matchLabels": {LABEL_MODEL_DEPLOYMENT: name}},
            "targetPorts": [{"number": target_port}],
            "endpointPickerRef": {"name": epp_name(name), "port": {"number": epp_port or DEFAULT_EPP_PORT}},
        },
    }


def epp_labels(md_name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": epp_name(md_name),
        "app.kubernetes.io/instance": md_name,
        "app.kubernetes.io/managed-by": "airunway",
    }


def epp_objects(
    md: Mapping[str, Any], *, image: str, port: int, config_data: str | None = None
) -> list[dict[str, Any]]:
    """The endpoint picker of one model's pool: ServiceAccount, Role, RoleBinding, ConfigMap, Deployment, Service,
    all named ``<md>-epp`` and owned by the ModelDeployment."""
    md_name, namespace = md["metadata"]["name"], md["metadata"]["namespace"]
    name, labels, port = epp_name(md_name), epp_labels(md_name), port or DEFAULT_EPP_PORT

    def obj(resource, body: dict[str, Any]) -> dict[str, Any]:
        meta = {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [owner_reference(md)]}
        return {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": meta, **body}

    def probe(initial: int, period: int, **extra: int) -> dict[str, Any]:
        return {"grpc": {"port": EPP_HEALTH_PORT, "service": "inference-extension"},
                "initialDelaySeconds": initial, "periodSeconds": period, **extra}

    def field_env(env_name: str, path: str) -> dict[str, Any]:
        return {"name": env_name, "valueFrom": {"fieldRef": {"fieldPath": path}}}

    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]},
        {"apiGroups": ["inference.networking.k8s.io"], "resources": ["inferencepools"],
         "verbs": ["get", "watch", "list"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create", "get", "update"]},
        {"apiGroups": ["inference.networking.x-k8s.io"],
         "resources": ["inferenceobjectives", "inferencemodelrewrites"], "verbs": ["get", "watch", "list"]},
    ]
    container = {
        "name": "epp",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["--pool-name", md_name, "--pool-namespace", namespace, "--zap-encoder", "json",
                 "--config-file", f"/config/{EPP_CONFIG_KEY}", "--tracing=false"],
        "ports": [{"name": "grpc", "containerPort": port, "protocol": "TCP"},
                  {"name": "grpc-health", "containerPort": EPP_HEALTH_PORT, "protocol": "TCP"}],
        "env": [field_env("NAMESPACE", "metadata.namespace"), field_env("POD_NAME", "metadata.name")],
        "livenessProbe": probe(30, 10, failureThreshold=5),
        "readinessProbe": probe(10, 5),
        "volumeMounts": [{"name": "plugins-config", "mountPath": "/config"}],
    }
    return [
        obj(SERVICEACCOUNTS, {}),
        obj(ROLES, {"rules": rules}),
        obj(ROLEBINDINGS, {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        }),
        obj(CONFIGMAPS, {"data": {EPP_CONFIG_KEY: config_data or DEFAULT_EPP_CONFIG}}),
        obj(DEPLOYMENTS, {"spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "terminationGracePeriodSeconds": 130,
                    "containers": [container],
                    "volumes": [{"name": "plugins-config", "configMap": {"name": name}}],
                },
            },
        }}),
        obj(SERVICES, {"spec": {
            "type": "ClusterIP",
            "selector": labels,
            "ports": [{"name": "grpc-ext-proc", "protocol": "TCP", "port": port, "targetPort": port,
                       "appProtocol": "kubernetes.io/h2c"}],
        }}),
    ]


EPP_RESOURCES = (DEPLOYMENTS, SERVICES, CONFIGMAPS, ROLEBINDINGS, ROLES, SERVICEACCOUNTS)
"""The kinds of the endpoint picker's objects, in the order they are deleted."""


def destination_rule(name: str, namespace: str, owner: Mapping[str, Any]) -> dict[str, Any]:
    """The Istio DestinationRule that lets the Gateway talk TLS to the endpoint picker."""
    return {
        "apiVersion": DESTINATION_RULES.api_version,
        "kind": DESTINATION_RULES.kind,
        "metadata": {"name": name, "namespace": namespace, "ownerReferences": [owner_reference(owner)]},
        "spec": {
            "host": f"{name}.{namespace}.svc.cluster.local",
            "trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": True}},
        },
    }


def reference_grant(pool: Mapping[str, Any], route_namespace: str) -> dict[str, Any]:
    """Lets HTTPRoutes of ``route_namespace`` send to a provider's InferencePool in another namespace."""
    pool_name, pool_namespace = pool["metadata"]["name"], pool["metadata"]["namespace"]
    return {
        "apiVersion": REFERENCE_GRANTS.api_version,
        "kind": REFERENCE_GRANTS.kind,
        "metadata": {
            "name": f"{pool_name}-referencegrant",
            "namespace": pool_namespace,
            "ownerReferences": [owner_reference(pool)],
        },
        "spec": {
            "from": [{"group": GATEWAYS.group, "kind": HTTP_ROUTES.kind, "namespace": route_namespace}],
            "to": [{"group": INFERENCE_POOLS.group, "kind": INFERENCE_POOLS.kind, "name": pool_name}],
        },
    }


# -- HTTPRoute ------------------------------------------------------------------------------------------------


def http_route_spec(
    gateway_name: str, gateway_namespace: str, model_name: str, pool_name: str, pool_namespace: str
) -> dict[str, Any]:
    """One rule: every path, for requests whose model header names this model, to the model's InferencePool."""
    return {
        "parentRefs": [{"name": gateway_name, "namespace": gateway_namespace}],
        "rules": [{
            "matches": [{
                "path": {"type": "PathPrefix", "value": "/"},
                "headers": [{"type": "Exact", "name": MODEL_NAME_HEADER, "value": model_name}],
            }],
            "backendRefs": [{
                "group": INFERENCE_POOLS.group, "kind": INFERENCE_POOLS.kind,
                "name": pool_name, "namespace": pool_namespace,
            }],
            "timeouts": {"request": ROUTE_TIMEOUT},
        }],
    }


def http_route(md: Mapping[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    meta = md["metadata"]
    return {
        "apiVersion": HTTP_ROUTES.api_version,
        "kind": HTTP_ROUTES.kind,
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "ownerReferences": [owner_reference(md)]},
        "spec": spec,
    }


# -- listener allowedRoutes --------------------------------------------------------------------------------------


def allowed_namespaces(gateway: Mapping[str, Any]) -> set[str]:
    """The namespaces admitted by the first listener that selects namespaces (by name label)."""
    for listener in (gateway.get("spec") or {}).get("listeners") or []:
        selector = ((listener.get("allowedRoutes") or {}).get("namespaces") or {}).get("selector")
        if selector is None:
            continue
        names = set()
        if value := (selector.get("matchLabels") or {}).get(NAMESPACE_NAME_LABEL):
            names.add(value)
        for expression in selector.get("matchExpressions") or []:
            if expression.get("key") == NAMESPACE_NAME_LABEL and expression.get("operator") == "In":
                names.update(expression.get("values") or [])
        return names
    return set()


def listeners_admitting(gateway: Mapping[str, Any], namespaces: Iterable[str]) -> list[dict[str, Any]]:
    """Every listener of ``gateway`` rewritten to admit routes from ``namespaces`` (by name), or — when there are
    none left — only from the Gateway's own namespace."""
    wanted = sorted(set(namespaces))
    if wanted:
        allowed = {"namespaces": {"from": "Selector", "selector": {"matchExpressions": [
            {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": wanted}
        ]}}}
    else:
        allowed = {"namespaces": {"from": "Same"}}
    listeners = []
    for listener in (gateway.get("spec") or {}).get("listeners") or []:
        routes = dict(listener.get("allowedRoutes") or {})
        routes.update(allowed)
        listeners.append({**listener, "allowedRoutes": routes})
    return listeners
