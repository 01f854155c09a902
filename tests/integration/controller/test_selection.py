"""The core controller (``airunway controller``) against the sandbox: selection, status, provider-config events.

The five providers' InferenceProviderConfigs are installed and marked ready (their provider controllers would do
that); the controller runs as a child process without webhooks, so the objects here carry what the mutating
webhook would have added (GPU counts in particular).
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from support import ControllerProcess, etcd_post, eventually, kget
from workload import (
    SELECTION_CASES,
    condition,
    create,
    gpus,
    md,
    selected,
    set_ready,
    status_when,
)

LEGACY = "legacy-shape"


@pytest.fixture(scope="module")
def legacy_config(sandbox):
    """A provider config as an older release stored it (engine names, not objects), written straight to etcd since
    the API server no longer accepts that shape; the controller migrates it when it starts."""
    obj = {"apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
           "metadata": {"name": LEGACY, "uid": str(uuid.uuid4()), "generation": 1,
                        "creationTimestamp": "2026-01-01T00:00:00Z"},
           "spec": {"capabilities": {"engines": ["vllm", "sglang"]}}}
    key = f"/registry/airunway.ai/inferenceproviderconfigs/{LEGACY}".encode()
    etcd_post(sandbox, "/v3/kv/put", {"key": base64.b64encode(key).decode(),
                                       "value": base64.b64encode(json.dumps(obj).encode()).decode()})
    yield LEGACY
    sandbox.kubectl("delete", "inferenceproviderconfig", LEGACY, "--wait=false", check=False)


@pytest.fixture(scope="module")
def controller(sandbox, providers, legacy_config, tmp_path_factory):
    with ControllerProcess(sandbox, tmp_path_factory.mktemp("controller") / "controller.log") as proc:
        yield proc




def test_selection_rules_of_the_shipped_providers(sandbox, namespace, controller):
    create(sandbox, namespace, *(md(name, spec) for name, spec, *_ in SELECTION_CASES))
    for name, spec, provider, engine, engine_reason in SELECTION_CASES:
        status = status_when(sandbox, namespace, name, selected, "a provider")
        gpu = "true" if "gpu" in json.dumps(spec) or "disaggregated" in json.dumps(spec) else "false"
        mode = spec.get("serving", {}).get("mode", "aggregated")
        assert status["provider"] == {
            "name": provider,
            "selectedReason": f"matched capabilities: engine={engine}, gpu={gpu}, mode={mode}",
        }, name
        assert status["engine"] == {"type": engine, "selectedReason": engine_reason}, name
        assert status["phase"] == "Pending"
        assert status["observedGeneration"] == 1
        auto_engine = "type" not in spec.get("engine", {})
        assert condition(status, "EngineSelected") | {"lastTransitionTime": None} == {
            "type": "EngineSelected", "status": "True", "observedGeneration": 1, "lastTransitionTime": None,
            "reason": "AutoSelected" if auto_engine else "ExplicitSelection",
            "message": f"Engine {engine} auto-selected from provider capabilities" if auto_engine
            else "Engine explicitly specified in spec",
        }
        assert condition(status, "ProviderSelected")["reason"] == "AutoSelected"
        assert condition(status, "ProviderSelected")["message"] == f"Provider {provider} auto-selected"
        assert condition(status, "Validated")["reason"] == "ValidationPassed"
        assert condition(status, "Validated")["message"] == "Schema validation passed"


def test_explicit_provider_wins_and_is_recorded_as_explicit(sandbox, namespace, controller):
    # The rules would pick kuberay for vLLM on two GPUs; the spec names llmd.
    create(sandbox, namespace, md("pinned", {"engine": {"type": "vllm"}, **gpus(2), "provider": {"name": "llmd"}}))
    status = status_when(sandbox, namespace, "pinned", selected, "a provider")
    assert status["provider"] == {"name": "llmd", "selectedReason": "explicit provider selection"}
    selected_condition = condition(status, "ProviderSelected")
    assert (selected_condition["status"], selected_condition["reason"], selected_condition["message"]) == (
        "True", "ExplicitSelection", "Provider explicitly specified in spec"
    )


def test_validation_failure_marks_the_deployment_failed(sandbox, namespace, controller):
    create(sandbox, namespace, md("cpu-vllm", {"engine": {"type": "vllm"}, "provider": {"name": "dynamo"}}))
    status = status_when(sandbox, namespace, "cpu-vllm", lambda s: s.get("phase") == "Failed", "phase Failed")
    message = "vllm engine on provider dynamo requires GPU (set resources.gpu.count > 0)"
    assert status["message"] == f"Validation failed: {message}"
    validated = condition(status, "Validated")
    assert (validated["status"], validated["reason"], validated["message"]) == ("False", "ValidationFailed", message)
    assert "provider" not in status


def test_conflicting_image_fields_stop_before_engine_selection(sandbox, namespace, controller):
    create(sandbox, namespace, md("images", {"image": "a:1", "engine": {"image": "b:2"}, **gpus(1)}))
    status = status_when(sandbox, namespace, "images", lambda s: s.get("phase") == "Failed", "phase Failed")
    message = ('spec.image "a:1" conflicts with spec.engine.image "b:2"; remove spec.image or set both fields to '
               "the same value (spec.engine.image is preferred)")
    assert status["image"] == {"requested": "b:2", "message": message}
    assert condition(status, "ImageResolved")["reason"] == "ConflictingImageFields"
    assert condition(status, "Validated")["reason"] == "ValidationFailed"
    assert "engine" not in status


def test_provider_change_after_selection_is_refused(sandbox, namespace, controller):
    create(sandbox, namespace, md("switch", {"engine": {"type": "vllm"}, **gpus(1), "provider": {"name": "dynamo"}}))
    status_when(sandbox, namespace, "switch", selected, "a provider")
    sandbox.kubectl("patch", "modeldeployment", "switch", "-n", namespace, "--type=merge",
                    "-p", json.dumps({"spec": {"provider": {"name": "llmd"}}}))
    status = status_when(sandbox, namespace, "switch", lambda s: s.get("observedGeneration") == 2, "generation 2")
    message = ('changing spec.provider.name from "dynamo" to "llmd" after a provider has been selected is not '
               "supported; delete and recreate the ModelDeployment to use a different provider")
    assert status["phase"] == "Failed" and status["message"] == message
    assert condition(status, "ProviderSelected")["reason"] == "ProviderChangeNotSupported"
    assert status["provider"]["name"] == "dynamo"


def test_paused_deployments_are_left_alone(sandbox, namespace, controller):
    create(sandbox, namespace, md("paused", gpus(1), annotations={"airunway.ai/reconcile-paused": "true"}),
           md("witness", gpus(1)))
    status_when(sandbox, namespace, "witness", selected, "a provider")
    assert "status" not in kget(sandbox, "modeldeployment", "paused", "-n", namespace)


def test_provider_readiness_changes_re_enqueue_waiting_deployments(sandbox, namespace, controller):
    """With kaito (the only CPU provider for llama.cpp) not ready, a CPU deployment cannot be placed; once kaito
    is ready again the controller selects it without any change to the deployment."""
    set_ready(sandbox, "kaito", False)
    try:
        create(sandbox, namespace, md("waiting", {"engine": {"type": "llamacpp"}}))
        status = status_when(sandbox, namespace, "waiting",
                             lambda s: any(c["type"] == "ProviderSelected" for c in s.get("conditions", [])),
                             "a ProviderSelected condition")
        failed = condition(status, "ProviderSelected")
        assert (failed["status"], failed["reason"]) == ("False", "SelectionFailed")
        assert failed["message"] == "no compatible provider found for this configuration"
        assert status["message"] == "Provider selection failed: no compatible provider found for this configuration"
    finally:
        set_ready(sandbox, "kaito", True)
    status = status_when(sandbox, namespace, "waiting", selected, "kaito once it is ready")
    assert status["provider"]["name"] == "kaito"
    assert condition(status, "ProviderSelected")["status"] == "True"


def test_selection_is_sticky_when_providers_change(sandbox, namespace, controller):
    create(sandbox, namespace, md("sticky", gpus(1)))
    first = status_when(sandbox, namespace, "sticky", selected, "a provider")
    set_ready(sandbox, "dynamo", False)
    try:
        sandbox.kubectl("annotate", "modeldeployment", "sticky", "-n", namespace, "touched=1")
        sandbox.kubectl("patch", "modeldeployment", "sticky", "-n", namespace, "--type=merge",
                        "-p", json.dumps({"spec": {"env": [{"name": "A", "value": "1"}]}}))
        status = status_when(sandbox, namespace, "sticky", lambda s: s.get("observedGeneration") == 2, "generation 2")
        assert status["provider"] == first["provider"] and status["engine"] == first["engine"]
    finally:
        set_ready(sandbox, "dynamo", True)


def test_legacy_provider_configs_are_migrated_at_start(sandbox, controller):
    def migrated():
        engines = kget(sandbox, "inferenceproviderconfig", LEGACY)["spec"]["capabilities"]["engines"]
        return engines if isinstance(engines[0], dict) else None

    assert eventually(migrated, timeout=30, what="the legacy config to be migrated") == [
        {"name": "vllm", "gpuSupport": False, "cpuSupport": False},
        {"name": "sglang", "gpuSupport": False, "cpuSupport": False},
    ]
