"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 60, interval: float = 0.25, what: str = "condition") -> T:
    """Call ``check`` until it returns something truthy (returned) or ``timeout`` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


async def until(check: Callable[[], Awaitable[T]], timeout: float = 30, interval: float = 0.1,
                what: str = "condition") -> T:
    """Await ``check()`` until it gives something truthy (returned) or ``timeout`` passes (AssertionError)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {value!r}")
        await asyncio.sleep(interval)


def kget(sandbox, *args: str) -> dict:
    """`kubectl get … -o json` parsed."""
    return json.loads(sandbox.kubectl("get", *args, "-o", "json").stdout)


def kget_or_none(sandbox, kind: str, name: str, namespace: str) -> dict | None:
    """The object, or None when it does not exist."""
    found = sandbox.kubectl("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found").stdout
    return json.loads(found) if found.strip() else None


@contextmanager
def real_namespaces(sandbox, *names: str):
    """The namespaces exist for the block (made here and removed after, unless they were already there)."""
    made = []
    for name in names:
        def settled():
            ns = sandbox.kubectl("get", "namespace", name, "-o", "json", check=False)
            if ns.returncode:
                return "absent"
            return "active" if json.loads(ns.stdout)["status"]["phase"] == "Active" else None

        if eventually(settled, what=f"namespace {name} to finish terminating") == "absent":
            sandbox.kubectl("create", "namespace", name)
            made.append(name)
    try:
        yield
    finally:
        for name in made:
            sandbox.kubectl("delete", "namespace", name, "--wait=false", check=False)


ROOT = Path(__file__).resolve().parent.parent
"""The repository."""
DATA = ROOT / "tests" / "data"
"""Test inputs: ModelDeployments, provider configs, upstream CRDs."""
DEPLOY = ROOT / "deploy"
FIELD_MANAGER = "airunway-test"
"""The field manager of the tests' own writes (the ``client`` fixture)."""


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ControllerProcess:
    """``airunway controller`` (or another ``command``, e.g. ``("provider", "vllm")``) as a child process against
    the sandbox, with its log in a file."""

    def __init__(
        self, sandbox, log_path: Path, *args: str, env: dict[str, str] | None = None,
        command: tuple[str, ...] = ("controller",),
    ) -> None:
        import os
        import subprocess
        import sys

        self.health_port = free_port()
        self.log_path = log_path
        environment = {
            **os.environ,
            "KUBECONFIG": str(sandbox.kubeconfig),
            "ENABLE_WEBHOOKS": "false",
            "POD_NAMESPACE": "airunway-system",
            **(env or {}),
        }
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "airunway.cli", *command, "--metrics-bind-address=0",
             f"--health-probe-bind-address=127.0.0.1:{self.health_port}", "--zap-encoder=console", *args],
            env=environment, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    def probe(self, path: str = "/readyz") -> int | None:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}{path}", timeout=2) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"the controller exited with {self.proc.returncode}:\n{self.log_tail()}")
            return self.probe() == 200

        eventually(ready, timeout=timeout, what="the controller to be ready")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self, timeout: float = 30) -> int:
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> "ControllerProcess":
        """Ready to use: ``with ControllerProcess(...) as proc:`` waits for readiness and stops it afterwards."""
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class DashboardProcess:
    """``airunway dashboard`` as a child process on 127.0.0.1 against the sandbox, with its log in a file;
    ``with DashboardProcess(sandbox, log) as base:`` gives its base URL once ``/api/health`` answers.

    ``env`` is added to this process's environment (less AUTH_ENABLED and PORT); with ``inherit_env=False`` it is
    the whole environment."""

    def __init__(self, sandbox, log_path: Path, *, env: dict[str, str] | None = None, inherit_env: bool = True) -> None:
        import os

        self.sandbox = sandbox
        self.log_path = log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        inherited = {k: v for k, v in os.environ.items() if k not in ("AUTH_ENABLED", "PORT")} if inherit_env else {}
        self.env = {**inherited, **(env or {})}
        self.proc = None

    def start(self, timeout: float = 60) -> str:
        import subprocess
        import sys

        import httpx

        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "airunway.cli", "dashboard", f"--kubeconfig={self.sandbox.kubeconfig}",
             "--host=127.0.0.1", f"--port={self.port}"],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

        def healthy() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"the dashboard exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                return httpx.get(f"{self.base}/api/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(healthy, timeout=timeout, what="the dashboard to answer")
        return self.base

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        if self.proc is not None:
            self._log.close()

    def __enter__(self) -> str:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def etcd_post(sandbox, path: str, body: dict) -> dict:
    """POST to the sandbox etcd's JSON gateway."""
    import urllib.request

    port = sandbox.load_state().ports["etcd"]
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def compact_etcd(sandbox) -> int:
    """Physically compact etcd at its current revision; that revision."""
    import base64

    head = etcd_post(sandbox, "/v3/kv/range", {"key": base64.b64encode(b"/").decode()})
    revision = int(head["header"]["revision"])
    etcd_post(sandbox, "/v3/kv/compaction", {"revision": str(revision), "physical": True})
    return revision


