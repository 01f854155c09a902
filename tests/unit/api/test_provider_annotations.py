"""The provider annotation codec (airunway.api.provider_annotations): what the providers write is what the dashboard
reads, byte for byte as in the shim manifests; bad input is left out with a warning, or refused with a clear error."""

from __future__ import annotations

import importlib
import json

import pytest
import yaml

from airunway.api.builtin_providers import BUILT_IN_PROVIDERS
from airunway.api.provider_annotations import (
    AnnotationError,
    DeploymentDefaults,
    HealthCRD,
    HealthHints,
    OperatorPodProbe,
    ProviderAnnotations,
    StatusRule,
    decode,
    encode,
)
from airunway.api.providerconfig import InstallationInfo
from airunway.providers.registry import PROVIDERS

from support import DEPLOY

SHIMS = DEPLOY / "providers"


def manifest_annotations(name: str) -> dict[str, str]:
    config = next(d for d in yaml.safe_load_all((SHIMS / f"{name}.yaml").read_text())
                  if d and d.get("kind") == "InferenceProviderConfig")
    return config["metadata"]["annotations"]


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_shim_manifests_decode_strictly_and_encode_back_to_the_same_text(name):
    annotations = manifest_annotations(name)
    decoded = decode(annotations, strict=True)
    assert decoded.warnings == []
    assert encode(decoded) == annotations
    assert importlib.import_module(f"airunway.providers.{name}").config().annotations == annotations


def test_what_the_dashboard_reads_from_the_shim_manifests():
    kaito = decode(manifest_annotations("kaito"))
    assert (kaito.display_name, kaito.namespace()) == ("KAITO", "kaito-workspace")
    assert kaito.health == BUILT_IN_PROVIDERS["kaito"].upstream_health
    assert kaito.health.crd_names() == ["workspaces.kaito.sh"]
    assert kaito.installation.helm_charts[0].chart == "kaito/workspace"
    assert [e["name"] for e in kaito.capabilities["engines"]] == ["vllm", "llamacpp"]
    assert decode(manifest_annotations("kuberay")).namespace() == "ray-system"
    assert decode(manifest_annotations("dynamo")).installation.helm_charts[0].values == {"global.grove.install": True}
    llmd = decode(manifest_annotations("llmd"))
    assert llmd.health == HealthHints(status=StatusRule(ready_path="ready")) and llmd.namespace() == "default"
    vllm = decode(manifest_annotations("vllm"))  # only the installation and the legacy documentation key
    assert vllm.display_name is None and vllm.health is None and vllm.capabilities is None
    assert vllm.namespace() == "default" and vllm.documentation_link().endswith("/docs/providers/vllm.md")


def test_every_field_round_trips():
    full = ProviderAnnotations(
        display_name="Acme", description="Serves models", default_namespace="acme", documentation_url="https://d",
        documentation="https://d", icon="https://i.png", provider_name="ACME",
        capabilities={"engines": [{"name": "vllm", "servingModes": ["aggregated"]}], "features": {"modelStorage": True}},
        deployment_defaults=DeploymentDefaults(default_engine="vllm", default_mode="aggregated",
                                               default_resources={"gpu": 1}),
        health=HealthHints(crds=["a.example.com", HealthCRD(name="b.example.com", display_name="B")],
                           operator_pods=[OperatorPodProbe(namespace="acme", selectors=["app=acme"])],
                           status=StatusRule(ready_path="status.ready", conditions=["Ready"])),
        installation=InstallationInfo.model_validate({
            "description": "Install Acme", "defaultNamespace": "acme-system",
            "helmRepos": [{"name": "acme", "url": "https://charts"}],
            "helmCharts": [{"name": "acme", "chart": "acme/acme", "namespace": "acme-system", "createNamespace": True,
                            "skipCrds": True, "fetchUrl": "https://f", "preCrdUrls": ["https://c"],
                            "preInstallMissingCrds": True, "values": {"a.b": [1]}}],
            "steps": [{"title": "Install", "command": "helm install", "description": "Run it"}]}),
    )
    encoded = encode(full)
    assert all(isinstance(v, str) for v in encoded.values())
    assert len(encoded) == 11
    assert decode(encoded, strict=True) == full
    assert encode(ProviderAnnotations()) == {}
    assert decode({}) == ProviderAnnotations()


def test_the_json_is_compact_and_only_set_fields_are_written():
    encoded = encode(ProviderAnnotations(health=HealthHints(status=StatusRule(ready_path="ready"))))
    assert encoded == {"airunway.ai/health": '{"status":{"readyPath":"ready"}}'}


