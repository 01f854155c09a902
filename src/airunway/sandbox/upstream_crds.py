"""The upstream CRDs our providers and controller write into, for installing into the sandbox.

Real CRDs come from the upstream projects' own Go modules at the versions pinned in
:mod:`airunway.versions`: ``go mod download -json MODULE@VERSION`` puts the module in
the Go module cache (a second call is offline and quick) and tells us where. Projects with no
fetchable module (KAITO, NVIDIA Dynamo) are covered by stand-in CRDs shipped in
``standin_crds/``, each annotated ``airunway.ai/stand-in: "true"``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import yaml

from airunway.versions import UPSTREAM_CRD_MODULES, CRDModule

STAND_IN_ANNOTATION = "airunway.ai/stand-in"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads ~5 MB of CRDs in <1 s


class UpstreamCRDError(RuntimeError):
    """Upstream CRDs could not be obtained; the message says which module and what to do."""


def module_dir(module: str, version: str, go_env: dict[str, str] | None = None) -> Path:
    """Download ``module@version`` into the Go module cache (if needed) and return its folder.

    ``go_env`` is merged over the current environment for the ``go`` command (for example
    ``{"GOMODCACHE": ..., "GOPROXY": "off"}``).
    """
    go = shutil.which("go", path=(go_env or {}).get("PATH") or os.environ.get("PATH"))
    if not go:
        raise UpstreamCRDError(
            "the Go toolchain (`go`) is not on PATH; it is needed to fetch the upstream CRDs "
            f"({module}@{version}). Install Go 1.26 or newer."
        )
    env = {**os.environ, "GOWORK": "off", **(go_env or {})}
    # Run outside any Go module so that no go.mod or go.work nearby changes what is resolved.
    proc = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"],
        cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True,
    )
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError:
        info = {}
    error = info.get("Error") or (proc.stderr.strip() if proc.returncode else "")
    if error or not info.get("Dir"):
        raise UpstreamCRDError(
            f"cannot download {module}@{version}: {error or 'go reported no module folder'}. "
            "Check network access to the Go module proxy (GOPROXY), or pin a version it serves "
            "in src/airunway/versions.py."
        )
    return Path(info["Dir"])


def _crds_in(text: str, source: str) -> list[dict]:
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise UpstreamCRDError(f"{source} is not valid YAML: {exc}") from exc
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]


def module_crd_documents(pin: CRDModule, go_env: dict[str, str] | None = None) -> list[dict]:
    """The CRDs of one pinned module, in file-name order."""
    root = module_dir(pin.module, pin.version, go_env)
    files = sorted({p for pattern in pin.crd_globs for p in root.glob(pattern)})
    crds = [crd for f in files for crd in _crds_in(f.read_text(encoding="utf-8"), str(f))]
    if not crds:
        raise UpstreamCRDError(
            f"{pin.module}@{pin.version} has no CRDs under {', '.join(pin.crd_globs)}: the module "
            "layout changed; update crd_globs in src/airunway/versions.py."
        )
    return crds


def standin_crd_documents() -> list[dict]:
    """Our stand-in CRDs for upstream projects that publish no fetchable Go module."""
    folder = resources.files("airunway.sandbox") / "standin_crds"
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name)
    crds = [crd for e in entries for crd in _crds_in(e.read_text(encoding="utf-8"), e.name)]
    # The files reuse schema pieces through YAML anchors; a JSON round trip unshares them so a
    # caller that edits one CRD cannot change another part by accident.
    return json.loads(json.dumps(crds))


def upstream_crd_documents(go_env: dict[str, str] | None = None) -> list[dict]:
    """Every CRD to install into the sandbox: the pinned upstream modules' CRDs, then the stand-ins."""
    crds = [crd for pin in UPSTREAM_CRD_MODULES for crd in module_crd_documents(pin, go_env)]
    return crds + standin_crd_documents()
