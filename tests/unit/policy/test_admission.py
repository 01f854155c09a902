"""The admission webhook's rules (reference §6): defaulting, every validation error with its path, kind and message,
warnings, immutable fields on update, and the provider.overrides exception for Dynamo's typed keys (issue 3)."""

from __future__ import annotations

import copy

import pytest
import yaml

from airunway.api import InferenceProviderConfig
from airunway.policy.defaulting import default
from airunway.policy.fielderrors import ErrorType, aggregate_message
from airunway.policy.overrides import (
    ALWAYS_REFUSED_OVERRIDE_KEYS,
    HOST_ACCESS_OVERRIDE_KEYS,
    validate_overrides,
)
from airunway.policy.render import default_provider_configs
from airunway.policy.validation import (
    ProviderLookupError,
    denial_status,
    validate_create,
    validate_update,
)

from support import DATA


def ipc(name: str, engines: list[dict]) -> InferenceProviderConfig:
    return InferenceProviderConfig.model_validate({"metadata": {"name": name}, "spec": {"capabilities": {"engines": engines}}})


# The fixture providers of upstream's webhook tests.
DYNAMO = ipc(
    "dynamo",
    [
        {"name": "vllm", "servingModes": ["aggregated", "disaggregated"], "gpuSupport": True},
        {"name": "trtllm", "servingModes": ["aggregated"], "gpuSupport": True},
    ],
)
KAITO = ipc(
    "kaito",
    [
        {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True},
        {"name": "llamacpp", "servingModes": ["aggregated"], "gpuSupport": True, "cpuSupport": True},
    ],
)
PROVIDERS = [DYNAMO, KAITO]


def obj(spec: dict | None = None, name: str = "my-model", annotations: dict | None = None, status: dict | None = None) -> dict:
    out = {
        "apiVersion": "airunway.ai/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": name, **({"annotations": annotations} if annotations else {})},
        "spec": {"model": {"id": "org/model"}, **(spec or {})},
    }
    if status:
        out["status"] = status
    return out


def create(spec=None, providers=PROVIDERS, **kw):
    """Errors and warnings of creating the object after the mutating webhook ran (as in a cluster)."""
    return validate_create(default(obj(spec, **kw)), providers)


def errors_of(spec=None, **kw) -> list[str]:
    return [str(e) for e in create(spec, **kw)[0]]


def only_error(spec=None, **kw):
    errors, _ = create(spec, **kw)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# --------------------------------------------------------------------------------------------- defaulting


def test_defaults_source_serving_scaling():
    out = default({"metadata": {"name": "x"}, "spec": {"model": {"id": "a"}}})
    assert out["spec"]["model"]["source"] == "huggingface"
    assert out["spec"]["serving"] == {"mode": "aggregated"}
    assert out["spec"]["scaling"] == {"replicas": 1}
    assert "resources" not in out["spec"]  # no engine: auto-selection decides GPU needs


def test_defaults_keep_explicit_values():
    spec = {"model": {"id": "a", "source": "custom"}, "serving": {"mode": "disaggregated"}, "scaling": {"replicas": 0}}
    out = default({"metadata": {"name": "x"}, "spec": spec})
    assert out["spec"]["model"]["source"] == "custom"
    assert out["spec"]["serving"]["mode"] == "disaggregated"
    assert out["spec"]["scaling"] == {"replicas": 0}


def test_default_does_not_modify_its_input():
    original = obj({"engine": {"type": "vllm"}})
    snapshot = copy.deepcopy(original)
    default(original)
    assert original == snapshot


def test_disaggregated_gets_no_scaling_default():
    out = default(obj({"serving": {"mode": "disaggregated"}}))
    assert "scaling" not in out["spec"]


def test_one_gpu_for_an_explicit_engine_without_resources():
    out = default(obj({"engine": {"type": "vllm"}}))
    assert out["spec"]["resources"] == {"gpu": {"count": 1, "type": "nvidia.com/gpu"}}


@pytest.mark.parametrize(
    "spec",
    [
        {"engine": {"type": "llamacpp"}},
        {"engine": {"type": "vllm"}, "image": "my/image:1"},
        {"engine": {"type": "vllm"}, "resources": {"cpu": "2"}},
        {"engine": {"type": "vllm"}, "serving": {"mode": "disaggregated"}},
    ],
)
def test_no_gpu_default(spec):
    out = default(obj(spec))
    assert out["spec"].get("resources", {}).get("gpu") is None


def test_engine_image_alone_does_not_suppress_the_gpu_default():
    out = default(obj({"engine": {"type": "vllm", "image": "my/vllm:1"}}))
    assert out["spec"]["resources"]["gpu"]["count"] == 1


def test_gpu_type_defaults_everywhere():
    spec = {
        "resources": {"gpu": {"count": 2}},
        "scaling": {"prefill": {"gpu": {"count": 1}}, "decode": {"gpu": {"count": 1, "type": "amd.com/gpu"}}},
    }
    out = default(obj(spec))
    assert out["spec"]["resources"]["gpu"]["type"] == "nvidia.com/gpu"
    assert out["spec"]["scaling"]["prefill"]["gpu"]["type"] == "nvidia.com/gpu"
    assert out["spec"]["scaling"]["decode"]["gpu"]["type"] == "amd.com/gpu"


def test_storage_volume_defaults():
    volumes = [
        {"name": "cache", "purpose": "modelCache", "size": "10Gi"},
        {"name": "comp", "purpose": "compilationCache", "claimName": "existing"},
        {"name": "plain", "claimName": "pvc", "mountPath": "/data"},
        {"name": "explicit", "purpose": "modelCache", "mountPath": "/weights", "claimName": "w"},
    ]
    out = default(obj({"model": {"id": "a", "storage": {"volumes": volumes}}}, name="md"))
    cache, comp, plain, explicit = out["spec"]["model"]["storage"]["volumes"]
    assert cache == {"name": "cache", "purpose": "modelCache", "size": "10Gi", "mountPath": "/model-cache", "claimName": "md-cache", "accessMode": "ReadWriteMany"}
    assert comp["mountPath"] == "/compilation-cache" and "accessMode" not in comp
    assert plain["purpose"] == "custom" and plain["mountPath"] == "/data"
    assert explicit["mountPath"] == "/weights"


def test_default_tolerates_malformed_objects():
    assert default({"spec": "nope"}) == {"spec": "nope"}
    out = default({"metadata": {"name": "x"}, "spec": {"model": {"id": "a", "storage": {"volumes": ["x", {"name": "v"}]}}, "serving": "bad"}})
    assert out["spec"]["serving"] == "bad" and "scaling" not in out["spec"]


