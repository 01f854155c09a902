"""Helper semantics of the API models (controller.md §1.6 and §2.4) and the condition bookkeeping."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import yaml

from airunway.api.common import ConditionStatus
from airunway.api.constants import ConditionType, Reason, provider_finalizer
from airunway.api.modeldeployment import ModelDeployment, ModelDeploymentSpec, ModelDeploymentStatus, StorageVolume
from airunway.api.providerconfig import EngineCapability, InferenceProviderConfig, ProviderCapabilities

from support import DATA

PROVIDERS = DATA / "providerconfigs"


def spec(**fields: Any) -> ModelDeploymentSpec:
    return ModelDeploymentSpec.model_validate({"model": {"id": "org/m"}, **fields})


def provider(name: str) -> InferenceProviderConfig:
    return InferenceProviderConfig.model_validate(yaml.safe_load((PROVIDERS / f"{name}.yaml").read_text()))


# ------------------------------------------------------------------------------------------ ModelDeployment


def test_resolved_engine_type_prefers_spec() -> None:
    md = ModelDeployment(spec=spec(engine={"type": "sglang"}),
                         status=ModelDeploymentStatus.model_validate({"engine": {"type": "vllm"}}))
    assert md.resolved_engine_type() == "sglang"


def test_resolved_engine_type_falls_back_to_status() -> None:
    md = ModelDeployment(spec=spec(), status=ModelDeploymentStatus.model_validate({"engine": {"type": "vllm"}}))
    assert md.resolved_engine_type() == "vllm"


def test_resolved_engine_type_empty_when_unknown() -> None:
    assert ModelDeployment(spec=spec(engine={"image": "x"})).resolved_engine_type() == ""


@pytest.mark.parametrize(("serving", "mode"), [(None, "aggregated"), ({}, "aggregated"),
                                                ({"mode": "disaggregated"}, "disaggregated")])
def test_resolved_serving_mode(serving: dict[str, Any] | None, mode: str) -> None:
    fields = {} if serving is None else {"serving": serving}
    assert spec(**fields).resolved_serving_mode() == mode


@pytest.mark.parametrize(
    ("fields", "image"),
    [
        ({}, ""),
        ({"image": "legacy:1"}, "legacy:1"),
        ({"engine": {"image": "engine:1"}}, "engine:1"),
        ({"image": "legacy:1", "engine": {"image": "engine:1"}}, "engine:1"),
    ],
)
def test_image_override_prefers_engine_image(fields: dict[str, Any], image: str) -> None:
    assert spec(**fields).image_override() == image


def test_conflicting_images_are_reported_with_the_exact_message() -> None:
    assert spec(image="a:1", engine={"image": "b:2"}).validate_image_fields() == (
        'spec.image "a:1" conflicts with spec.engine.image "b:2"; remove spec.image or set both fields to the same '
        "value (spec.engine.image is preferred)"
    )


@pytest.mark.parametrize("fields", [{}, {"image": "a:1"}, {"engine": {"image": "a:1"}},
                                    {"image": "a:1", "engine": {"image": "a:1"}}])
def test_consistent_images_are_accepted(fields: dict[str, Any]) -> None:
    assert spec(**fields).validate_image_fields() is None


def engine_args(args: dict[str, str] | None, extra: list[str] | None) -> str | None:
    engine: dict[str, Any] = {"type": "vllm"}
    if args is not None:
        engine["args"] = args
    if extra is not None:
        engine["extraArgs"] = extra
    return spec(engine=engine).validate_engine_args()


def test_engine_args_collision_with_equals_form() -> None:
    assert engine_args({"max-num-seqs": "8"}, ["--max-num-seqs=16"]) == (
        'launch flag "max-num-seqs" is set in both spec.engine.args and spec.engine.extraArgs ("--max-num-seqs=16"); '
        "set it in exactly one place so the engine does not receive conflicting values"
    )


def test_engine_args_collision_with_two_token_form() -> None:
    message = engine_args({"dtype": "half"}, ["--dtype", "float16"])
    assert message is not None
    assert '"dtype"' in message and '("--dtype")' in message


def test_engine_args_first_colliding_token_is_reported() -> None:
    message = engine_args({"a": "1", "b": "2"}, ["--b=3", "--a=4"])
    assert message is not None and message.startswith('launch flag "b"')


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        ({"dtype": "half"}, ["--seed=1"]),  # disjoint
        (None, ["--dtype=half"]),  # extraArgs only
        ({"dtype": "half"}, None),  # args only
        ({"dtype": "half"}, ["dtype"]),  # bare positional token
        ({}, []),  # empty
        ({"-dtype": "half"}, ["---dtype"]),  # three dashes are not a flag
        ({"dtype": "half"}, ["--"]),  # end-of-options marker
        ({"dtype": "half"}, ["--=x"]),  # empty key
        ({"dtype": "half"}, ["-dtype"]),  # single dash
    ],
)
def test_engine_args_without_collision(args: dict[str, str] | None, extra: list[str] | None) -> None:
    assert engine_args(args, extra) is None


def test_resolved_claim_name() -> None:
    assert StorageVolume(name="cache").resolved_claim_name("llama") == "llama-cache"
    assert StorageVolume(name="cache", claim_name="mine").resolved_claim_name("llama") == "mine"


# ------------------------------------------------------------------------------------------ InferenceProviderConfig


def test_has_engine() -> None:
    assert provider("dynamo").has_engine("trtllm")
    assert not provider("dynamo").has_engine("llamacpp")


def test_has_engine_empty_and_missing_capabilities() -> None:
    assert not ProviderCapabilities(engines=[]).has_engine("vllm")
    assert not InferenceProviderConfig().has_engine("vllm")


def test_get_engine_capability_returns_the_declared_capability() -> None:
    cap = provider("kaito").get_engine_capability("llamacpp")
    assert cap is not None
    assert (cap.name, cap.serving_modes, cap.gpu_support, cap.cpu_support) == ("llamacpp", ["aggregated"], True, True)
    assert cap.gateway.ignores_served_name is True


def test_get_engine_capability_absent() -> None:
    assert provider("kaito").get_engine_capability("sglang") is None
    assert InferenceProviderConfig().get_engine_capability("vllm") is None


@pytest.mark.parametrize(
    ("name", "engine", "mode", "supported"),
    [
        ("dynamo", "vllm", "disaggregated", True),
        ("dynamo", "trtllm", "aggregated", True),
        ("dynamo", "trtllm", "disaggregated", False),
        ("dynamo", "llamacpp", "aggregated", False),
        ("vllm", "vllm", "disaggregated", False),
    ],
)
def test_supports_serving_mode(name: str, engine: str, mode: str, supported: bool) -> None:
    assert provider(name).supports_serving_mode(engine, mode) is supported


def test_engine_capability_without_serving_modes_supports_none() -> None:
    assert not EngineCapability(name="vllm").supports_serving_mode("aggregated")


@pytest.mark.parametrize(
    ("name", "engine", "gpu", "cpu"),
    [
        ("kaito", "llamacpp", True, True),
        ("kaito", "vllm", True, False),
        ("vllm", "vllm", True, False),
        ("kuberay", "sglang", False, False),
    ],
)
def test_supports_gpu_and_cpu(name: str, engine: str, gpu: bool, cpu: bool) -> None:
    assert (provider(name).supports_gpu(engine), provider(name).supports_cpu(engine)) == (gpu, cpu)


def test_missing_support_flags_mean_false() -> None:
    cap = EngineCapability(name="vllm")
    assert (cap.supports_gpu(), cap.supports_cpu()) == (False, False)


def test_engine_names_keep_declaration_order() -> None:
    assert provider("dynamo").engine_names() == ["vllm", "sglang", "trtllm"]


def test_engine_names_empty_and_missing() -> None:
    assert InferenceProviderConfig.model_validate({"spec": {"capabilities": {"engines": []}}}).engine_names() == []
    assert InferenceProviderConfig().engine_names() is None


def test_provider_configs_carry_their_selection_rules() -> None:
    rules = {name: [(r.condition, r.priority) for r in provider(name).spec.selection_rules or []]
             for name in ("dynamo", "kaito", "kuberay", "llmd", "vllm")}
    assert rules["kaito"] == [("!has(spec.resources.gpu) || spec.resources.gpu.count == 0", 100),
                              ("spec.engine.type == 'llamacpp'", 100)]
    assert [p for _, p in rules["dynamo"]] == [100, 100, 90, 50]
    assert rules["kuberay"] == [
        ("has(spec.resources.gpu) && spec.resources.gpu.count > 1 && spec.engine.type == 'vllm'", 80)]
    assert rules["llmd"] == [] and provider("llmd").spec.selection_rules == []
    assert provider("vllm").spec.selection_rules is None


def test_dynamo_manages_its_inference_pool() -> None:
    for engine in ("vllm", "sglang", "trtllm"):
        gateway = provider("dynamo").get_engine_capability(engine).gateway
        assert (gateway.manages_inference_pool, gateway.inference_pool_name_pattern,
                gateway.inference_pool_namespace) == (True, "{name}-pool", "{namespace}")


def test_llmd_brings_its_endpoint_picker() -> None:
    cap = provider("llmd").get_engine_capability("vllm")
    assert cap.requires_crd is False
    assert cap.gateway.endpoint_picker.image == "ghcr.io/llm-d/llm-d-inference-scheduler:v0.6.0"
    assert yaml.safe_load(cap.gateway.endpoint_picker.config_data)["kind"] == "EndpointPickerConfig"


def test_ready_reads_status() -> None:
    assert not provider("vllm").ready
    assert InferenceProviderConfig.model_validate({"status": {"ready": True}}).ready


# ------------------------------------------------------------------------------------------ conditions

T0 = datetime(2025, 1, 15, 10, 0, tzinfo=timezone.utc)
T1 = datetime(2025, 1, 15, 11, 0, tzinfo=timezone.utc)


def test_set_condition_adds_a_new_condition() -> None:
    status = ModelDeploymentStatus()
    assert status.set_condition("Validated", "True", "ValidationPassed", "Schema validation passed", 3, at=T0)
    condition = status.get_condition("Validated")
    assert (condition.status, condition.reason, condition.observed_generation) == ("True", "ValidationPassed", 3)
    assert condition.last_transition_time == T0


def test_set_condition_same_status_keeps_transition_time() -> None:
    status = ModelDeploymentStatus()
    status.set_condition("Ready", "False", "DeploymentInProgress", "waiting", 1, at=T0)
    assert status.set_condition("Ready", "False", "DeploymentInProgress", "still waiting", 2, at=T1)
    condition = status.get_condition("Ready")
    assert (condition.message, condition.observed_generation, condition.last_transition_time) == (
        "still waiting", 2, T0)


def test_set_condition_unchanged_reports_no_change() -> None:
    status = ModelDeploymentStatus()
    status.set_condition("Ready", "True", "DeploymentReady", "All replicas are ready", 1, at=T0)
    assert not status.set_condition("Ready", "True", "DeploymentReady", "All replicas are ready", 1, at=T1)


def test_set_condition_status_flip_moves_transition_time() -> None:
    status = ModelDeploymentStatus()
    status.set_condition("Ready", "False", "DeploymentInProgress", "waiting", 1, at=T0)
    status.set_condition("Ready", "True", "DeploymentReady", "All replicas are ready", 1, at=T1)
    assert status.get_condition("Ready").last_transition_time == T1
    assert status.is_condition_true("Ready")
    assert len(status.conditions) == 1


def test_set_condition_rejects_an_unknown_status() -> None:
    status = ModelDeploymentStatus()
    status.set_condition("Ready", "False", "DeploymentInProgress", "waiting", at=T0)
    with pytest.raises(ValueError):
        status.set_condition("Ready", "Maybe", "DeploymentInProgress", "waiting", at=T0)


def test_remove_condition() -> None:
    status = ModelDeploymentStatus()
    status.set_condition("GatewayReady", "True", "GatewayConfigured", "InferencePool and HTTPRoute created", at=T0)
    assert status.remove_condition("GatewayReady")
    assert not status.remove_condition("GatewayReady")
    assert status.get_condition("GatewayReady") is None


def test_condition_status_values() -> None:
    assert [s.value for s in ConditionStatus] == ["True", "False", "Unknown"]


# ------------------------------------------------------------------------------------------ constants


def test_condition_types() -> None:
    assert [t.value for t in ConditionType] == [
        "Validated", "EngineSelected", "ProviderSelected", "ProviderCompatible", "StorageReady", "ModelDownloaded",
        "ResourceCreated", "Ready", "GatewayReady", "ImageResolved", "ImageVerified", "UnsupportedImage",
        "RecipeResolved", "NightlyAvailable", "HardwareCompatible",
        "Deleting",  # ours, after upstream's
    ]


def test_core_reasons_are_spelled_as_upstream() -> None:
    assert {Reason.VALIDATION_PASSED, Reason.CONFLICTING_IMAGE_FIELDS, Reason.PROVIDER_CHANGE_NOT_SUPPORTED,
            Reason.CRDS_NOT_AVAILABLE, Reason.EPP_FAILED, Reason.HTTP_ROUTE_FAILED} == {
        "ValidationPassed", "ConflictingImageFields", "ProviderChangeNotSupported", "CRDsNotAvailable", "EPPFailed",
        "HTTPRouteFailed"}


def test_provider_finalizer() -> None:
    assert provider_finalizer("kaito") == "airunway.ai/kaito-provider"


# ------------------------------------------------------------------------------------------ Go JSON shape


def test_go_json_leaves_out_zero_values_like_omitempty() -> None:
    marshalled = spec(resources={"gpu": {"count": 0}}, scaling={"replicas": 0}, engine={"type": "vllm"},
                      image="", nodeSelector={}, env=[]).go_json()
    assert marshalled["resources"] == {"gpu": {"type": "nvidia.com/gpu"}}
    assert marshalled["scaling"] == {}
    assert marshalled["engine"] == {"type": "vllm", "enablePrefixCaching": True}
    assert not {"image", "nodeSelector", "env"} & set(marshalled)


def test_go_json_always_writes_the_engine_struct() -> None:
    assert spec().go_json() == {"model": {"id": "org/m", "source": "huggingface"}, "engine": {}}


def test_go_json_keeps_zero_values_of_pointer_fields() -> None:
    marshalled = spec(
        engine={"contextLength": 0},
        gateway={"enabled": False},
        provider={"overrides": {}},
        model={"id": "org/m", "storage": {"volumes": [{"name": "v", "size": 0, "storageClassName": ""}]}},
        tolerations=[{"key": "k", "tolerationSeconds": 0}],
    ).go_json()
    assert marshalled["engine"]["contextLength"] == 0
    assert marshalled["gateway"] == {"enabled": False}
    assert marshalled["provider"] == {"overrides": {}}
    assert marshalled["model"]["storage"]["volumes"] == [
        {"name": "v", "purpose": "custom", "size": 0, "storageClassName": ""}]
    assert marshalled["tolerations"] == [{"key": "k", "tolerationSeconds": 0}]


def test_go_json_writes_overrides_verbatim() -> None:
    overrides = {"a": 0, "b": "", "c": None, "d": {"e": False}}
    assert spec(provider={"overrides": overrides}).go_json()["provider"]["overrides"] == overrides
