"""The generated CustomResourceDefinitions: in sync with deploy/crds, structural, and saying what the reference says."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from airunway.api import crds
from airunway.api.common import QUANTITY_PATTERN

from support import DEPLOY

DEPLOY_CRDS = DEPLOY / "crds"

MD = crds.model_deployment_crd()
IPC = crds.inference_provider_config_crd()


def schema_of(crd: dict[str, Any]) -> dict[str, Any]:
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def node(crd: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema node at a dotted path; ``[]`` steps into list items (``spec.model.storage.volumes[].name``)."""
    current = schema_of(crd)
    for step in path.split("."):
        items = step.endswith("[]")
        current = current["properties"][step.removesuffix("[]")]
        if items:
            current = current["items"]
    return current


def walk(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path or "<root>", schema
    for name, child in schema.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


ALL_NODES = [(crd["metadata"]["name"], path, n) for crd in (MD, IPC) for path, n in walk(schema_of(crd))]
NODE_IDS = [f"{crd}:{path}" for crd, path, _ in ALL_NODES]


# ------------------------------------------------------------------------------------------ drift


@pytest.mark.parametrize("name", sorted(crds.crd_files()))
def test_committed_crd_files_match_the_models(name: str) -> None:
    committed = DEPLOY_CRDS / name
    assert committed.is_file(), f"{committed} is missing: run `python -m airunway.api.crds --write`"
    assert committed.read_text() == crds.crd_files()[name], (
        f"{committed} differs from what the models generate: run `python -m airunway.api.crds --write` "
        "and commit the result"
    )


def test_kustomization_lists_both_crds() -> None:
    kustomization = yaml.safe_load((DEPLOY_CRDS / "kustomization.yaml").read_text())
    assert kustomization["resources"] == [
        "airunway.ai_modeldeployments.yaml",
        "airunway.ai_inferenceproviderconfigs.yaml",
    ]


def test_check_mode_reports_stale_files_and_write_fixes_them(tmp_path: Path) -> None:
    assert crds.main(["--check", "--dir", str(tmp_path)]) == 1
    assert crds.main(["--write", "--dir", str(tmp_path)]) == 0
    assert crds.main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "airunway.ai_modeldeployments.yaml").write_text("---\n{}\n")
    assert crds.stale_files(tmp_path) == ["airunway.ai_modeldeployments.yaml"]


def test_crd_yaml_is_the_two_documents() -> None:
    assert list(yaml.safe_load_all(crds.crd_yaml())) == crds.crd_documents()


def test_cli_crds_command_prints_crd_yaml() -> None:
    from typer.testing import CliRunner

    from airunway.cli import app

    result = CliRunner().invoke(app, ["crds"])
    assert result.exit_code == 0, result.output
    assert result.stdout == crds.crd_yaml()


# ------------------------------------------------------------------------------------------ structural


@pytest.mark.parametrize(("crd", "path", "schema"), ALL_NODES, ids=NODE_IDS)
def test_every_node_is_structural(crd: str, path: str, schema: dict[str, Any]) -> None:
    assert not {"$ref", "$defs", "title", "oneOf", "allOf", "not", "x-kubernetes-validations"} & set(schema)
    assert set(schema) <= crds.ALLOWED_KEYWORDS
    if "anyOf" in schema:
        assert schema["anyOf"] == [{"type": "integer"}, {"type": "string"}]
        assert schema.get("x-kubernetes-int-or-string") is True
        assert "type" not in schema
    else:
        assert schema.get("type") in {"object", "array", "string", "integer", "boolean", "number"}
    if schema.get("type") == "array":
        assert "items" in schema
    assert schema.get("default", "") is not None


def test_structural_rejects_a_union_kubernetes_cannot_express() -> None:
    with pytest.raises(ValueError, match="union"):
        crds.structural({"anyOf": [{"type": "string"}, {"type": "boolean"}]}, {})


def test_structural_rejects_keywords_without_openapi_meaning() -> None:
    with pytest.raises(ValueError, match="ge"):
        crds.structural({"type": "integer", "ge": 0}, {})


def test_no_cel_validations_anywhere() -> None:
    assert "x-kubernetes-validations" not in crds.crd_yaml()


# ------------------------------------------------------------------------------------------ ModelDeployment