# --------------------------------------------------------------------------------------------- seed examples


@pytest.mark.parametrize("example", ["qwen-demo", "llama-8b", "gemma-cpu", "llama-70b-pd"])
def test_seed_examples_are_admitted(example):
    document = yaml.safe_load((DATA / "modeldeployments" / f"{example}.yaml").read_text())
    errors, warnings = validate_create(default(document), default_provider_configs())
    assert errors == []
    assert warnings == []


def test_the_dynamo_example_keeps_its_frontend_replicas():
    document = yaml.safe_load((DATA / "modeldeployments" / "llama-70b-pd.yaml").read_text())
    assert document["spec"]["provider"]["overrides"]["frontend"]["replicas"] == 2
    assert validate_create(default(document), None) == ([], [])


# --------------------------------------------------------------------------------------------- §6.2 one test per rule


def test_dotted_name_refused_on_create():
    error = only_error(name="my.model")
    assert str(error) == (
        'metadata.name: Invalid value: "my.model": name must not contain dots (dots are invalid in derived '
        "Kubernetes volume and service names)"
    )
    assert error.type == ErrorType.INVALID


def test_dotted_name_allowed_on_update():
    old = default(obj(name="my.model"))
    assert validate_update(old, copy.deepcopy(old), PROVIDERS) == ([], [])


def test_conflicting_images():
    error = only_error({"image": "a/b:1", "engine": {"image": "a/b:2"}})
    assert str(error) == (
        'spec.engine.image: Invalid value: "a/b:2": spec.image "a/b:1" conflicts with spec.engine.image "a/b:2"; '
        "remove spec.image or set both fields to the same value (spec.engine.image is preferred)"
    )
    assert errors_of({"image": "a/b:1", "engine": {"image": "a/b:1"}}) == []
    old = default(obj({"engine": {"image": "a/b:2"}}))
    new = default(obj({"image": "a/b:1", "engine": {"image": "a/b:2"}}))
    assert [e.field for e in validate_update(old, new, PROVIDERS)[0]] == ["spec.engine.image"]


def test_flag_in_args_and_extra_args():
    error = only_error({"engine": {"args": {"max-model-len": "4096"}, "extraArgs": ["--max-model-len=8192", "--x"]}})
    assert str(error) == (
        'spec.engine.extraArgs: Invalid value: []string{"--max-model-len=8192", "--x"}: launch flag "max-model-len" '
        'is set in both spec.engine.args and spec.engine.extraArgs ("--max-model-len=8192"); set it in exactly one '
        "place so the engine does not receive conflicting values"
    )
    assert errors_of({"engine": {"args": {"a": "1"}, "extraArgs": ["--b=2", "a"]}}) == []


def test_model_id_required_for_huggingface():
    error = only_error({"model": {}})
    assert str(error) == "spec.model.id: Required value: model.id is required when source is huggingface"
    assert error.type == ErrorType.REQUIRED
    assert errors_of({"model": {"source": "custom"}, "image": "x"}) == []


def test_overrides_must_be_valid_json():
    (error,) = validate_overrides(b'{"a": ')
    assert str(error) == 'spec.provider.overrides: Invalid value: "<redacted 6 bytes>": overrides must be valid JSON'


@pytest.mark.parametrize("value", [[1, 2], "text", 3, b"null", b"[1]"])
def test_overrides_must_be_an_object_and_are_never_echoed(value):
    (error,) = validate_overrides(value)
    assert error.field == "spec.provider.overrides" and error.detail == "overrides must be a JSON object"
    assert str(error.bad_value).startswith("<redacted ") and "text" not in str(error)


def test_non_object_overrides_in_a_deployment():
    error = only_error({"provider": {"overrides": ["a", "b"]}})
    assert str(error) == 'spec.provider.overrides: Invalid value: "<redacted 9 bytes>": overrides must be a JSON object'


HINT_UNNAMED = (
    '; it gives pods access to the host, which a cluster admin can allow only for a named provider (set '
    'spec.provider.name) with the annotation airunway.ai/allow-host-access: "true" on its InferenceProviderConfig'
)


def hint(provider: str) -> str:
    return (f'; it gives pods access to the host, which a cluster admin can allow for provider "{provider}" with the '
            'annotation airunway.ai/allow-host-access: "true" on its InferenceProviderConfig')


@pytest.mark.parametrize("key", ["securityContext", *ALWAYS_REFUSED_OVERRIDE_KEYS])
def test_security_keys_are_forbidden_in_overrides(key):
    error = only_error({"provider": {"overrides": {"spec": {"template": {key: True}}}}})
    assert str(error) == f'spec.provider.overrides.spec.template.{key}: Forbidden: overriding "{key}" is not allowed for security reasons'
    assert error.type == ErrorType.FORBIDDEN


@pytest.mark.parametrize("key", HOST_ACCESS_OVERRIDE_KEYS)
def test_host_access_keys_are_forbidden_in_overrides_and_the_opt_in_is_named(key):
    error = only_error({"provider": {"overrides": {"spec": {"template": {key: True}}}}})
    assert str(error) == (f'spec.provider.overrides.spec.template.{key}: Forbidden: overriding "{key}" is not allowed '
                          f"for security reasons{HINT_UNNAMED}")
    assert error.type == ErrorType.FORBIDDEN


def test_forbidden_keys_inside_arrays_and_only_the_outermost():
    overrides = {"containers": [{"name": "a"}, {"securityContext": {"securityContext": {}}}], "matrix": [[{"hostPID": True}]]}
    assert errors_of({"provider": {"overrides": overrides}}) == [
        'spec.provider.overrides.containers[1].securityContext: Forbidden: overriding "securityContext" is not allowed for security reasons',
        f'spec.provider.overrides.matrix[0][0].hostPID: Forbidden: overriding "hostPID" is not allowed for security reasons{HINT_UNNAMED}',
    ]


