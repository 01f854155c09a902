"""Build the control-plane binaries from the pinned Go modules under ``hack/``.

The binaries land in ``<cache>/bin/<key>/`` where the key hashes the Go modules
(go.mod + go.sum), the Go toolchain version and this file's build recipe, so a
second build with the same pins is a no-op and a pin change builds afresh.
Go's own module and build caches make a rebuild after a small change quick.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from airunway import versions

# Bump when the recipe below changes in a way that alters the output.
_RECIPE = "2"


class BuildError(RuntimeError):
    """A binary could not be built; the message says which and why."""


@dataclass(frozen=True)
class Tool:
    """One binary: which Go module folder under hack/ builds it, from which package."""

    name: str
    module_dir: str
    package: str
    ldflags: tuple[str, ...] = ()


def _k8s_ldflags() -> tuple[str, ...]:
    major, minor = versions.KUBERNETES.lstrip("v").split(".")[:2]
    flags = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={versions.KUBERNETES}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    return tuple(flags)


TOOLS: tuple[Tool, ...] = (
    Tool("kube-apiserver", "kubernetes", "k8s.io/kubernetes/cmd/kube-apiserver", _k8s_ldflags()),
    Tool("kube-controller-manager", "kubernetes", "k8s.io/kubernetes/cmd/kube-controller-manager", _k8s_ldflags()),
    Tool("kube-scheduler", "kubernetes", "k8s.io/kubernetes/cmd/kube-scheduler", _k8s_ldflags()),
    Tool("kubectl", "kubernetes", "k8s.io/kubernetes/cmd/kubectl", _k8s_ldflags()),
    Tool("etcd", "kubernetes", "go.etcd.io/etcd/server/v3"),
    Tool("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok", (f"-X sigs.k8s.io/kwok/pkg/consts.Version={versions.KWOK.lstrip('v')}",)),
    Tool("helm", "helm", "helm.sh/helm/v3/cmd/helm", (f"-X helm.sh/helm/v3/internal/version.version={versions.HELM}",)),
    Tool("llm-d-inference-sim", "inference-sim", "github.com/llm-d/llm-d-inference-sim/cmd/llm-d-inference-sim"),
)

# kwok needs "stages" that tell it how simulated nodes and pods progress; we take the same
# defaults kwokctl uses from the pinned kwok module itself.
KWOK_STAGE_FILES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)
KWOK_STAGES = "kwok-stages.yaml"


def hack_dir() -> Path:
    """The Go modules: the repository's ``hack/``, or the copy packaged into a wheel."""
    repo = Path(__file__).resolve().parents[3] / "hack"
    if (repo / "kubernetes" / "go.mod").is_file():
        return repo
    packaged = Path(__file__).resolve().parent.parent / "_hack"
    if (packaged / "kubernetes" / "go.mod").is_file():
        return packaged
    raise BuildError("cannot find the Go modules (hack/kubernetes/go.mod); run from a checkout of the project")


def cache_root() -> Path:
    """Where built binaries live: $AIRUNWAY_CACHE_DIR, else $XDG_CACHE_HOME/airunway, else ~/.cache/airunway."""
    env = os.environ.get("AIRUNWAY_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "airunway"


def _go() -> str:
    go = shutil.which("go")
    if not go:
        raise BuildError("the Go toolchain (`go`) is not on PATH; install Go 1.26 or newer to build the sandbox")
    return go


def _go_version(go: str) -> str:
    return subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()


def build_key() -> str:
    """A short hash of everything that decides the binaries' bytes."""
    h = hashlib.sha256()
    h.update(_RECIPE.encode())
    h.update(_go_version(_go()).encode())
    root = hack_dir()
    for tool in TOOLS:
        h.update(json.dumps([tool.name, tool.module_dir, tool.package, tool.ldflags]).encode())
    for sub in sorted({t.module_dir for t in TOOLS}):
        for fname in ("go.mod", "go.sum"):
            h.update((root / sub / fname).read_bytes())
    return h.hexdigest()[:16]


def bin_dir() -> Path:
    return cache_root() / "bin" / build_key()


def binaries_ready(path: Path | None = None) -> bool:
    path = path or bin_dir()
    return all((path / t.name).is_file() for t in TOOLS) and (path / KWOK_STAGES).is_file()


def _module_dir(go: str, cwd: Path, module: str) -> Path:
    out = subprocess.run(
        [go, "list", "-m", "-json", module], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout
    return Path(json.loads(out)["Dir"])


def ensure_binaries(progress: Callable[[str], None] = print) -> Path:
    """Build any missing binary; return the folder that holds them all.

    Idempotent: with everything present it returns at once.
    """
    target = bin_dir()
    if binaries_ready(target):
        return target
    go = _go()
    root = hack_dir()
    target.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOFLAGS="-buildvcs=false")
    missing = [t for t in TOOLS if not (target / t.name).is_file()]
    if missing:
        progress(
            f"Building {', '.join(t.name for t in missing)} from the pinned Go modules "
            f"(Kubernetes {versions.KUBERNETES}); a first build takes 15-30 minutes on 2 cores, later ones reuse the cache."
        )
    for i, tool in enumerate(missing, 1):
        started = time.monotonic()
        progress(f"[{i}/{len(missing)}] building {tool.name} …")
        tmp = target / f".{tool.name}.tmp"
        cmd = [go, "build", "-trimpath", "-ldflags", " ".join(("-s", "-w") + tool.ldflags), "-o", str(tmp), tool.package]
        proc = subprocess.run(cmd, cwd=root / tool.module_dir, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BuildError(f"building {tool.name} failed:\n{proc.stderr.strip()[-4000:]}")
        tmp.replace(target / tool.name)
        progress(f"[{i}/{len(missing)}] built {tool.name} in {time.monotonic() - started:.0f}s")
    if not (target / KWOK_STAGES).is_file():
        kwok_src = _module_dir(go, root / "kwok", "sigs.k8s.io/kwok")
        docs = [(kwok_src / f).read_text().strip() for f in KWOK_STAGE_FILES]
        (target / KWOK_STAGES).write_text("\n---\n".join(docs) + "\n")
    return target
