"""A small Helm chart (an operator Deployment and a CRD) and the InferenceProviderConfig that installs it from a chart
repository, for the installation tests; the repository itself is the ``chart_repo`` fixture
(tests/integration/server/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

CRD_NAME = "widgets.demo.airunway.test"
CHART = "demo-operator"


def make_chart(folder: Path) -> Path:
    """A small chart: an operator Deployment, and a CRD in crds/."""
    chart = folder / CHART
    (chart / "templates").mkdir(parents=True)
    (chart / "crds").mkdir()
    (chart / "Chart.yaml").write_text(yaml.safe_dump(
        {"apiVersion": "v2", "name": CHART, "version": "0.1.0", "appVersion": "0.1.0"}))
    (chart / "values.yaml").write_text(yaml.safe_dump({"replicaCount": 1, "logLevel": "info"}))
    labels = {"app.kubernetes.io/name": CHART}
    (chart / "templates" / "deployment.yaml").write_text(
        yaml.safe_dump({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "{{ .Release.Name }}", "labels": labels},
            "spec": {"replicas": "REPLICAS", "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "operator", "image": "demo/operator:0.1.0",
                                         "args": ["--log-level=LOGLEVEL"]}]}}},
        }).replace("REPLICAS", "{{ .Values.replicaCount }}").replace("LOGLEVEL", "{{ .Values.logLevel }}"))
    (chart / "crds" / "widgets.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {"group": "demo.airunway.test", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    }))
    return chart


def provider_config(name: str, repo: str, namespace: str, **chart) -> dict:
    installation = {
        "description": "A demo operator", "defaultNamespace": namespace,
        "helmRepos": [{"name": "demo", "url": repo}],
        "helmCharts": [{"name": CHART, "chart": f"demo/{CHART}", "version": "0.1.0", "namespace": namespace,
                        "createNamespace": True, "values": {"logLevel": "debug"}, **chart}],
    }
    health = {"crds": [{"name": CRD_NAME, "displayName": "Demo widget CRD"}],
              "operatorPods": [{"namespace": namespace, "selectors": [f"app.kubernetes.io/name={CHART}"]}]}
    return {
        "apiVersion": "airunway.ai/v1alpha1", "kind": "InferenceProviderConfig",
        "metadata": {"name": name, "annotations": {
            "airunway.ai/display-name": "Demo", "airunway.ai/installation": json.dumps(installation),
            "airunway.ai/health": json.dumps(health)}},
        "spec": {"capabilities": {"engines": [
            {"name": "vllm", "servingModes": ["aggregated"], "gpuSupport": True, "requiresCRD": True}]}},
    }