VLLM_HOST_ACCESS = InferenceProviderConfig.model_validate({
    "metadata": {"name": "vllm", "annotations": {"airunway.ai/allow-host-access": "true"}},
    "spec": {"capabilities": {"engines": [{"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True}]}},
})
VLLM = ipc("vllm", [{"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True}])
HOST_ACCESS_OVERRIDES = {
    "spec": {"template": {"spec": {
        "hostNetwork": True, "hostPID": True, "hostIPC": True, "serviceAccountName": "node-admin",
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "containers": [{"name": "main", "ports": [{"containerPort": 8000, "hostPort": 80}],
                        "securityContext": {"privileged": True, "allowPrivilegeEscalation": True,
                                            "capabilities": {"add": ["SYS_ADMIN"]}}}],
    }}}
}
POD = "spec.provider.overrides.spec.template.spec"


def host_access_errors(overrides, providers, **provider) -> list[str]:
    spec = {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}},
            "provider": {**provider, "overrides": overrides}}
    return [str(e) for e in create(spec, providers=providers)[0]]


def test_each_host_access_override_is_refused_with_its_field_unless_the_provider_allows_it():
    refused = 'Forbidden: overriding "{}" is not allowed for security reasons' + hint("vllm")
    assert host_access_errors(HOST_ACCESS_OVERRIDES, [VLLM], name="vllm") == [
        f"{POD}.hostNetwork: " + refused.format("hostNetwork"),
        f"{POD}.hostPID: " + refused.format("hostPID"),
        f"{POD}.hostIPC: " + refused.format("hostIPC"),
        f"{POD}.serviceAccountName: " + refused.format("serviceAccountName"),
        f"{POD}.volumes[0].hostPath: " + refused.format("hostPath"),
        f"{POD}.containers[0].ports[0].hostPort: " + refused.format("hostPort"),
        f"{POD}.containers[0].securityContext: " + refused.format("securityContext"),
    ]
    assert host_access_errors(HOST_ACCESS_OVERRIDES, [VLLM_HOST_ACCESS], name="vllm") == []
    # The opt-in belongs to the provider: it does not carry over to another one.
    assert len(host_access_errors(HOST_ACCESS_OVERRIDES, [VLLM_HOST_ACCESS, KAITO], name="kaito")) == 7


def test_the_opt_in_reallows_only_host_access():
    overrides = {"securityContext": {"privileged": True, "runAsUser": 0}, "spec": {"nodeName": "gpu-1",
                 "automountServiceAccountToken": True, "runtimeClassName": "x", "priorityClassName": "y"}}
    assert host_access_errors(overrides, [VLLM_HOST_ACCESS], name="vllm") == [
        'spec.provider.overrides.securityContext.runAsUser: Forbidden: overriding "securityContext.runAsUser" is not '
        "allowed for security reasons; host access allows only privileged, capabilities, allowPrivilegeEscalation here",
        'spec.provider.overrides.spec.nodeName: Forbidden: overriding "nodeName" is not allowed for security reasons',
        'spec.provider.overrides.spec.automountServiceAccountToken: Forbidden: overriding '
        '"automountServiceAccountToken" is not allowed for security reasons',
        'spec.provider.overrides.spec.runtimeClassName: Forbidden: overriding "runtimeClassName" is not allowed for '
        "security reasons",
        'spec.provider.overrides.spec.priorityClassName: Forbidden: overriding "priorityClassName" is not allowed for '
        "security reasons",
    ]
    assert host_access_errors({"securityContext": None}, [VLLM_HOST_ACCESS], name="vllm") == [
        'spec.provider.overrides.securityContext: Invalid value: "<redacted 4 bytes>": a securityContext override '
        "must be an object"]


def test_host_access_keys_are_matched_without_regard_to_case():
    errors = host_access_errors({"spec": {"HostNetwork": True, "SECURITYCONTEXT": {"Privileged": True}}}, [VLLM],
                                name="vllm")
    assert [e.split(": ")[0] for e in errors] == ["spec.provider.overrides.spec.HostNetwork",
                                                  "spec.provider.overrides.spec.SECURITYCONTEXT"]


def test_the_opt_in_of_an_auto_selected_provider_applies_on_update():
    # No provider named: the opt-in cannot apply; once selected (status.provider.name), that provider's does.
    assert host_access_errors({"hostNetwork": True}, [VLLM_HOST_ACCESS]) == [
        f'spec.provider.overrides.hostNetwork: Forbidden: overriding "hostNetwork" is not allowed for security '
        f"reasons{HINT_UNNAMED}"]
    selected = default(obj({"provider": {"overrides": {"hostNetwork": True}}}, status={"provider": {"name": "vllm"}}))
    assert validate_create(selected, [VLLM_HOST_ACCESS])[0] == []
    assert [e.field for e in validate_create(selected, [VLLM])[0]] == ["spec.provider.overrides.hostNetwork"]


def test_host_access_admitted_before_stays_admitted_while_the_overrides_do_not_change():
    """The opt-in withdrawn: updates that keep the overrides (a label, a finalizer's removal) still go through;
    a change of the overrides is checked afresh."""
    spec = {"engine": {"type": "vllm"}, "resources": {"gpu": {"count": 1}},
            "provider": {"name": "vllm", "overrides": HOST_ACCESS_OVERRIDES}}
    old = default(obj(spec))
    assert validate_create(old, [VLLM_HOST_ACCESS])[0] == []
    relabelled = copy.deepcopy(old)
    relabelled["metadata"]["labels"] = {"team": "a"}
    assert validate_update(old, relabelled, [VLLM])[0] == []
    changed = copy.deepcopy(old)
    changed["spec"]["provider"]["overrides"]["spec"]["template"]["spec"]["hostNetwork"] = False
    assert len(validate_update(old, changed, [VLLM])[0]) == 7
    assert validate_update(old, changed, [VLLM_HOST_ACCESS])[0] == []


def test_an_unreadable_provider_config_does_not_allow_host_access():
    def unreadable(_name):
        raise ProviderLookupError(ProviderLookupError.OTHER, "timeout")

    errors = host_access_errors({"hostNetwork": True}, unreadable, name="vllm")
    assert [e.split(": ")[0] for e in errors] == ["spec.provider.overrides.hostNetwork"]


@pytest.mark.parametrize("key", ["replicas", "resources"])
def test_sizing_keys_are_forbidden_in_overrides(key):
    error = only_error({"provider": {"overrides": {"spec": {"services": {"Worker": {key: 3}}}}}})
    assert str(error) == (
        f'spec.provider.overrides.spec.services.Worker.{key}: Forbidden: overriding "{key}" is not allowed because '
        "it can bypass admission resource limits; use spec.resources / spec.scaling instead"
    )


def test_safe_overrides_are_admitted():
    assert errors_of({"provider": {"overrides": {"routerMode": "kv", "spec": {"template": {"labels": {"a": "b"}}}}}}) == []


def test_mocker_supports_only_vllm():
    error = only_error(
        {"provider": {"name": "dynamo"}, "engine": {"type": "sglang"}}, annotations={"airunway.ai/dynamo-test-backend": "mocker"}
    )
    assert str(error) == 'spec.engine.type: Invalid value: "sglang": the dynamo mocker test backend only supports the vllm engine'


def test_mocker_waives_the_gpu_checks():
    mocker = {"airunway.ai/dynamo-test-backend": "mocker"}
    cpu = {"provider": {"name": "dynamo"}, "engine": {"type": "vllm"}, "resources": {"cpu": "1"}}
    assert errors_of(cpu, annotations=mocker) == []
    cpu_disagg = {"provider": {"name": "dynamo"}, "engine": {"type": "vllm"}, "serving": {"mode": "disaggregated"}, "scaling": {"prefill": {}, "decode": {}}}
    assert errors_of(cpu_disagg, annotations=mocker) == []
    assert len(errors_of(cpu_disagg)) == 2
    assert errors_of(cpu, annotations={"airunway.ai/dynamo-test-backend": "real"}) == [
        "spec.resources.gpu.count: Invalid value: 0: vllm engine on provider dynamo requires GPU (set resources.gpu.count > 0)"
    ]


def test_unknown_provider_is_refused():
    error = only_error({"provider": {"name": "nope"}, "engine": {"type": "vllm"}})
    assert str(error) == 'spec.provider.name: Invalid value: "nope": InferenceProviderConfig "nope" not found'


def test_provider_check_needs_both_provider_and_engine():
    assert errors_of({"provider": {"name": "nope"}}) == []
    assert errors_of({"engine": {"type": "sglang"}}) == []
    assert errors_of({"provider": {"name": "nope"}, "engine": {"type": "vllm"}}, providers=None) == []


def test_provider_lookup_failures():
    spec = {"provider": {"name": "dynamo"}, "engine": {"type": "vllm"}}

    def failing(kind):
        def lookup(name):
            raise ProviderLookupError(kind, "boom")

        return lookup

    assert create(spec, providers=failing(ProviderLookupError.NO_MATCH)) == ([], [])
    for kind in (ProviderLookupError.FORBIDDEN, ProviderLookupError.UNAUTHORIZED):
        errors, _ = create(spec, providers=failing(kind))
        assert [str(e) for e in errors] == ['spec.provider.name: Internal error: cannot verify provider "dynamo": boom']
        assert errors[0].type == ErrorType.INTERNAL
    errors, warnings = create(spec, providers=failing(ProviderLookupError.OTHER))
    assert errors == []
    assert warnings == [
        'could not verify provider "dynamo" compatibility at admission time (boom); the controller will re-validate during reconciliation'
    ]


def test_provider_lookup_by_function_and_by_dicts():
    spec = {"provider": {"name": "kaito"}, "engine": {"type": "sglang"}}
    by_name = {config.name: config for config in PROVIDERS}
    assert len(create(spec, providers=by_name.get)[0]) == 1
    assert len(create(spec, providers=[config.to_dict() for config in PROVIDERS])[0]) == 1


def test_engine_unsupported_by_provider():
    error = only_error({"provider": {"name": "kaito"}, "engine": {"type": "sglang"}})
    assert str(error) == 'spec.engine.type: Invalid value: "sglang": provider kaito does not support engine sglang'


def test_serving_mode_unsupported_by_provider():
    spec = {
        "provider": {"name": "dynamo"},
        "engine": {"type": "trtllm"},
        "serving": {"mode": "disaggregated"},
        "scaling": {"prefill": {"gpu": {"count": 1}}, "decode": {"gpu": {"count": 1}}},
    }
    error = only_error(spec)
    assert str(error) == 'spec.serving.mode: Invalid value: "disaggregated": provider dynamo does not support disaggregated mode for engine trtllm'
    spec["engine"]["type"] = "vllm"
    assert errors_of(spec) == []


def test_gpu_required_by_provider():
    assert errors_of({"provider": {"name": "dynamo"}, "engine": {"type": "vllm"}, "resources": {"gpu": {"count": 0}}}) == [
        "spec.resources.gpu.count: Invalid value: 0: vllm engine on provider dynamo requires GPU (set resources.gpu.count > 0)"
    ]
    # no resources and a custom image: no GPU default, so the same refusal
    assert len(errors_of({"provider": {"name": "dynamo"}, "engine": {"type": "vllm"}, "image": "x"})) == 1
    assert errors_of({"provider": {"name": "kaito"}, "engine": {"type": "llamacpp"}}) == []


def test_disaggregated_refuses_resources_gpu():
    spec = {
        "serving": {"mode": "disaggregated"},
        "resources": {"gpu": {"count": 2}},
        "scaling": {"prefill": {"gpu": {"count": 1}}, "decode": {"gpu": {"count": 1}}},
    }
    error = only_error(spec)
    assert str(error) == (
        'spec.resources.gpu: Invalid value: v1alpha1.GPUSpec{Count:2, Type:"nvidia.com/gpu"}: cannot specify both '
        "resources.gpu and scaling.prefill/decode in disaggregated mode"
    )


def test_disaggregated_requires_scaling():
    assert errors_of({"serving": {"mode": "disaggregated"}}) == [
        "spec.scaling: Required value: disaggregated mode requires scaling configuration"
    ]


@pytest.mark.parametrize("role", ["prefill", "decode"])
def test_disaggregated_requires_each_component(role):
    other = "decode" if role == "prefill" else "prefill"
    spec = {"serving": {"mode": "disaggregated"}, "scaling": {other: {"gpu": {"count": 1}}}}
    assert errors_of(spec) == [f"spec.scaling.{role}: Required value: disaggregated mode requires scaling.{role}"]


@pytest.mark.parametrize("role", ["prefill", "decode"])
def test_disaggregated_requires_component_gpus(role):
    other = "decode" if role == "prefill" else "prefill"
    spec = {"serving": {"mode": "disaggregated"}, "scaling": {other: {"gpu": {"count": 1}}, role: {"gpu": {"count": 0}}}}
    assert errors_of(spec) == [
        f"spec.scaling.{role}.gpu.count: Required value: disaggregated mode requires scaling.{role}.gpu.count > 0"
    ]


# storage (§6.2): one test per rule


def storage_errors(volumes: list[dict], name: str = "md", source: str = "huggingface") -> list[str]:
    model = {"id": "org/model", "source": source, "storage": {"volumes": volumes}}
    return errors_of({"model": model}, name=name)


def test_storage_claim_name_required_without_size():
    assert storage_errors([{"name": "v", "mountPath": "/data"}]) == [
        "spec.model.storage.volumes[0].claimName: Required value: claimName is required when size is not set (must reference a pre-existing PVC)"
    ]


def test_storage_read_only_with_size():
    assert storage_errors([{"name": "v", "mountPath": "/data", "size": "1Gi", "readOnly": True}]) == [
        "spec.model.storage.volumes[0].readOnly: Invalid value: true: readOnly must not be true when size is set (controller-created PVCs need write access)"
    ]


def test_storage_claim_name_with_size_must_be_generated():
    assert storage_errors([{"name": "v", "mountPath": "/data", "size": "1Gi", "claimName": "other"}]) == [
        'spec.model.storage.volumes[0].claimName: Invalid value: "other": claimName must not be set when size is set (auto-generated as "md-v")'
    ]
    assert storage_errors([{"name": "v", "mountPath": "/data", "size": "1Gi", "claimName": "md-v", "storageClassName": "fast"}]) == []
    assert storage_errors([{"name": "v", "mountPath": "/data", "size": "1Gi", "storageClassName": ""}]) == []


def too_long(name: str) -> str:
    """The refusal of a name longer than a label value, which comes first (issue 15)."""
    return (f'metadata.name: Invalid value: "{name}": must be no more than 63 characters (got {len(name)}): the '
            "providers label what they create with it (airunway.ai/deployment), and label values are limited to 63 "
            "characters")


def test_storage_generated_claim_name_length():
    name = "m" * 250
    errors = storage_errors([{"name": "vol", "mountPath": "/data", "size": "1Gi"}], name=name)
    assert errors == [
        too_long(name),
        f'spec.model.storage.volumes[0].name: Invalid value: "vol": auto-generated PVC claim name "{name}-vol" exceeds '
        "the 253-character Kubernetes name limit (got 254 characters); use a shorter ModelDeployment or volume name",
    ]
    assert storage_errors([{"name": "v", "mountPath": "/data", "size": "1Gi"}], name="m" * 251) == [too_long("m" * 251)]


def test_storage_unsupported_access_mode():
    assert storage_errors([{"name": "v", "mountPath": "/data", "size": "1Gi", "accessMode": "ReadWriteSometimes"}]) == [
        'spec.model.storage.volumes[0].accessMode: Unsupported value: "ReadWriteSometimes": supported values: '
        '"ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"'
    ]


def test_storage_access_mode_needs_size():
    assert storage_errors([{"name": "v", "mountPath": "/data", "claimName": "c", "accessMode": "ReadWriteOnce"}]) == [
        'spec.model.storage.volumes[0].accessMode: Invalid value: "ReadWriteOnce": accessMode is only applicable when size is set (controller-created PVCs)'
    ]


def test_storage_class_needs_size():
    assert storage_errors([{"name": "v", "mountPath": "/data", "claimName": "c", "storageClassName": "fast"}]) == [
        'spec.model.storage.volumes[0].storageClassName: Invalid value: "fast": storageClassName is only applicable when size is set (controller-created PVCs)'
    ]


def test_storage_duplicate_name():
    assert storage_errors([{"name": "v", "mountPath": "/a", "claimName": "a"}, {"name": "v", "mountPath": "/b", "claimName": "b"}]) == [
        'spec.model.storage.volumes[1].name: Invalid value: "v": duplicate volume name'
    ]


def test_storage_duplicate_mount_path():
    assert storage_errors([{"name": "a", "mountPath": "/x", "claimName": "a"}, {"name": "b", "mountPath": "/x", "claimName": "b"}]) == [
        'spec.model.storage.volumes[1].mountPath: Invalid value: "/x": duplicate mount path'
    ]


def test_storage_duplicate_claim_name():
    assert storage_errors([{"name": "a", "mountPath": "/a", "claimName": "c"}, {"name": "b", "mountPath": "/b", "claimName": "c"}]) == [
        'spec.model.storage.volumes[1].claimName: Invalid value: "c": duplicate claim name'
    ]


def test_storage_relative_mount_path():
    assert storage_errors([{"name": "a", "mountPath": "data", "claimName": "c"}]) == [
        'spec.model.storage.volumes[0].mountPath: Invalid value: "data": mountPath must be an absolute path (start with /)'
    ]


def test_storage_custom_purpose_needs_mount_path():
    assert storage_errors([{"name": "a", "claimName": "c"}]) == [
        "spec.model.storage.volumes[0].mountPath: Required value: mountPath is required when purpose is custom"
    ]


@pytest.mark.parametrize("path", ["/dev", "/proc", "/sys", "/etc", "/var/run", "/proc/something"])
def test_storage_system_paths(path):
    system = "/" + path.split("/")[1] if not path.startswith("/var/run") else "/var/run"
    assert storage_errors([{"name": "a", "mountPath": path, "claimName": "c"}]) == [
        f'spec.model.storage.volumes[0].mountPath: Invalid value: "{path}": mountPath must not overlap with system path {system}'
    ]
    assert storage_errors([{"name": "a", "mountPath": "/devices", "claimName": "c"}]) == []


def test_storage_one_model_cache():
    volumes = [{"name": "a", "purpose": "modelCache", "claimName": "a", "mountPath": "/a"}, {"name": "b", "purpose": "modelCache", "claimName": "b", "mountPath": "/b"}]
    assert storage_errors(volumes) == [
        "spec.model.storage.volumes: Invalid value: 2: at most one volume with purpose=modelCache is allowed"
    ]


def test_storage_one_compilation_cache():
    volumes = [{"name": "a", "purpose": "compilationCache", "claimName": "a", "mountPath": "/a"}, {"name": "b", "purpose": "compilationCache", "claimName": "b", "mountPath": "/b"}]
    assert storage_errors(volumes) == [
        "spec.model.storage.volumes: Invalid value: 2: at most one volume with purpose=compilationCache is allowed"
    ]


def test_storage_download_job_name_length():
    name = "m" * 239  # + "-model-download" = 254
    volumes = [{"name": "c", "purpose": "modelCache", "size": "1Gi"}]
    assert storage_errors(volumes, name=name) == [
        too_long(name),
        f'metadata.name: Invalid value: "{name}": auto-generated download Job name "{name}-model-download" exceeds the '
        "253-character Kubernetes name limit (got 254 characters); use a shorter ModelDeployment name",
    ]
    assert storage_errors([{"name": "c", "purpose": "modelCache", "claimName": "pvc"}], name=name) == [too_long(name)]


def test_storage_combinations_admitted():
    assert storage_errors([{"name": "cache", "purpose": "modelCache", "size": "100Gi"}, {"name": "comp", "purpose": "compilationCache", "claimName": "comp"}]) == []


# ceilings (§6.2)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"resources": {"gpu": {"count": 65}}}, "spec.resources.gpu.count: Invalid value: 65: exceeds maximum allowed (64)"),
        ({"resources": {"cpu": "1024"}}, 'spec.resources.cpu: Invalid value: "1024": exceeds maximum allowed (512)'),
        ({"resources": {"cpu": "lots"}}, 'spec.resources.cpu: Invalid value: "lots": invalid resource quantity'),
        ({"resources": {"memory": "8Ti"}}, 'spec.resources.memory: Invalid value: "8Ti": exceeds maximum allowed (4Ti)'),
        ({"resources": {"memory": "1Q"}}, 'spec.resources.memory: Invalid value: "1Q": invalid resource quantity'),
        ({"scaling": {"replicas": 33}}, "spec.scaling.replicas: Invalid value: 33: exceeds maximum allowed (32)"),
        ({"scaling": {"replicas": 1, "prefill": {"replicas": 33}}}, "spec.scaling.prefill.replicas: Invalid value: 33: exceeds maximum allowed (32)"),
        ({"scaling": {"replicas": 1, "decode": {"gpu": {"count": 65}}}}, "spec.scaling.decode.gpu.count: Invalid value: 65: exceeds maximum allowed (64)"),
        ({"scaling": {"replicas": 1, "prefill": {"memory": "8Ti"}}}, 'spec.scaling.prefill.memory: Invalid value: "8Ti": exceeds maximum allowed (4Ti)'),
        ({"scaling": {"replicas": 1, "decode": {"memory": "5000Gi"}}}, 'spec.scaling.decode.memory: Invalid value: "5000Gi": exceeds maximum allowed (4Ti)'),
    ],
)
def test_ceilings(spec, expected):
    assert errors_of(spec) == [expected]


def test_values_at_the_ceilings_are_admitted():
    assert errors_of({"resources": {"gpu": {"count": 64}, "cpu": "512", "memory": "4Ti"}, "scaling": {"replicas": 32}}) == []
    assert errors_of({"resources": {"cpu": "500m", "memory": "256Gi"}}) == []


# --------------------------------------------------------------------------------------------- Dynamo's typed overrides


def dynamo_overrides(overrides: dict, provider: str = "dynamo", **kw) -> list[str]:
    spec = {"provider": {"name": provider, "overrides": overrides}, "engine": {"type": "vllm"}}
    return errors_of(spec, **kw)


def test_dynamo_frontend_replicas_and_resources_are_admitted():
    assert dynamo_overrides({"routerMode": "kv", "frontend": {"replicas": 2, "resources": {"cpu": "4", "memory": "8Gi"}}}) == []
    assert dynamo_overrides({"frontend": {"replicas": 32}}) == []


def test_dynamo_frontend_keys_are_bounded_by_the_ceilings():
    assert dynamo_overrides({"frontend": {"replicas": 33}}) == [
        "spec.provider.overrides.frontend.replicas: Invalid value: 33: exceeds maximum allowed (32)"
    ]
    assert dynamo_overrides({"frontend": {"replicas": -1}}) == [
        "spec.provider.overrides.frontend.replicas: Invalid value: -1: must be a non-negative integer"
    ]
    assert dynamo_overrides({"frontend": {"replicas": "2"}}) == [
        'spec.provider.overrides.frontend.replicas: Invalid value: "2": must be a non-negative integer'
    ]
    assert dynamo_overrides({"frontend": {"resources": {"cpu": "1024", "memory": "8Ti"}}}) == [
        'spec.provider.overrides.frontend.resources.cpu: Invalid value: "1024": exceeds maximum allowed (512)',
        'spec.provider.overrides.frontend.resources.memory: Invalid value: "8Ti": exceeds maximum allowed (4Ti)',
    ]
    assert dynamo_overrides({"frontend": {"resources": {"nvidia.com/gpu": "8"}}}) == [
        'spec.provider.overrides.frontend.resources.nvidia.com/gpu: Forbidden: overriding "nvidia.com/gpu" is not allowed; only cpu and memory may be set here'
    ]


def test_sizing_keys_elsewhere_are_still_refused_for_dynamo():
    errors = dynamo_overrides({"epp": {"replicas": 3}, "spec": {"services": {"VllmWorker": {"replicas": 40}}}, "frontend": {"securityContext": {}}})
    assert errors == [
        'spec.provider.overrides.frontend.securityContext: Forbidden: overriding "securityContext" is not allowed for security reasons',
        'spec.provider.overrides.epp.replicas: Forbidden: overriding "replicas" is not allowed because it can bypass admission resource limits; use spec.resources / spec.scaling instead',
        'spec.provider.overrides.spec.services.VllmWorker.replicas: Forbidden: overriding "replicas" is not allowed because it can bypass admission resource limits; use spec.resources / spec.scaling instead',
    ]


def test_frontend_replicas_is_refused_for_other_providers():
    errors = dynamo_overrides({"frontend": {"replicas": 2}}, provider="kaito")
    assert errors == [
        'spec.provider.overrides.frontend.replicas: Forbidden: overriding "replicas" is not allowed because it can '
        "bypass admission resource limits; use spec.resources / spec.scaling instead"
    ]
    unpinned = errors_of({"provider": {"overrides": {"frontend": {"replicas": 2}}}})
    assert len(unpinned) == 1


def test_frontend_replicas_is_admitted_when_dynamo_was_auto_selected():
    old = default(obj(status={"provider": {"name": "dynamo"}}))
    new = default(obj({"provider": {"overrides": {"frontend": {"replicas": 2}}}}, status={"provider": {"name": "dynamo"}}))
    assert validate_update(old, new, PROVIDERS) == ([], [])


# --------------------------------------------------------------------------------------------- warnings (§6.3)


def warnings_of(spec: dict) -> list[str]:
    errors, warnings = create(spec)
    assert errors == []
    return warnings


def test_warning_served_name_with_custom_source():
    assert warnings_of({"model": {"source": "custom", "servedName": "x"}, "image": "i"}) == [
        "servedName is ignored for custom source (model name is defined by the container)"
    ]


def test_warning_trust_remote_code():
    assert warnings_of({"engine": {"trustRemoteCode": True}}) == ["trustRemoteCode=true allows execution of arbitrary code from HuggingFace"]


def test_warning_context_length_with_trtllm():
    assert warnings_of({"engine": {"type": "trtllm", "contextLength": 4096}}) == [
        "contextLength is ignored for TensorRT-LLM (must be configured at engine build time)"
    ]
    assert warnings_of({"engine": {"type": "vllm", "contextLength": 4096}}) == []


def test_warning_read_only_caches():
    volumes = [
        {"name": "comp", "purpose": "compilationCache", "claimName": "c", "readOnly": True},
        {"name": "cache", "purpose": "modelCache", "claimName": "m", "readOnly": True},
    ]
    assert warnings_of({"model": {"id": "a", "storage": {"volumes": volumes}}}) == [
        'storage volume "comp" has purpose=compilationCache with readOnly=true; compilation cache requires write access',
        'storage volume "cache" has purpose=modelCache with readOnly=true; model download will be skipped (ensure the PVC already contains the model data)',
    ]
    assert warnings_of({"model": {"source": "custom", "storage": {"volumes": volumes[1:]}}, "image": "i"}) == []


# --------------------------------------------------------------------------------------------- update (§6.4)


def update_errors(old_spec: dict, new_spec: dict, old_status: dict | None = None) -> list[str]:
    old = default(obj(old_spec, status=old_status))
    new = default(obj(new_spec))
    return [str(e) for e in validate_update(old, new, PROVIDERS)[0]]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"model": {"id": "a"}}, {"model": {"id": "b"}}, 'spec.model.id: Invalid value: "b": model.id is immutable (changing it requires delete and recreate)'),
        ({"model": {"id": "a"}}, {"model": {"id": "a", "source": "custom"}}, 'spec.model.source: Invalid value: "custom": model.source is immutable (changing it requires delete and recreate)'),
        ({"engine": {"type": "vllm"}}, {"engine": {"type": "sglang"}}, 'spec.engine.type: Invalid value: "sglang": engine.type is immutable (changing it requires delete and recreate)'),
        ({"provider": {"name": "kaito"}}, {"provider": {"name": "dynamo"}}, 'spec.provider.name: Invalid value: "dynamo": provider.name is immutable (changing it requires delete and recreate)'),
        ({}, {"serving": {"mode": "disaggregated"}, "scaling": {"prefill": {"gpu": {"count": 1}}, "decode": {"gpu": {"count": 1}}}}, 'spec.serving.mode: Invalid value: "disaggregated": serving.mode is immutable (changing it requires delete and recreate)'),
    ],
)
def test_identity_fields_are_immutable(old, new, expected):
    assert update_errors(old, new) == [expected]


