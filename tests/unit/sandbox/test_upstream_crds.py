"""The upstream CRDs for the sandbox load from the pinned Go modules and our stand-ins, and the
objects in tests/data/upstream/ fit them (no cluster; the integration tests apply them for real)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from airunway import versions
from airunway.sandbox import upstream_crds
from airunway.sandbox.upstream_crds import STAND_IN_ANNOTATION, UpstreamCRDError

from support import DATA

UPSTREAM = DATA / "upstream"

# (group, kind) -> (plural, the version our code writes, scope, stand-in?)
EXPECTED = {
    ("gateway.networking.k8s.io", "GatewayClass"): ("gatewayclasses", "v1", "Cluster", False),
    ("gateway.networking.k8s.io", "Gateway"): ("gateways", "v1", "Namespaced", False),
    ("gateway.networking.k8s.io", "HTTPRoute"): ("httproutes", "v1", "Namespaced", False),
    ("gateway.networking.k8s.io", "GRPCRoute"): ("grpcroutes", "v1", "Namespaced", False),
    ("gateway.networking.k8s.io", "ReferenceGrant"): ("referencegrants", "v1beta1", "Namespaced", False),
    ("gateway.networking.k8s.io", "BackendTLSPolicy"): ("backendtlspolicies", "v1", "Namespaced", False),
    ("inference.networking.k8s.io", "InferencePool"): ("inferencepools", "v1", "Namespaced", False),
    ("ray.io", "RayService"): ("rayservices", "v1", "Namespaced", False),
    ("ray.io", "RayCluster"): ("rayclusters", "v1", "Namespaced", False),
    ("ray.io", "RayJob"): ("rayjobs", "v1", "Namespaced", False),
    ("kaito.sh", "Workspace"): ("workspaces", "v1beta1", "Namespaced", True),
    ("nvidia.com", "DynamoGraphDeployment"): ("dynamographdeployments", "v1alpha1", "Namespaced", True),
}


def _by_kind(crds: list[dict]) -> dict[tuple[str, str], dict]:
    return {(c["spec"]["group"], c["spec"]["names"]["kind"]): c for c in crds}


def _is_stand_in(crd: dict) -> bool:
    return (crd["metadata"].get("annotations") or {}).get(STAND_IN_ANNOTATION) == "true"


@pytest.fixture(scope="module")
def crds() -> list[dict]:
    if not shutil.which("go"):
        pytest.skip("the Go toolchain is not installed; it fetches the upstream CRD modules")
    return upstream_crds.upstream_crd_documents()


def test_pins_name_a_module_a_release_and_where_the_crds_are():
    assert versions.UPSTREAM_CRD_MODULES
    for pin in versions.UPSTREAM_CRD_MODULES:
        assert re.fullmatch(r"v\d+\.\d+\.\d+", pin.version), pin
        assert pin.crd_globs and all(not g.startswith("/") for g in pin.crd_globs), pin
    assert len({p.module for p in versions.UPSTREAM_CRD_MODULES}) == len(versions.UPSTREAM_CRD_MODULES)


def test_every_kind_we_write_is_installed_with_the_expected_names(crds):
    found = _by_kind(crds)
    for (group, kind), (plural, version, scope, stand_in) in EXPECTED.items():
        crd = found.get((group, kind))
        assert crd is not None, f"{kind}.{group} is not among the installed CRDs"
        assert crd["spec"]["names"]["plural"] == plural
        assert crd["metadata"]["name"] == f"{plural}.{group}"
        assert crd["spec"]["scope"] == scope
        served = {v["name"] for v in crd["spec"]["versions"] if v.get("served")}
        assert version in served, f"{kind}.{group} does not serve {version} (serves {sorted(served)})"
        assert _is_stand_in(crd) is stand_in, f"{kind}.{group}: stand-in marking should be {stand_in}"


def test_crds_are_unique_and_come_from_the_pinned_releases(crds):
    names = [c["metadata"]["name"] for c in crds]
    assert len(names) == len(set(names)), "a CRD is listed twice"
    pins = {p.module: p.version for p in versions.UPSTREAM_CRD_MODULES}
    gateway = [c for c in crds if c["spec"]["group"] == "gateway.networking.k8s.io"]
    for crd in gateway:  # Gateway API stamps its bundle version and channel on each CRD
        annotations = crd["metadata"]["annotations"]
        assert annotations["gateway.networking.k8s.io/bundle-version"] == pins["sigs.k8s.io/gateway-api"]
        assert annotations["gateway.networking.k8s.io/channel"] == "standard"
    for crd in crds:  # every version has a schema, and exactly one version is stored
        assert all("openAPIV3Schema" in v["schema"] for v in crd["spec"]["versions"]), crd["metadata"]["name"]
        assert sum(bool(v.get("storage")) for v in crd["spec"]["versions"]) == 1, crd["metadata"]["name"]


def test_stand_ins_are_marked_and_say_why():
    standins = upstream_crds.standin_crd_documents()
    assert {(c["spec"]["group"], c["spec"]["names"]["kind"]) for c in standins} == {
        key for key, expected in EXPECTED.items() if expected[3]
    }
    for crd in standins:
        assert _is_stand_in(crd)
        for version in crd["spec"]["versions"]:
            assert version.get("subresources", {}).get("status") == {}, crd["metadata"]["name"]
            for column in version.get("additionalPrinterColumns", []):  # a stray comma in YAML shows here
                assert {"name", "type", "jsonPath"} <= set(column) <= {
                    "name", "type", "jsonPath", "description", "format", "priority"}, column
    folder = Path(upstream_crds.__file__).parent / "standin_crds"
    for path in folder.glob("*.yaml"):
        header = path.read_text(encoding="utf-8").split("apiVersion:", 1)[0]
        assert "STAND-IN" in header and "Why:" in header, f"{path.name} lacks the stand-in header comment"


def test_missing_go_is_reported_clearly():
    with pytest.raises(UpstreamCRDError, match=r"Go toolchain \(`go`\) is not on PATH"):
        upstream_crds.module_dir("sigs.k8s.io/gateway-api", "v1.6.2", go_env={"PATH": "/nonexistent"})


def test_a_refused_download_names_the_module():
    if not shutil.which("go"):
        pytest.skip("the Go toolchain is not installed")
    with pytest.raises(UpstreamCRDError, match=r"cannot download example\.invalid/no-such-module@v0\.0\.1"):
        upstream_crds.module_dir("example.invalid/no-such-module", "v0.0.1", go_env={"GOPROXY": "off"})


# --- the test objects against the installed schemas ------------------------------------------------

def _schema_problems(value, schema: dict, path: str) -> list[str]:
    """What the API server would reject or silently prune in ``value`` (types, required, enums,
    bounds, unknown fields); CEL rules and formats are left to the integration tests."""
    if schema.get("x-kubernetes-int-or-string"):
        ok = isinstance(value, (int, str)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected int or string"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not in {schema['enum']}")
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        props, extra = schema.get("properties"), schema.get("additionalProperties")
        problems += [f"{path}.{r}: required" for r in schema.get("required", []) if r not in value]
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            problems.append(f"{path}: more than {schema['maxProperties']} entries")
        for key, item in value.items():
            if path == "" and key == "metadata":
                continue  # ObjectMeta at the root is the API server's, whatever the schema says
            if props and key in props:
                problems += _schema_problems(item, props[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                problems += _schema_problems(item, extra, f"{path}.{key}")
            elif not schema.get("x-kubernetes-preserve-unknown-fields"):
                problems.append(f"{path}.{key}: unknown field (would be pruned)")
    elif kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{path}: more than {schema['maxItems']} items")
        for i, item in enumerate(value):
            problems += _schema_problems(item, schema.get("items", {}), f"{path}[{i}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string"]
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            problems.append(f"{path}: length out of bounds")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{path}: {value!r} does not match {schema['pattern']}")
    elif kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int if kind == "integer" else (int, float)):
            return [f"{path}: expected {kind}"]
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            problems.append(f"{path}: {value} out of bounds")
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{path}: expected a boolean")
    return problems


def _test_objects() -> list[tuple[str, dict]]:
    return [(p.name, obj) for p in sorted(UPSTREAM.glob("*.yaml")) for obj in yaml.safe_load_all(p.read_text()) if obj]


def test_there_is_a_test_object_for_each_kind_we_write():
    kinds = {obj["kind"] for _, obj in _test_objects()}
    assert {"Gateway", "HTTPRoute", "InferencePool", "ReferenceGrant", "RayService", "Workspace",
            "DynamoGraphDeployment"} <= kinds


@pytest.mark.parametrize("name,obj", _test_objects(), ids=lambda v: v if isinstance(v, str) else "")
def test_test_objects_fit_an_installed_crd(crds, name, obj):
    group, _, version = obj["apiVersion"].rpartition("/")
    crd = _by_kind(crds).get((group, obj["kind"]))
    assert crd is not None, f"{name}: no installed CRD for {obj['kind']}.{group}"
    served = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
    assert version in served, f"{name}: {crd['metadata']['name']} does not serve {version}"
    assert (crd["spec"]["scope"] == "Namespaced") == bool(obj["metadata"].get("namespace")), name
    assert _schema_problems(obj, served[version]["schema"]["openAPIV3Schema"], "") == []


def test_the_schema_check_catches_pruned_and_mistyped_fields(crds):
    """Guard the checker itself, so a passing test above means something."""
    workspace = _by_kind(crds)[("kaito.sh", "Workspace")]
    schema = workspace["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    bad = {"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace", "metadata": {"name": "x"},
           "spec": {}, "resource": {"count": "one"}, "inference": {"preset": {"accessMode": "open"}}}
    problems = _schema_problems(bad, schema, "")
    assert ".spec: unknown field (would be pruned)" in problems
    assert ".resource.labelSelector: required" in problems
    assert ".resource.count: expected integer" in problems
    assert ".inference.preset.name: required" in problems
    assert any(p.startswith(".inference.preset.accessMode: 'open' not in") for p in problems)
