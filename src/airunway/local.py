"""Everything AI Runway needs on one machine, for ``airunway local`` (``make run``): the local sandbox cluster, the
core controller and the five provider controllers as child processes.

Only this module starts the sandbox for the product, and only when asked: ``airunway dashboard`` never does.

The children log to ``<state dir>/logs/<name>.log``; they are stopped (SIGTERM, then SIGKILL) when the stack
stops. The sandbox keeps running afterwards (``airunway sandbox down`` stops it), so the next start is quick.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from airunway.providers.registry import PROVIDERS
from airunway.sandbox.cluster import Sandbox, default_state_dir


def configured_cluster() -> str | None:
    """Where the kubeconfig comes from when a cluster is configured (in-cluster, $KUBECONFIG, ~/.kube/config);
    None when there is none."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return "in-cluster service account"
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if any(Path(p).expanduser().is_file() for p in paths):
        return os.environ["KUBECONFIG"]
    default = Path("~/.kube/config").expanduser()
    return str(default) if not paths and default.is_file() else None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent process dies, however it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def available_providers() -> tuple[str, ...]:
    """The providers this installation has a controller for."""
    return tuple(PROVIDERS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    health_port: int
    log_path: Path

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/readyz", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False


@dataclass
class LocalStack:
    """The processes started for a local run; :meth:`stop` ends them."""

    kubeconfig: Path
    sandbox: Sandbox | None = None
    children: list[Child] = field(default_factory=list)

    def stop(self, grace: float = 15) -> None:
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()

    def exited(self) -> list[Child]:
        return [c for c in self.children if c.proc.poll() is not None]


def start(
    progress: Callable[[str], None] = print,
    *,
    kubeconfig: Path | None = None,
    providers: tuple[str, ...] | None = None,
    state_dir: Path | None = None,
    ready_timeout: float = 60,
) -> LocalStack:
    """Start the controllers on the cluster of ``kubeconfig``, or, without one, on the local sandbox (started when it
    is not running); return once they are ready. $KUBECONFIG is not consulted: the caller says which cluster."""
    providers = available_providers() if providers is None else providers
    env = dict(os.environ)
    sandbox = None
    if kubeconfig is None:
        sandbox = Sandbox(state_dir or default_state_dir())
        sandbox.up(progress=progress)
        kubeconfig = sandbox.kubeconfig
        logs = sandbox.dir / "logs"
    else:
        progress(f"Using the cluster of {kubeconfig}.")
        logs = (state_dir or default_state_dir()) / "logs"
    env["KUBECONFIG"] = str(kubeconfig)
    logs.mkdir(parents=True, exist_ok=True)
    # Webhooks need a certificate the API server trusts; locally the controller runs without them.
    env["ENABLE_WEBHOOKS"] = "false"
    stack = LocalStack(Path(kubeconfig), sandbox)
    commands = [("controller", ["controller"])] + [(f"provider-{p}", ["provider", p]) for p in providers]
    try:
        for name, args in commands:
            port = _free_port()
            log_path = logs / f"{name}.log"
            log = open(log_path, "ab")
            proc = subprocess.Popen(
                [sys.executable, "-m", "airunway.cli", *args, f"--health-probe-bind-address=127.0.0.1:{port}",
                 "--metrics-bind-address=0", "--zap-encoder=console"],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            log.close()
            stack.children.append(Child(name, proc, port, log_path))
        progress(f"Starting the core controller and {len(providers)} provider controllers (logs in {logs})…")
        deadline = time.monotonic() + ready_timeout
        waiting = list(stack.children)
        while waiting:
            if dead := stack.exited():
                raise RuntimeError(f"{dead[0].name} exited with {dead[0].proc.returncode}; see {dead[0].log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{waiting[0].name} did not become ready; see {waiting[0].log_path}")
            waiting = [c for c in waiting if not c.ready()]
            time.sleep(0.2)
    except BaseException:
        stack.stop()
        raise
    return stack