def test_engine_may_be_set_or_cleared_once():
    assert update_errors({}, {"resources": {"gpu": {"count": 1}}, "engine": {"type": "vllm"}}) == []
    assert update_errors({"engine": {"type": "vllm"}}, {"resources": {"gpu": {"count": 1}}}) == []


def test_auto_selected_provider_is_pinned():
    assert update_errors({}, {"provider": {"name": "kaito"}}, old_status={"provider": {"name": "dynamo"}}) == [
        'spec.provider.name: Invalid value: "kaito": provider.name is immutable (changing it requires delete and recreate)'
    ]
    assert update_errors({}, {}, old_status={"provider": {"name": "dynamo"}}) == []
    assert update_errors({"provider": {"name": "dynamo"}}, {}) == []


def managed(name="cache", **extra) -> dict:
    return {"name": name, "purpose": "modelCache", "size": "1Gi", **extra}


def with_volumes(*volumes) -> dict:
    return {"model": {"id": "org/model", "storage": {"volumes": list(volumes)}}}


@pytest.mark.parametrize(
    "change",
    [
        {"size": "2Gi"},
        {"storageClassName": "fast"},
        {"accessMode": "ReadWriteOnce"},
        {"mountPath": "/elsewhere"},
        {"purpose": "custom", "mountPath": "/model-cache"},
    ],
)
def test_managed_volume_cannot_change(change):
    errors = update_errors(with_volumes(managed()), with_volumes(managed(**change)))
    assert errors == [
        'spec.model.storage.volumes[0]: Invalid value: "cache": managed storage volume is immutable once created '
        "(delete the ModelDeployment to change managed storage configuration)"
    ]