def service_account_kubeconfig(sandbox, account: str, namespace: str, path: Path) -> Path:
    """A kubeconfig for the sandbox that authenticates as ServiceAccount ``namespace/account`` (a fresh token)."""
    import yaml

    token = sandbox.kubectl("create", "token", account, "-n", namespace).stdout.strip()
    kubeconfig = yaml.safe_load(sandbox.kubeconfig.read_text())
    kubeconfig["users"] = [{"name": account, "user": {"token": token}}]
    for context in kubeconfig["contexts"]:
        context["context"]["user"] = account
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


SHIM_NAMESPACE = "airunway-system"


@contextmanager
def shim_namespace(sandbox):
    """The providers' namespace, created for the test when the sandbox has none (and then removed)."""
    def settled():
        out = sandbox.kubectl("get", "namespace", SHIM_NAMESPACE, "-o", "json", check=False)
        if out.returncode:
            return "absent"
        return "active" if json.loads(out.stdout)["status"]["phase"] == "Active" else None

    made = eventually(settled, what=f"namespace {SHIM_NAMESPACE} settled") == "absent"
    if made:
        sandbox.kubectl("create", "namespace", SHIM_NAMESPACE)
    try:
        yield
    finally:
        if made:
            sandbox.kubectl("delete", "namespace", SHIM_NAMESPACE, "--wait=false", check=False)


def check_shim_manifest(sandbox, path: Path, provider: str) -> list[dict]:
    """The shape every deploy/providers/<provider>.yaml shares (ServiceAccount, ClusterRole and binding, hardened
    Deployment running ``airunway provider <provider>``), accepted by a server-side dry run; returns its objects."""
    import yaml

    shim = f"airunway-{provider}-provider"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("InferenceProviderConfig", provider), ("ServiceAccount", shim), ("ClusterRole", f"{shim}-role"),
            ("ClusterRoleBinding", f"{shim}-rolebinding"), ("Deployment", shim)} <= names, names
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == SHIM_NAMESPACE
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "control-plane": f"{provider}-provider", "app.kubernetes.io/name": "airunway"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == shim
    [container] = pod["containers"]
    assert container["image"] == "airunway:0.1.0"
    assert container["command"] + container["args"] == [
        "airunway", "provider", provider, "--leader-elect", "--health-probe-bind-address=:8081"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    with shim_namespace(sandbox):
        out = sandbox.kubectl("apply", "--dry-run=server", "-f", str(path)).stdout
        assert out.count("(server dry run)") == len(docs), out
    return docs


def granted_rules(docs: list[dict]) -> dict[tuple[str, str], set[str]]:
    """The ClusterRole's verbs per (API group, resource)."""
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    return {(g, r): set(rule["verbs"]) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]}


class DashboardAPI:
    """The dashboard app in-process (no socket), with its own Kubernetes client to the sandbox and its lifespan
    running (so its watch cache too): ``async with DashboardAPI(sandbox) as api: await api.get("/api/...")``.
    ``settings``: an ``airunway.server.app.Settings``; ``self.app`` is the app."""

    def __init__(self, sandbox, settings=None) -> None:
        self.sandbox = sandbox
        self.settings = settings

    async def __aenter__(self):
        import httpx

        from airunway.kube.client import Client
        from airunway.server.app import create_app

        self.kube = await Client.connect(self.sandbox.kubeconfig, field_manager="airunway-dashboard")
        self.app = create_app(self.settings, client=self.kube)
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                      base_url="http://dashboard.test", timeout=120)
        return self.http

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()
        await self._lifespan.__aexit__(None, None, None)
        await self.kube.close()


def in_process_api(settings):
    """An HTTP client to the dashboard app in-process, without a cluster (for endpoints that need none):
    ``async with in_process_api(Settings(...)) as api: await api.get("/api/...")``."""
    import httpx

    from airunway.server.app import create_app

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://d.test")


@asynccontextmanager
async def running_provider(client, name: str, options=None):
    """The provider ``name`` in this process (manager, reconciler and registration) on ``client``, with no health or
    metrics listener, stopped gracefully when the block ends."""
    import asyncio

    from airunway.providers.app import ProviderOptions, build_manager

    options = options or ProviderOptions()
    options.health_probe_bind_address = options.metrics_bind_address = "0"
    manager, _ = build_manager(client, name, options)
    task = asyncio.create_task(manager.run(handle_signals=False))
    try:
        yield
    finally:
        manager.stop()
        await asyncio.wait_for(task, 30)
