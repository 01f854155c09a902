#!/usr/bin/env python3
"""Regenerate the Go modules under hack/ from the pins in src/airunway/versions.py.

    python hack/pin.py

Each module requires one pinned tool and lists it with a `tool` directive; the Kubernetes
module also replaces every k8s.io/* staging module with the matching v0.X.Y, as read from
k8s.io/kubernetes's own go.mod. Needs Go and the module proxy; commit go.mod and go.sum.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

HACK = Path(__file__).resolve().parent
sys.path.insert(0, str(HACK.parent / "src"))

from airunway import versions  # noqa: E402


def go(*args: str, cwd: Path) -> str:
    return subprocess.run(["go", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def staging_modules(k8s_version: str) -> list[str]:
    info = json.loads(go("mod", "download", "-json", f"k8s.io/kubernetes@{k8s_version}", cwd=HACK))
    text = Path(info["GoMod"]).read_text()
    return sorted(set(re.findall(r"^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/", text, re.M)))


def staging_version(k8s_version: str) -> str:
    return "v0." + k8s_version.lstrip("v").split(".", 1)[1]


def write_module(name: str, requires: dict[str, str], tools: list[str], replaces: dict[str, str] | None = None) -> None:
    folder = HACK / name
    folder.mkdir(exist_ok=True)
    (folder / "go.mod").write_text(f"module airunway.local/hack/{name}\n\ngo 1.26.0\n")
    (folder / "go.sum").unlink(missing_ok=True)
    for mod, version in (replaces or {}).items():
        go("mod", "edit", f"-replace={mod}={mod}@{version}", cwd=folder)
    for mod, version in requires.items():
        go("mod", "edit", f"-require={mod}@{version}", cwd=folder)
    for tool in tools:
        go("mod", "edit", f"-tool={tool}", cwd=folder)
    go("mod", "tidy", cwd=folder)
    print(f"hack/{name}: {', '.join(f'{m}@{v}' for m, v in requires.items())}")


def expected() -> dict[str, dict]:
    """What each module must pin; also used by the unit test that checks for drift."""
    return {
        "kubernetes": {
            "requires": {"k8s.io/kubernetes": versions.KUBERNETES, "go.etcd.io/etcd/server/v3": versions.ETCD},
            "tools": [
                "k8s.io/kubernetes/cmd/kube-apiserver",
                "k8s.io/kubernetes/cmd/kube-controller-manager",
                "k8s.io/kubernetes/cmd/kube-scheduler",
                "k8s.io/kubernetes/cmd/kubectl",
                "go.etcd.io/etcd/server/v3",
            ],
            "staging_version": staging_version(versions.KUBERNETES),
        },
        "kwok": {"requires": {"sigs.k8s.io/kwok": versions.KWOK}, "tools": ["sigs.k8s.io/kwok/cmd/kwok"]},
        "helm": {"requires": {"helm.sh/helm/v3": versions.HELM}, "tools": ["helm.sh/helm/v3/cmd/helm"]},
        "inference-sim": {
            "requires": {"github.com/llm-d/llm-d-inference-sim": versions.INFERENCE_SIM},
            "tools": ["github.com/llm-d/llm-d-inference-sim/cmd/llm-d-inference-sim"],
        },
    }


def main() -> None:
    for name, spec in expected().items():
        replaces = None
        if "staging_version" in spec:
            replaces = {m: spec["staging_version"] for m in staging_modules(versions.KUBERNETES)}
        write_module(name, spec["requires"], spec["tools"], replaces)


if __name__ == "__main__":
    main()