def test_managed_volume_size_compared_by_value():
    assert update_errors(with_volumes(managed()), with_volumes(managed(size="1024Mi"))) == []


def test_managed_volume_size_cannot_be_removed():
    errors = update_errors(with_volumes(managed()), with_volumes({"name": "cache", "purpose": "modelCache", "claimName": "my-model-cache"}))
    assert len(errors) == 1 and "managed storage volume is immutable" in errors[0]


def test_managed_volume_read_only_change_refused():
    errors = update_errors(with_volumes(managed()), with_volumes(managed(readOnly=True)))
    assert any("managed storage volume is immutable" in e for e in errors)


def test_managed_volume_cannot_be_removed():
    expected = (
        'spec.model.storage.volumes: Forbidden: managed storage volume "cache" cannot be removed (it has an associated '
        "PVC; delete the ModelDeployment to clean up managed storage)"
    )
    assert update_errors(with_volumes(managed()), {"model": {"id": "org/model"}}) == [expected]
    other = {"name": "other", "purpose": "compilationCache", "size": "1Gi"}
    assert update_errors(with_volumes(managed(), other), with_volumes(other)) == [expected]


def test_unmanaged_volumes_may_change_and_managed_ones_may_be_added():
    unmanaged = {"name": "data", "claimName": "pvc", "mountPath": "/data"}
    assert update_errors(with_volumes(unmanaged), with_volumes({**unmanaged, "mountPath": "/other", "readOnly": True})) == []
    assert update_errors(with_volumes(unmanaged), {"model": {"id": "org/model"}}) == []
    assert update_errors(with_volumes(unmanaged), with_volumes(unmanaged, managed())) == []


