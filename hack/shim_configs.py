"""Write each provider's InferenceProviderConfig into its shim manifest, deploy/providers/<name>.yaml.

The provider registers the same config when it starts (and keeps it current); shipping it in the manifest lets
the core controller select the provider as soon as the manifest is applied. The config comes from
``airunway.providers.<name>.config()``; a unit test fails when a manifest's copy drifts.

    .venv/bin/python hack/shim_configs.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

from airunway.api.constants import API_VERSION, INFERENCE_PROVIDER_CONFIG_KIND
from airunway.providers.registry import PROVIDERS

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "providers"
MARKER = "# InferenceProviderConfig generated from airunway.providers.{name}.config() by hack/shim_configs.py"


def config_document(name: str) -> dict:
    config = PROVIDERS[name].config()
    metadata = {"name": config.name, **({"annotations": config.annotations} if config.annotations else {})}
    return {"apiVersion": API_VERSION, "kind": INFERENCE_PROVIDER_CONFIG_KIND, "metadata": metadata,
            "spec": config.spec}


def with_config(text: str, name: str) -> str:
    """The manifest ``text`` with its generated config block replaced (or added after the leading comments)."""
    marker = MARKER.format(name=name)
    lines = text.splitlines(keepends=True)
    head = []
    while lines and lines[0].startswith("#") and not lines[0].startswith(marker):
        head.append(lines.pop(0))
    if lines and lines[0].startswith(marker):
        end = next(i for i, line in enumerate(lines) if line.rstrip() == "---")
        lines = lines[end + 1:]
    block = marker + "\n" + yaml.safe_dump(config_document(name), sort_keys=False, width=10_000) + "---\n"
    return "".join(head) + block + "".join(lines)


def main() -> None:
    for name in PROVIDERS:
        path = DEPLOY / f"{name}.yaml"
        if path.exists():
            path.write_text(with_config(path.read_text(), name))
            print(f"updated {path}")


if __name__ == "__main__":
    main()
