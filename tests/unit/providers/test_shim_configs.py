"""Every provider shim manifest carries the InferenceProviderConfig its provider registers, unchanged."""

from __future__ import annotations

import sys

import pytest
import yaml

from support import ROOT

sys.path.insert(0, str(ROOT / "hack"))
import shim_configs  # noqa: E402

from airunway.providers.registry import PROVIDERS  # noqa: E402


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_shim_manifest_holds_the_registered_config(name):
    path = shim_configs.DEPLOY / f"{name}.yaml"
    assert path.exists(), f"{path} is missing"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    configs = [d for d in docs if d.get("kind") == "InferenceProviderConfig"]
    assert configs == [shim_configs.config_document(name)], (
        f"{path.name} is stale: run .venv/bin/python hack/shim_configs.py")


def test_regenerating_changes_nothing_when_current():
    for name in PROVIDERS:
        text = (shim_configs.DEPLOY / f"{name}.yaml").read_text()
        assert shim_configs.with_config(text, name) == text