# --------------------------------------------------------------------------------------------- raw input, messages


def test_schema_violations_come_back_as_field_errors():
    errors, warnings = validate_create({"metadata": {"name": "x"}, "spec": {"model": {"id": 3}, "engine": {"type": "gpt"}, "scaling": {"replicas": -1}}})
    assert warnings == []
    assert [str(e) for e in errors] == [
        "spec.model.id: Invalid value: 3: Input should be a valid string",
        'spec.engine.type: Unsupported value: "gpt": supported values: "vllm", "sglang", "trtllm", "llamacpp"',
        "spec.scaling.replicas: Invalid value: -1: Input should be greater than or equal to 0",
    ]


@pytest.mark.parametrize("bad", [None, [], "text", {"spec": None}, {"spec": {"model": "x"}}, {"metadata": {"name": 5}, "spec": {}}])
def test_garbage_never_raises(bad):
    errors, _ = validate_create(bad, PROVIDERS)
    assert errors
    assert default(bad if isinstance(bad, dict) else {}) is not None


def test_missing_spec_is_required():
    errors, _ = validate_create({"metadata": {"name": "x"}})
    assert [str(e) for e in errors] == ["spec: Required value"]


def test_errors_aggregate_like_kubernetes():
    errors, _ = create({"model": {}}, name="a.b")
    assert aggregate_message(errors) == (
        '[metadata.name: Invalid value: "a.b": name must not contain dots (dots are invalid in derived Kubernetes '
        "volume and service names), spec.model.id: Required value: model.id is required when source is huggingface]"
    )
    assert denial_status(errors) == {"code": 403, "reason": "Forbidden", "message": aggregate_message(errors)}
    assert aggregate_message(errors[1:]) == "spec.model.id: Required value: model.id is required when source is huggingface"
    assert aggregate_message([errors[1], errors[1]]) == str(errors[1])
    assert errors[1].cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value: model.id is required when source is huggingface",
        "field": "spec.model.id",
    }


