"""The API models read and write Kubernetes objects: the seed examples, the provider configs, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from airunway.api.common import Condition, ObjectMeta, api_error_message
from airunway.api.modeldeployment import (
    GPUSpec,
    ModelDeployment,
    ModelDeploymentList,
    ModelDeploymentSpec,
    ModelSpec,
    ResourceSpec,
)
from airunway.api.providerconfig import InferenceProviderConfig

from support import DATA

MD_FILES = sorted((DATA / "modeldeployments").glob("*.yaml"))
IPC_FILES = sorted((DATA / "providerconfigs").glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def md(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment", "metadata": {"name": "m"},
            "spec": {"model": {"id": "org/model"}, **spec}}


def test_all_seed_examples_are_present() -> None:
    assert [p.stem for p in MD_FILES] == ["gemma-cpu", "llama-70b-pd", "llama-8b", "qwen-demo"]


def test_all_providers_are_present() -> None:
    assert [p.stem for p in IPC_FILES] == ["dynamo", "kaito", "kuberay", "llmd", "vllm"]


EXAMPLES = [(ModelDeployment, p) for p in MD_FILES] + [(InferenceProviderConfig, p) for p in IPC_FILES]


@pytest.mark.parametrize(("kind", "path"), EXAMPLES, ids=[f"{p.parent.name}/{p.stem}" for _, p in EXAMPLES])
def test_example_round_trips(kind: type[ModelDeployment | InferenceProviderConfig], path: Path) -> None:
    source = load(path)
    parsed = kind.model_validate(source)
    assert parsed.name == path.stem
    assert parsed.model_dump(mode="json", exclude_unset=True) == source
    assert kind.model_validate(parsed.to_dict()) == parsed


def test_parsing_applies_the_openapi_defaults() -> None:
    parsed = ModelDeployment.model_validate(load(DATA / "modeldeployments" / "qwen-demo.yaml"))
    assert parsed.spec.engine.enable_prefix_caching is True
    assert parsed.spec.engine.trust_remote_code is False
    assert parsed.spec.resources.gpu.type == "nvidia.com/gpu"
    assert parsed.to_dict()["spec"]["engine"] == {
        "type": "vllm", "trustRemoteCode": False, "enablePrefixCaching": True, "enforceEager": False,
    }


def test_defaults_are_not_invented_for_absent_objects() -> None:
    parsed = ModelDeployment.model_validate(md())
    assert parsed.spec.serving is None
    assert parsed.spec.scaling is None
    assert parsed.spec.resources is None
    assert parsed.spec.model.source == "huggingface"


def test_disaggregated_example_keeps_free_form_overrides() -> None:
    parsed = ModelDeployment.model_validate(load(DATA / "modeldeployments" / "llama-70b-pd.yaml"))
    assert parsed.spec.provider.overrides == {"routerMode": "kv", "frontend": {"replicas": 2}}
    assert parsed.spec.scaling.prefill.gpu.count == 4
    assert parsed.spec.scaling.decode.memory == "64Gi"
    assert parsed.spec.resolved_serving_mode() == "disaggregated"


def test_overrides_keep_nulls_and_nesting() -> None:
    overrides = {"spec": {"drop": None, "list": [1, {"a": None}]}}
    parsed = ModelDeployment.model_validate(md(provider={"overrides": overrides}))
    assert parsed.to_dict()["spec"]["provider"]["overrides"] == overrides


def test_enum_values_are_plain_strings_that_yaml_can_dump() -> None:
    parsed = ModelDeployment.model_validate(load(DATA / "modeldeployments" / "gemma-cpu.yaml"))
    assert type(parsed.spec.engine.type) is str
    assert yaml.safe_load(yaml.safe_dump(parsed.model_dump())) == parsed.model_dump()


def test_unknown_metadata_fields_are_kept() -> None:
    source = md()
    source["metadata"].update(
        namespace="ns",
        resourceVersion="42",
        generation=3,
        creationTimestamp="2025-01-15T10:30:00Z",
        managedFields=[{"manager": "kubectl", "operation": "Apply"}],
        selfLink="/whatever",
    )
    out = ModelDeployment.model_validate(source).to_dict()["metadata"]
    assert out == source["metadata"]


def test_null_top_level_fields_count_as_absent() -> None:
    parsed = ModelDeployment.model_validate({**md(), "status": None, "metadata": None})
    assert parsed.status.phase is None
    assert parsed.metadata.name is None
    assert InferenceProviderConfig.model_validate({"spec": None}).spec.capabilities is None


def test_unknown_spec_fields_are_dropped_like_api_server_pruning() -> None:
    parsed = ModelDeployment.model_validate(md(engine={"type": "vllm", "notAField": 1}))
    assert "notAField" not in parsed.to_dict()["spec"]["engine"]


def test_status_round_trips_with_conditions() -> None:
    source = md()
    source["status"] = {
        "phase": "Running",
        "observedGeneration": 2,
        "provider": {"name": "kaito", "selectedReason": "explicit provider selection", "resourceKind": "Workspace"},
        "engine": {"type": "llamacpp", "selectedReason": "explicit engine selection"},
        "replicas": {"desired": 1, "ready": 1, "available": 1},
        "endpoint": {"service": "m", "port": 80},
        "gateway": {"endpoint": "10.0.0.1", "modelName": "m", "gatewayNamespace": "gw"},
        "image": {"requested": "a", "inNightly": False, "verified": False},
        "conditions": [{"type": "Ready", "status": "True", "reason": "DeploymentReady", "message": "ok",
                        "lastTransitionTime": "2025-01-15T10:30:00Z", "observedGeneration": 2}],
    }
    assert ModelDeployment.model_validate(source).to_dict()["status"] == source["status"]


def test_snake_case_construction_serialises_to_camel_case() -> None:
    built = ModelDeployment(
        metadata=ObjectMeta(name="x", namespace="ns"),
        spec=ModelDeploymentSpec(model=ModelSpec(id="org/m", served_name="m"), resources=ResourceSpec(gpu=GPUSpec(count=2))),
    )
    out = built.to_dict()
    assert out["apiVersion"] == "airunway.ai/v1alpha1"
    assert out["kind"] == "ModelDeployment"
    assert out["spec"]["model"] == {"id": "org/m", "servedName": "m", "source": "huggingface"}
    assert out["spec"]["resources"] == {"gpu": {"count": 2, "type": "nvidia.com/gpu"}}


def test_list_parses_items() -> None:
    listed = ModelDeploymentList.model_validate(
        {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeploymentList", "metadata": {"resourceVersion": "9"},
         "items": [load(p) for p in MD_FILES]}
    )
    assert [item.name for item in listed.items] == ["gemma-cpu", "llama-70b-pd", "llama-8b", "qwen-demo"]


def test_condition_time_is_rfc3339_utc_seconds() -> None:
    condition = Condition.model_validate({"type": "Ready", "status": "True", "reason": "R", "message": "",
                                          "lastTransitionTime": "2025-01-15T12:30:00.123+02:00"})
    assert condition.to_dict()["lastTransitionTime"] == "2025-01-15T10:30:00Z"


INVALID = [
    ("unknown engine", md(engine={"type": "tgi"}), "spec.engine.type"),
    ("unknown source", md(model={"id": "a", "source": "s3"}), "spec.model.source"),
    ("unknown serving mode", md(serving={"mode": "split"}), "spec.serving.mode"),
    ("negative gpu count", md(resources={"gpu": {"count": -1}}), "spec.resources.gpu.count"),
    ("negative replicas", md(scaling={"replicas": -1}), "spec.scaling.replicas"),
    ("negative prefill replicas", md(scaling={"prefill": {"replicas": -2}}), "spec.scaling.prefill.replicas"),
    ("replicas as a string", md(scaling={"replicas": "1"}), "spec.scaling.replicas"),
    ("cpu as a number", md(resources={"cpu": 8}), "spec.resources.cpu"),
    ("int32 overflow", md(engine={"contextLength": 2**31}), "spec.engine.contextLength"),
    ("model missing", {"spec": {}}, "spec.model"),
    ("spec missing", {"metadata": {"name": "m"}}, "spec"),
    ("wrong kind", {**md(), "kind": "InferenceProviderConfig"}, "kind"),
    ("overrides not an object", md(provider={"overrides": ["a"]}), "spec.provider.overrides"),
    ("volume name not a DNS label", md(model={"id": "a", "storage": {"volumes": [{"name": "Cache"}]}}),
     "spec.model.storage.volumes.0.name"),
    ("volume name too long", md(model={"id": "a", "storage": {"volumes": [{"name": "a" * 64}]}}),
     "spec.model.storage.volumes.0.name"),
    ("nine volumes", md(model={"id": "a", "storage": {"volumes": [{"name": f"v{i}"} for i in range(9)]}}),
     "spec.model.storage.volumes"),
    ("size not a quantity", md(model={"id": "a", "storage": {"volumes": [{"name": "v", "size": "lots"}]}}),
     "spec.model.storage.volumes.0.size"),
    ("size a float", md(model={"id": "a", "storage": {"volumes": [{"name": "v", "size": 1.5}]}}),
     "spec.model.storage.volumes.0.size"),
    ("unknown purpose", md(model={"id": "a", "storage": {"volumes": [{"name": "v", "purpose": "x"}]}}),
     "spec.model.storage.volumes.0.purpose"),
    ("unknown access mode", md(model={"id": "a", "storage": {"volumes": [{"name": "v", "accessMode": "RWX"}]}}),
     "spec.model.storage.volumes.0.accessMode"),
    ("env without name", md(env=[{"value": "x"}]), "spec.env.0.name"),
]


@pytest.mark.parametrize(("source", "location"), [(s, loc) for _, s, loc in INVALID], ids=[i for i, *_ in INVALID])
def test_invalid_modeldeployment_is_rejected_at_the_field(source: dict[str, Any], location: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelDeployment.model_validate(source)
    locations = {".".join(str(part) for part in error["loc"]) for error in caught.value.errors()}
    assert any(loc == location or loc.startswith(f"{location}.") for loc in locations), locations


@pytest.mark.parametrize("size", ["100Gi", "1.5Ti", "500M", "1e3", 10])
def test_quantities_are_accepted_as_written(size: int | str) -> None:
    parsed = ModelDeployment.model_validate(md(model={"id": "a", "storage": {"volumes": [{"name": "v", "size": size}]}}))
    assert parsed.to_dict()["spec"]["model"]["storage"]["volumes"][0]["size"] == size


INVALID_IPC = [
    ("engine without name", {"spec": {"capabilities": {"engines": [{"gpuSupport": True}]}}}),
    ("unknown engine", {"spec": {"capabilities": {"engines": [{"name": "tgi"}]}}}),
    ("unknown serving mode", {"spec": {"capabilities": {"engines": [{"name": "vllm", "servingModes": ["x"]}]}}}),
    ("rule without condition", {"spec": {"selectionRules": [{"priority": 1}]}}),
    ("negative priority", {"spec": {"selectionRules": [{"condition": "true", "priority": -1}]}}),
]


@pytest.mark.parametrize("source", [s for _, s in INVALID_IPC], ids=[i for i, _ in INVALID_IPC])
def test_invalid_providerconfig_is_rejected(source: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        InferenceProviderConfig.model_validate(source)


def test_providerconfig_defaults() -> None:
    parsed = InferenceProviderConfig.model_validate({"metadata": {"name": "p"},
                                                     "spec": {"selectionRules": [{"condition": "true"}]}})
    assert parsed.spec.selection_rules[0].priority == 0
    assert parsed.spec.capabilities is None


def test_providerconfig_status_aliases() -> None:
    status = {"ready": True, "version": "kaito-provider:v1", "lastHeartbeat": "2025-01-15T10:30:00Z",
              "upstreamCRDVersion": "kaito.sh/v1beta1", "upstreamSchemaHash": "abc"}
    parsed = InferenceProviderConfig.model_validate({"metadata": {"name": "kaito"}, "status": status})
    assert parsed.status.upstream_crd_version == "kaito.sh/v1beta1"
    assert parsed.to_dict()["status"] == status


def test_installation_annotation_is_parsed() -> None:
    info = ('{"description":"d","defaultNamespace":"ray-system","helmRepos":[{"name":"kuberay","url":"https://x"}],'
            '"helmCharts":[{"name":"kuberay-operator","chart":"kuberay/kuberay-operator","version":"1.3.0",'
            '"namespace":"ray-system","createNamespace":true,"values":{"a.b":true}}],'
            '"steps":[{"title":"Add repo","command":"helm repo add","description":"adds it"}]}')
    ipc = InferenceProviderConfig.model_validate({"metadata": {"name": "kuberay",
                                                               "annotations": {"airunway.ai/installation": info}}})
    installation = ipc.installation()
    assert installation.default_namespace == "ray-system"
    assert installation.helm_charts[0].create_namespace is True
    assert installation.helm_charts[0].values == {"a.b": True}
    assert installation.steps[0].title == "Add repo"


def test_installation_annotation_absent_is_none() -> None:
    assert InferenceProviderConfig.model_validate({"metadata": {"name": "p"}}).installation() is None


def test_api_error_message_names_camel_case_paths() -> None:
    with pytest.raises(ValidationError) as caught:
        ModelDeployment.model_validate(md(resources={"gpu": {"count": -1}}))
    assert api_error_message(caught.value) == "spec.resources.gpu.count: Input should be greater than or equal to 0"


def test_a_malformed_installation_annotation_is_refused_naming_the_problem() -> None:
    ipc = InferenceProviderConfig.model_validate({"metadata": {"name": "p", "annotations": {
        "airunway.ai/installation": '{"helmCharts":[{"name":"x"}]}'}}})
    with pytest.raises(ValueError, match="Ignoring malformed Helm chart in airunway.ai/installation"):
        ipc.installation()