def test_bad_values_are_left_out_with_a_warning_naming_the_key():
    decoded = decode({
        "airunway.ai/health": "{not json",
        "airunway.ai/capabilities": "[1, 2]",
        "airunway.ai/deployment-defaults": json.dumps({"defaultEngine": "vllm", "defaultResources": 3}),
        "airunway.ai/installation": json.dumps({"helmRepos": [{"name": "x"}], "helmCharts": "nope",
                                                "steps": [{"title": "t", "description": "d"}, {"title": "t"}]}),
        "airunway.ai/display-name": "Acme",
    })
    assert decoded.display_name == "Acme" and decoded.health is None and decoded.capabilities is None
    assert decoded.deployment_defaults == DeploymentDefaults(default_engine="vllm")
    assert decoded.installation.helm_repos == [] and decoded.installation.helm_charts is None
    assert [s.title for s in decoded.installation.steps] == ["t"]
    warnings = decoded.warnings
    assert any(w.startswith("Invalid JSON in airunway.ai/health: ") for w in warnings)
    assert "airunway.ai/capabilities must be a JSON object" in warnings
    assert "airunway.ai/deployment-defaults.defaultResources must be an object" in warnings
    assert "Ignoring malformed Helm repo in airunway.ai/installation" in warnings
    assert "airunway.ai/installation.helmCharts must be an array" in warnings
    assert "Ignoring malformed installation step in airunway.ai/installation" in warnings


def test_strict_decoding_refuses_bad_input_naming_every_problem():
    with pytest.raises(AnnotationError) as caught:
        decode({"airunway.ai/health": json.dumps({"crds": [{"name": "a.b", "displayName": 5}, 7],
                                                  "operatorPods": [{"namespace": "x"}]}),
                "airunway.ai/installation": "null"}, strict=True)
    message = str(caught.value)
    assert message.startswith("invalid provider annotations: ")
    assert "Ignoring malformed displayName of CRD a.b in airunway.ai/health.crds" in message
    assert "Ignoring malformed CRD in airunway.ai/health.crds" in message
    assert "Ignoring operator pod probe without selectors in airunway.ai/health.operatorPods" in message
    assert "airunway.ai/installation must be a JSON object" in message
    assert len(caught.value.problems) == 4
    # forgiving decoding keeps what is usable
    health = decode({"airunway.ai/health": json.dumps({"crds": [{"name": "a.b", "displayName": 5}]})}).health
    assert health.crds == [HealthCRD(name="a.b")]


def test_legacy_operator_selectors_become_pod_probes():
    health = decode({"airunway.ai/health": json.dumps({"operator": {
        "namespace": "ops", "podSelectors": ["a=1"], "fallbackPodSelectors": ["b=2", "a=1"],
        "crossNamespacePodSelectors": ["c=3"]}})}).health
    assert health.operator_pods == [OperatorPodProbe(namespace="ops", selectors=["a=1", "b=2"]),
                                    OperatorPodProbe(selectors=["c=3"])]


def test_the_namespace_falls_back_to_the_installation_then_default():
    assert decode({"airunway.ai/installation": json.dumps({"defaultNamespace": "from-install"})}).namespace() \
        == "from-install"
    assert decode({"airunway.ai/default-namespace": "mine",
                   "airunway.ai/installation": json.dumps({"defaultNamespace": "from-install"})}).namespace() == "mine"
    assert decode({"airunway.ai/default-namespace": "  "}).namespace() == "default"


def test_display_names_and_the_legacy_spellings():
    decoded = decode({"airunway.io/provider-name": "Old", "airunway.io/display-name": "Older"})
    assert (decoded.provider_name, decoded.display_name) == ("Old", "Older")


def _rendered(provider: str, storage: bool) -> str:
    """What ``provider`` renders for a one-GPU vLLM deployment, with or without a storage volume, as JSON text."""
    from airunway.api.modeldeployment import ModelDeployment

    model = {"id": "org/model"} | ({"storage": {"volumes": [{"name": "cache", "claimName": "shared-claim",
                                                             "mountPath": "/model-cache"}]}} if storage else {})
    spec = {"model": model, "engine": {"type": "vllm"}, "provider": {"name": provider},
            "resources": {"gpu": {"count": 1}}}
    raw = {"apiVersion": "airunway.ai/v1alpha1", "kind": "ModelDeployment",
           "metadata": {"name": "llm", "namespace": "ns", "uid": "uid-1"}, "spec": spec}
    md = ModelDeployment.model_validate(raw)
    if provider == "kuberay":
        from airunway.providers.kuberay.transform import rayservice

        return json.dumps(rayservice(md))
    transform = importlib.import_module(f"airunway.providers.{provider}.transform").transform
    return json.dumps(transform(md))


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_table_says_which_providers_mount_storage_volumes_as_they_do(name):
    """The deploy form offers storage volumes for the providers whose workloads mount them."""
    mounted = "shared-claim" in _rendered(name, storage=True)
    assert mounted is BUILT_IN_PROVIDERS[name].model_storage
    assert "shared-claim" not in _rendered(name, storage=False)