# --------------------------------------------------------------------------------------------- what providers render


def named(provider: str, name: str, **spec) -> list[str]:
    """The errors of creating ``name`` on ``provider`` with the vLLM engine on one GPU (unless ``spec`` says else)."""
    spec = {"resources": {"gpu": {"count": 1}}, "provider": {"name": provider}, **spec,
            "engine": {"type": "vllm", **spec.get("engine", {})}}
    return errors_of({key: value for key, value in spec.items() if value is not None}, name=name,
                     providers=default_provider_configs())


def test_a_name_longer_than_a_label_value_is_refused_whatever_the_provider():
    assert errors_of(name="n" * 64) == [too_long("n" * 64)]
    assert errors_of(name="n" * 253) == [too_long("n" * 253)]
    assert errors_of(name="n" * 63) == []
    assert named("vllm", "n" * 63) == named("kaito", "n" * 63) == []


@pytest.mark.parametrize("provider,limit,spec,reason", [
    ("kuberay", 47, {}, "KubeRay refuses longer RayService names (the name of the RayCluster it creates adds a suffix)"),
    ("dynamo", 54, {}, 'Dynamo serves the model through the Service "{name}-frontend", and Service names are limited '
                       "to 63 characters"),
    ("dynamo", 48, {"model": {"id": "org/model", "storage": {"volumes": [
        {"name": "cache", "purpose": "modelCache", "size": "10Gi"}]}}},
     'the model download Job "{name}-model-download" labels its pods with its name, and label values are limited to '
     "63 characters"),
    ("llmd", 55, {"serving": {"mode": "disaggregated"}, "resources": None,
                  "scaling": {"prefill": {"replicas": 1, "gpu": {"count": 1}}, "decode": {"replicas": 1, "gpu": {"count": 1}}}},
     "the prefill workers' Deployment \"{name}-prefill\" is also their label value, and label values are limited to "
     "63 characters"),
])
def test_a_name_too_long_for_the_named_providers_derived_names_is_refused(provider, limit, spec, reason):
    ok, refused = "n" * limit, "n" * (limit + 1)
    assert named(provider, ok, **spec) == []
    assert named(provider, refused, **spec) == [
        f'metadata.name: Invalid value: "{refused}": must be no more than {limit} characters for provider '
        f'"{provider}" (got {limit + 1}): ' + reason.format(name=refused)]


