"""The Helm chart in deploy/chart is the one source of AI Runway's install; this writes what derives from it.

1. Each provider's InferenceProviderConfig, ``deploy/chart/files/providers/<name>.yaml``, from
   ``airunway.providers.<name>.config()``: the provider registers the same config when it starts (and keeps it
   current); shipping it lets the core controller select the provider as soon as it is installed.
2. The upstream-shaped plain manifests for ``kubectl apply -f``, rendered from the chart with ``helm template``:
   ``deploy/controller.yaml``, ``deploy/dashboard.yaml``, ``deploy/dashboard-installer-rbac.yaml`` and
   ``deploy/providers/<name>.yaml``.

A unit test fails when any of them drifts.   .venv/bin/python hack/manifests.py   (or: make manifests)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from airunway.api.constants import API_VERSION, INFERENCE_PROVIDER_CONFIG_KIND
from airunway.providers.registry import PROVIDERS
from airunway.sandbox.build import bin_dir

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
CHART = DEPLOY / "chart"
CONFIGS = CHART / "files" / "providers"
NAMESPACE = "airunway-system"
CONFIG_MARKER = "# InferenceProviderConfig generated from airunway.providers.{name}.config() by hack/manifests.py\n"
GENERATED = "# Generated from deploy/chart by hack/manifests.py (make manifests): change the chart, not this file.\n"
# Every optional part off, so that each manifest holds only what its --set turns on.
NOTHING_OPTIONAL = ["dashboard.enabled=false", *(f"providers.{name}.enabled=false" for name in PROVIDERS)]


def config_document(name: str) -> dict:
    config = PROVIDERS[name].config()
    metadata = {"name": config.name, **({"annotations": config.annotations} if config.annotations else {})}
    return {"apiVersion": API_VERSION, "kind": INFERENCE_PROVIDER_CONFIG_KIND, "metadata": metadata,
            "spec": config.spec}


def config_file(name: str) -> str:
    return CONFIG_MARKER.format(name=name) + yaml.safe_dump(config_document(name), sort_keys=False, width=10_000)


def helm_template(sets: list[str], templates: list[str], helm: Path | None = None) -> str:
    """``helm template`` of the chart in namespace airunway-system: only ``templates``, ``# Source:`` lines left out."""
    args = [str(helm or bin_dir() / "helm"), "template", "airunway", str(CHART), "--namespace", NAMESPACE]
    for value in NOTHING_OPTIONAL + sets:
        args += ["--set", value]
    for template in templates:
        args += ["--show-only", f"templates/{template}"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    lines = [line for line in out.splitlines(keepends=True) if not line.startswith("# Source: ")]
    text = "".join(lines)
    return GENERATED + (text[4:] if text.startswith("---\n") else text)


def manifests(helm: Path | None = None) -> dict[Path, str]:
    """Every generated manifest: path → content."""
    out = {
        DEPLOY / "controller.yaml": helm_template(
            ["namespace.create=true"], ["namespace.yaml", "controller-rbac.yaml", "controller.yaml", "webhooks.yaml"],
            helm),
        DEPLOY / "dashboard.yaml": helm_template(["dashboard.enabled=true"], ["dashboard.yaml"], helm),
        DEPLOY / "dashboard-installer-rbac.yaml": helm_template(
            ["dashboard.enabled=true", "dashboard.installerRBAC=true"], ["dashboard-installer-rbac.yaml"], helm),
    }
    for name in PROVIDERS:
        out[DEPLOY / "providers" / f"{name}.yaml"] = helm_template(
            [f"providers.{name}.enabled=true"], [f"provider-{name}.yaml"], helm)
    return out


def main() -> None:
    CONFIGS.mkdir(parents=True, exist_ok=True)
    for name in PROVIDERS:
        path = CONFIGS / f"{name}.yaml"
        path.write_text(config_file(name))
        print(f"wrote {path.relative_to(DEPLOY.parent)}")
    for path, text in manifests().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(DEPLOY.parent)}")


if __name__ == "__main__":
    main()
