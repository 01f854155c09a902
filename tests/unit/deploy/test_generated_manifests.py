"""What derives from the Helm chart (deploy/chart) is current: the providers' InferenceProviderConfigs in the chart
are the ones they register, and the plain manifests under deploy/ are the chart's rendering (hack/manifests.py)."""

from __future__ import annotations

import sys

import pytest
import yaml

from support import ROOT

sys.path.insert(0, str(ROOT / "hack"))
from airunway.providers.registry import PROVIDERS  # noqa: E402
from airunway.sandbox.build import bin_dir  # noqa: E402

import manifests  # noqa: E402

STALE = "is stale: run make manifests (.venv/bin/python hack/manifests.py)"


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_chart_holds_the_registered_config(name):
    path = manifests.CONFIGS / f"{name}.yaml"
    assert path.read_text() == manifests.config_file(name), f"{path.name} {STALE}"
    assert yaml.safe_load(path.read_text()) == manifests.config_document(name)


def test_the_plain_manifests_are_the_charts_rendering():
    helm = bin_dir() / "helm"
    assert helm.is_file(), f"{helm} is missing: run make setup"
    expected = manifests.manifests(helm)
    assert {p.name for p in expected} >= {"controller.yaml", "dashboard.yaml", *(f"{n}.yaml" for n in PROVIDERS)}
    for path, text in expected.items():
        assert path.exists() and path.read_text() == text, f"{path.relative_to(ROOT)} {STALE}"


@pytest.mark.parametrize("name", PROVIDERS)
def test_each_provider_manifest_carries_its_config(name):
    docs = [d for d in yaml.safe_load_all((manifests.DEPLOY / "providers" / f"{name}.yaml").read_text()) if d]
    assert [d for d in docs if d["kind"] == "InferenceProviderConfig"] == [manifests.config_document(name)]