def test_kuberay_names_must_start_with_a_letter():
    assert named("kuberay", "7b-model") == [
        'metadata.name: Invalid value: "7b-model": must start with a letter for provider "kuberay": KubeRay requires '
        "RayService names to be DNS-1035 labels (lower-case letters, digits and '-', starting with a letter)"]
    assert named("vllm", "7b-model") == []


@pytest.mark.parametrize("provider", ["vllm", "llmd", "dynamo"])
def test_engine_arg_keys_the_provider_refuses_are_refused_with_their_path(provider):
    args = {"max-model-len": "4096", "--dtype": "half", "a b": "", "x=1": "", "": "v", "ok_key": ""}
    assert named(provider, "m", engine={"args": args}) == [
        f'spec.engine.args[{key}]: Invalid value: "{key}": an engine arg key must contain only letters, digits, '
        "'-' and '_' and not start with '-' (it becomes the flag --<key>)"
        for key in ("--dtype", "a b", "x=1", "")]


def test_kaito_and_kuberay_take_any_engine_arg_key_and_auto_selection_checks_later():
    args = {"a b": "", "--dtype": "half"}
    assert named("kuberay", "m", engine={"args": args}) == []
    assert named("kaito", "m", engine={"args": args}) == []
    assert errors_of({"engine": {"type": "vllm", "args": args}}) == []


def test_direct_vllm_refuses_host_and_port_flags():
    errors = named("vllm", "m", engine={"args": {"host": "::", "--port": "9000"}, "extraArgs": ["--port=1", "x"]})
    reserved = ("conflicts with Direct vLLM generated networking; Direct vLLM requires host 0.0.0.0 and port 8000 "
                "to keep the container, Service, and probes aligned: remove it")
    assert errors == [
        f'spec.engine.args[host]: Forbidden: engine arg "host" {reserved}',
        f'spec.engine.args[--port]: Forbidden: engine arg "--port" {reserved}',
        f'spec.engine.extraArgs[0]: Forbidden: engine extraArg "--port=1" {reserved}',
    ]
    assert named("llmd", "m", engine={"args": {"host": "::"}}) == []


def test_engine_args_are_checked_on_update_only_when_they_change():
    old = default(obj({"engine": {"type": "vllm", "args": {"a b": ""}}, "provider": {"name": "vllm"},
                       "resources": {"gpu": {"count": 1}}}))
    relabelled = copy.deepcopy(old)
    relabelled["metadata"]["labels"] = {"team": "a"}
    configs = default_provider_configs()
    assert validate_update(old, relabelled, configs)[0] == []
    changed = copy.deepcopy(old)
    changed["spec"]["engine"]["args"]["c d"] = ""
    assert [e.field for e in validate_update(old, changed, configs)[0]] == [
        "spec.engine.args[a b]", "spec.engine.args[c d]"]