def test_md_names() -> None:
    assert MD["metadata"]["name"] == "modeldeployments.airunway.ai"
    assert MD["spec"]["group"] == "airunway.ai"
    assert MD["spec"]["names"] == {
        "kind": "ModelDeployment",
        "listKind": "ModelDeploymentList",
        "plural": "modeldeployments",
        "singular": "modeldeployment",
    }


def test_md_is_namespaced() -> None:
    assert MD["spec"]["scope"] == "Namespaced"


def test_md_single_served_storage_version_with_status_subresource_only() -> None:
    (version,) = MD["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}


def test_md_printer_columns() -> None:
    assert MD["spec"]["versions"][0]["additionalPrinterColumns"] == [
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "description": "Current phase"},
        {"name": "Provider", "type": "string", "jsonPath": ".status.provider.name", "description": "Selected provider"},
        {"name": "Engine", "type": "string", "jsonPath": ".status.engine.type", "description": "Inference engine"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas.ready", "description": "Ready replicas"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


def test_md_requires_spec_and_model() -> None:
    assert schema_of(MD)["required"] == ["spec"]
    assert node(MD, "spec")["required"] == ["model"]


def test_md_metadata_is_a_plain_object() -> None:
    assert node(MD, "metadata") == {"type": "object"}


MD_DEFAULTS = [
    ("spec.model.source", "huggingface"),
    ("spec.engine.trustRemoteCode", False),
    ("spec.engine.enablePrefixCaching", True),
    ("spec.engine.enforceEager", False),
    ("spec.serving.mode", "aggregated"),
    ("spec.scaling.replicas", 1),
    ("spec.scaling.prefill.replicas", 1),
    ("spec.scaling.decode.replicas", 1),
    ("spec.resources.gpu.count", 0),
    ("spec.resources.gpu.type", "nvidia.com/gpu"),
    ("spec.scaling.prefill.gpu.count", 0),
    ("spec.scaling.prefill.gpu.type", "nvidia.com/gpu"),
    ("spec.scaling.decode.gpu.count", 0),
    ("spec.scaling.decode.gpu.type", "nvidia.com/gpu"),
    ("spec.model.storage.volumes[].purpose", "custom"),
    ("spec.model.storage.volumes[].readOnly", False),
    ("spec.env[].valueFrom.configMapKeyRef.name", ""),
    ("spec.env[].valueFrom.secretKeyRef.name", ""),
    ("spec.env[].valueFrom.fileKeyRef.optional", False),
]


@pytest.mark.parametrize(("path", "default"), MD_DEFAULTS, ids=[p for p, _ in MD_DEFAULTS])
def test_md_default(path: str, default: Any) -> None:
    assert node(MD, path)["default"] == default


MD_NO_DEFAULT = [
    "spec.model.id",
    "spec.engine.type",
    "spec.engine.contextLength",
    "spec.provider.name",
    "spec.gateway.enabled",
    "spec.model.storage.volumes[].accessMode",
    "spec.model.storage.volumes[].claimName",
    "spec.model.storage.volumes[].mountPath",
]


@pytest.mark.parametrize("path", MD_NO_DEFAULT)
def test_md_field_without_openapi_default(path: str) -> None:
    assert "default" not in node(MD, path)


ENGINES = ["vllm", "sglang", "trtllm", "llamacpp"]
MD_ENUMS = [
    ("spec.engine.type", ENGINES),
    ("spec.model.source", ["huggingface", "custom"]),
    ("spec.serving.mode", ["aggregated", "disaggregated"]),
    ("spec.model.storage.volumes[].purpose", ["modelCache", "compilationCache", "custom"]),
    ("spec.model.storage.volumes[].accessMode", ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"]),
    ("status.phase", ["Pending", "Deploying", "Running", "Failed", "Terminating"]),
    ("status.engine.type", ENGINES),
    ("status.conditions[].status", ["True", "False", "Unknown"]),
]


@pytest.mark.parametrize(("path", "values"), MD_ENUMS, ids=[p for p, _ in MD_ENUMS])
def test_md_enum(path: str, values: list[str]) -> None:
    assert node(MD, path)["type"] == "string"
    assert node(MD, path)["enum"] == values


MD_MINIMUM_ZERO = [
    "spec.scaling.replicas",
    "spec.scaling.prefill.replicas",
    "spec.scaling.decode.replicas",
    "spec.resources.gpu.count",
    "spec.scaling.prefill.gpu.count",
    "spec.scaling.decode.gpu.count",
    "status.conditions[].observedGeneration",
]


@pytest.mark.parametrize("path", MD_MINIMUM_ZERO)
def test_md_minimum_zero(path: str) -> None:
    assert node(MD, path)["minimum"] == 0


MD_FORMATS = [
    ("spec.engine.contextLength", "integer", "int32"),
    ("spec.scaling.replicas", "integer", "int32"),
    ("spec.resources.gpu.count", "integer", "int32"),
    ("status.replicas.ready", "integer", "int32"),
    ("status.endpoint.port", "integer", "int32"),
    ("status.observedGeneration", "integer", "int64"),
    ("status.conditions[].lastTransitionTime", "string", "date-time"),
    ("spec.tolerations[].tolerationSeconds", "integer", "int64"),
]


@pytest.mark.parametrize(("path", "type_", "format_"), MD_FORMATS, ids=[p for p, *_ in MD_FORMATS])
def test_md_format(path: str, type_: str, format_: str) -> None:
    assert (node(MD, path)["type"], node(MD, path)["format"]) == (type_, format_)


def test_md_volumes_are_a_list_map_by_name_of_at_most_eight() -> None:
    volumes = node(MD, "spec.model.storage.volumes")
    assert volumes["maxItems"] == 8
    assert volumes["x-kubernetes-list-type"] == "map"
    assert volumes["x-kubernetes-list-map-keys"] == ["name"]
    assert volumes["items"]["required"] == ["name"]


def test_md_volume_name_is_a_dns_label() -> None:
    name = node(MD, "spec.model.storage.volumes[].name")
    assert name["maxLength"] == 63
    assert name["pattern"] == r"^[a-z0-9]([a-z0-9\-]*[a-z0-9])?$"


def test_md_volume_size_is_an_int_or_string_quantity() -> None:
    size = node(MD, "spec.model.storage.volumes[].size")
    assert size["x-kubernetes-int-or-string"] is True
    assert size["pattern"] == QUANTITY_PATTERN


def test_md_conditions_are_a_list_map_by_type() -> None:
    conditions = node(MD, "status.conditions")
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]


def test_md_condition_schema_is_metav1_condition() -> None:
    condition = node(MD, "status.conditions[]")
    assert condition["required"] == ["lastTransitionTime", "message", "reason", "status", "type"]
    assert condition["properties"]["type"]["maxLength"] == 316
    assert condition["properties"]["reason"]["minLength"] == 1
    assert condition["properties"]["reason"]["maxLength"] == 1024
    assert condition["properties"]["reason"]["pattern"] == r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
    assert condition["properties"]["message"]["maxLength"] == 32768


def test_md_overrides_preserve_unknown_fields() -> None:
    assert node(MD, "spec.provider.overrides") == {
        "description": node(MD, "spec.provider.overrides")["description"],
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }


def test_only_overrides_preserve_unknown_fields() -> None:
    preserving = [path for _, path, n in ALL_NODES if n.get("x-kubernetes-preserve-unknown-fields")]
    assert preserving == [".spec.provider.overrides"]


@pytest.mark.parametrize("path", ["spec.engine.args", "spec.nodeSelector", "spec.podTemplate.metadata.labels",
                                  "spec.podTemplate.metadata.annotations"])
def test_md_string_maps(path: str) -> None:
    assert node(MD, path)["type"] == "object"
    assert node(MD, path)["additionalProperties"] == {"type": "string"}


def test_md_spec_fields() -> None:
    assert set(node(MD, "spec")["properties"]) == {
        "model", "provider", "engine", "serving", "scaling", "resources", "image", "env", "podTemplate", "secrets",
        "gateway", "nodeSelector", "tolerations",
    }


def test_md_status_fields() -> None:
    assert set(node(MD, "status")["properties"]) == {
        "phase", "message", "provider", "engine", "gateway", "image", "replicas", "endpoint", "conditions",
        "observedGeneration",
    }
    assert set(node(MD, "status.image")["properties"]) == {
        "requested", "resolved", "repository", "tag", "digest", "source", "createdAt", "revision", "age", "inNightly",
        "verified", "verificationMessage", "message",
    }


def test_md_env_is_the_core_envvar_schema() -> None:
    env = node(MD, "spec.env[]")
    assert env["required"] == ["name"]
    sources = env["properties"]["valueFrom"]["properties"]
    assert set(sources) == {"configMapKeyRef", "fieldRef", "fileKeyRef", "resourceFieldRef", "secretKeyRef"}
    assert {name: s["x-kubernetes-map-type"] for name, s in sources.items()} == dict.fromkeys(sources, "atomic")
    assert sources["configMapKeyRef"]["required"] == ["key"]
    assert sources["secretKeyRef"]["required"] == ["key"]
    assert sources["fieldRef"]["required"] == ["fieldPath"]
    assert sources["resourceFieldRef"]["required"] == ["resource"]
    assert sources["fileKeyRef"]["required"] == ["key", "path", "volumeName"]
    assert sources["resourceFieldRef"]["properties"]["divisor"]["x-kubernetes-int-or-string"] is True


def test_md_tolerations_are_the_core_toleration_schema() -> None:
    toleration = node(MD, "spec.tolerations[]")
    assert set(toleration["properties"]) == {"effect", "key", "operator", "tolerationSeconds", "value"}
    assert "required" not in toleration


# ------------------------------------------------------------------------------------------ InferenceProviderConfig


def test_ipc_names() -> None:
    assert IPC["metadata"]["name"] == "inferenceproviderconfigs.airunway.ai"
    assert IPC["spec"]["names"] == {
        "kind": "InferenceProviderConfig",
        "listKind": "InferenceProviderConfigList",
        "plural": "inferenceproviderconfigs",
        "singular": "inferenceproviderconfig",
    }


def test_ipc_is_cluster_scoped() -> None:
    assert IPC["spec"]["scope"] == "Cluster"


def test_ipc_status_subresource() -> None:
    assert IPC["spec"]["versions"][0]["subresources"] == {"status": {}}


def test_ipc_printer_columns() -> None:
    assert IPC["spec"]["versions"][0]["additionalPrinterColumns"] == [
        {"name": "Ready", "type": "boolean", "jsonPath": ".status.ready", "description": "Provider ready"},
        {"name": "Version", "type": "string", "jsonPath": ".status.version", "description": "Provider version"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


def test_ipc_spec_is_optional() -> None:
    assert "required" not in schema_of(IPC)


def test_ipc_engines_are_a_list_map_by_name() -> None:
    engines = node(IPC, "spec.capabilities.engines")
    assert engines["x-kubernetes-list-type"] == "map"
    assert engines["x-kubernetes-list-map-keys"] == ["name"]
    assert engines["items"]["required"] == ["name"]


def test_ipc_engine_capability_fields() -> None:
    capability = node(IPC, "spec.capabilities.engines[]")
    assert set(capability["properties"]) == {"name", "servingModes", "gpuSupport", "cpuSupport", "requiresCRD", "gateway"}
    assert capability["properties"]["name"]["enum"] == ENGINES
    assert capability["properties"]["servingModes"]["items"]["enum"] == ["aggregated", "disaggregated"]
    assert "default" not in capability["properties"]["gpuSupport"]
    assert "default" not in capability["properties"]["cpuSupport"]


def test_ipc_gateway_capabilities_fields() -> None:
    gateway = node(IPC, "spec.capabilities.engines[].gateway")
    assert set(gateway["properties"]) == {
        "managesInferencePool", "inferencePoolNamePattern", "inferencePoolNamespace", "endpointPicker",
        "ignoresServedName",
    }
    assert set(gateway["properties"]["endpointPicker"]["properties"]) == {"image", "configData"}


def test_ipc_selection_rules() -> None:
    rule = node(IPC, "spec.selectionRules[]")
    assert rule["required"] == ["condition"]
    assert rule["properties"]["priority"]["default"] == 0
    assert rule["properties"]["priority"]["minimum"] == 0
    assert rule["properties"]["priority"]["format"] == "int32"


def test_ipc_status_fields() -> None:
    status = node(IPC, "status")
    assert set(status["properties"]) == {
        "ready", "version", "lastHeartbeat", "upstreamCRDVersion", "upstreamSchemaHash", "conditions",
    }
    assert status["properties"]["lastHeartbeat"]["format"] == "date-time"
    assert status["properties"]["conditions"]["x-kubernetes-list-map-keys"] == ["type"]


def test_no_short_names_or_categories() -> None:
    for crd in (MD, IPC):
        assert "shortNames" not in crd["spec"]["names"]
        assert "categories" not in crd["spec"]["names"]
