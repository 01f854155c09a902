"""The InferenceProviderConfigs in the providers' shim manifests (deploy/providers/<name>.yaml) drive the core
controller's auto-selection to the outcomes of the seed's rule list, as the shipped copies do."""

from __future__ import annotations

import pytest
import yaml

from support import DEPLOY, ControllerProcess
from workload import SELECTION_CASES, condition, create, md, selected, set_ready, status_when

DEPLOY = DEPLOY / "providers"
PROVIDERS = ("dynamo", "kaito", "kuberay", "llmd", "vllm")


def shim_config(name: str) -> dict:
    docs = [d for d in yaml.safe_load_all((DEPLOY / f"{name}.yaml").read_text()) if d]
    found = [d for d in docs if d.get("kind") == "InferenceProviderConfig"]
    assert len(found) == 1, f"deploy/providers/{name}.yaml should hold one InferenceProviderConfig"
    return found[0]


@pytest.fixture(scope="module")
def shim_providers(sandbox):
    for name in PROVIDERS:
        sandbox.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-",
                        input=yaml.safe_dump(shim_config(name)))
        set_ready(sandbox, name, True)
    yield PROVIDERS
    for name in PROVIDERS:
        sandbox.kubectl("delete", "inferenceproviderconfig", name, "--wait=false", check=False)


def test_shim_configs_select_as_the_seed_says(sandbox, namespace, shim_providers, tmp_path):
    controller = ControllerProcess(sandbox, tmp_path / "controller.log")
    try:
        controller.wait_ready()
        create(sandbox, namespace, *(md(name, spec) for name, spec, *_ in SELECTION_CASES))
        for name, _spec, provider, engine, _reason in SELECTION_CASES:
            status = status_when(sandbox, namespace, name, selected, "a provider")
            assert (status["provider"]["name"], status["engine"]["type"]) == (provider, engine), name
            assert condition(status, "ProviderSelected")["reason"] == "AutoSelected"
    finally:
        controller.stop()
