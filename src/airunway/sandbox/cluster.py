"""The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
run as processes on 127.0.0.1, with simulated nodes (some advertising ``nvidia.com/gpu``).

Everything lives in one state folder: certificates, kubeconfigs, etcd data, logs, and
``state.json`` (ports and process ids). The processes run in their own sessions, so the
sandbox outlives the command that started it until :meth:`Sandbox.down` stops it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import yaml

from airunway.sandbox import build
from airunway.sandbox import pki as pki_mod

# Start order; stopped in reverse.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")

GPU_PRODUCT = "NVIDIA-A100-SXM4-80GB"
GPU_MEMORY_MIB = "81920"
GPU_INSTANCE_TYPE = "Standard_NC96ads_A100_v4"
CPU_INSTANCE_TYPE = "Standard_D16s_v5"
REGION = "sandbox"


HEALTH_TIMEOUT = 2.0  # seconds a component has to answer its health endpoint


class SandboxError(RuntimeError):
    """The sandbox could not start or is not in the state asked for; the message says what to do."""


@dataclass
class NodeLayout:
    gpu_nodes: int = 2
    gpus_per_node: int = 4
    cpu_nodes: int = 1

    def validate(self) -> None:
        for name in ("gpu_nodes", "gpus_per_node", "cpu_nodes"):
            if getattr(self, name) < 0:
                raise SandboxError(f"--{name.replace('_', '-')} must be 0 or more")
        if self.gpu_nodes + self.cpu_nodes == 0:
            raise SandboxError("the sandbox needs at least one node: set --gpu-nodes or --cpu-nodes above 0")


@dataclass
class State:
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)
    bin_dir: str = ""
    started_at: float = 0.0


@dataclass(frozen=True)
class ComponentHealth:
    """One component as ``airunway sandbox status`` shows it."""

    pid: int | None
    answering: bool | None
    """Whether its health endpoint answered ok; None when not asked (stopped, or no endpoint known)."""
    detail: str = ""

    @property
    def state(self) -> str:
        if self.pid is None:
            return "stopped"
        return "not answering" if self.answering is False else "running"

    @property
    def healthy(self) -> bool:
        return self.pid is not None and self.answering is not False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    """A process's command line; waits briefly for one that has just been started to show it."""
    deadline = time.monotonic() + 1
    while True:
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return ""
        if raw or time.monotonic() > deadline:
            return raw.replace(b"\0", b" ").decode(errors="replace")
        time.sleep(0.02)


def node_manifests(layout: NodeLayout) -> list[dict]:
    """The simulated nodes, as Node objects kwok will manage (annotation ``kwok.x-k8s.io/node: fake``)."""

    def node(name: str, pool: str, instance_type: str, extra_labels: dict, extra_resources: dict) -> dict:
        resources = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti", **extra_resources}
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "type": "kwok",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "agentpool": pool,
                    "node.kubernetes.io/instance-type": instance_type,
                    "topology.kubernetes.io/region": REGION,
                    **extra_labels,
                },
            },
            "spec": {},
            "status": {
                "allocatable": resources,
                "capacity": resources,
                "nodeInfo": {
                    "architecture": "amd64",
                    "operatingSystem": "linux",
                    "kubeletVersion": "fake",
                    "kubeProxyVersion": "fake",
                    "containerRuntimeVersion": "kwok",
                    "osImage": "kwok",
                    "kernelVersion": "kwok",
                    "bootID": "",
                    "machineID": "",
                    "systemUUID": "",
                },
                "phase": "Running",
            },
        }

    nodes = []
    for i in range(1, layout.gpu_nodes + 1):
        nodes.append(
            node(
                f"gpu-node-{i}",
                "gpupool",
                GPU_INSTANCE_TYPE,
                {
                    "nvidia.com/gpu.present": "true",
                    "nvidia.com/gpu.product": GPU_PRODUCT,
                    "nvidia.com/gpu.memory": GPU_MEMORY_MIB,
                    "nvidia.com/gpu.count": str(layout.gpus_per_node),
                },
                {"nvidia.com/gpu": str(layout.gpus_per_node)},
            )
        )
    for i in range(1, layout.cpu_nodes + 1):
        nodes.append(node(f"cpu-node-{i}", "cpupool", CPU_INSTANCE_TYPE, {}, {}))
    return nodes


# In the container runtime's log format (time, stream, F for a full line, text), as kwok reads it.
SIMULATED_LOG = """{time} stdout F INFO kwok: this container is simulated; no process runs on this node
{time} stdout F INFO kwok: the pod was scheduled to a simulated node and marked Running with its containers ready
{time} stdout F INFO kwok: real model servers write their startup and request logs here
"""


def container_logs_config(folder: Path) -> str:
    """kwok's ClusterLogs: every container of every pod on a simulated node shows the same short log."""
    log = folder / "simulated-container.log"
    log.write_text(SIMULATED_LOG.format(time=time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())))
    return yaml.safe_dump({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs",
                           "metadata": {"name": "simulated-containers"},
                           "spec": {"logs": [{"containers": [], "logsFile": str(log), "follow": False}]}})


def _kubeconfig(server: str, ca: Path, cert: Path, key: Path, user: str) -> dict:
    """A self-contained kubeconfig (certificates embedded) for one identity."""

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "airunway-sandbox", "cluster": {"server": server, "certificate-authority-data": b64(ca)}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)}}],
        "contexts": [{"name": "airunway-sandbox", "context": {"cluster": "airunway-sandbox", "user": user}}],
        "current-context": "airunway-sandbox",
    }


class Sandbox:
    """One local control plane in one state folder."""

    def __init__(self, state_dir: Path):
        self.dir = Path(state_dir)
        self.pki = pki_mod.PKI(self.dir / "pki")
        self.logs = self.dir / "logs"

    # -- paths and state -------------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def _state_file(self) -> Path:
        return self.dir / "state.json"

    def load_state(self) -> State:
        try:
            return State(**json.loads(self._state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return State()

    def _save_state(self, state: State) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.replace(self._state_file)

    def _running_pid(self, state: State, component: str) -> int | None:
        """The pid of a component we started, if it still runs (guards against pid reuse)."""
        pid = state.pids.get(component)
        if pid and _alive(pid) and component in _cmdline(pid) and str(self.dir) in _cmdline(pid):
            return pid
        return None

    def status(self) -> dict[str, int | None]:
        state = self.load_state()
        return {c: self._running_pid(state, c) for c in COMPONENTS}

    def is_running(self) -> bool:
        return all(self.status().values())

    def health_endpoints(self, state: State | None = None) -> dict[str, str]:
        """Each component's health URL (components started without one, by an older version, are left out)."""
        ports = (state or self.load_state()).ports
        urls = {"etcd": f"http://127.0.0.1:{ports['etcd']}/health" if "etcd" in ports else "",
                "kube-apiserver": f"https://127.0.0.1:{ports['apiserver']}/livez" if "apiserver" in ports else "",
                "kwok": f"http://127.0.0.1:{ports['kwok']}/healthz" if "kwok" in ports else ""}
        for component in ("kube-controller-manager", "kube-scheduler"):
            if component in ports:
                urls[component] = f"https://127.0.0.1:{ports[component]}/healthz"
        return {component: url for component, url in urls.items() if url}

    def _ask(self, component: str, url: str, timeout: float) -> tuple[bool, str]:
        """Whether ``url`` answers ok within ``timeout`` seconds, and what it said."""
        context = None
        if url.startswith("https:"):
            context = ssl.create_default_context(cafile=str(self.pki.ca))
            if component == "kube-apiserver":
                context.load_cert_chain(str(self.pki.cert("admin")), str(self.pki.key("admin")))
        try:
            with urllib.request.urlopen(url, context=context, timeout=timeout) as answer:
                body = answer.read(200).decode(errors="replace").strip()
        except urllib.error.HTTPError as exc:
            return False, f"{url}: HTTP {exc.code}"
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, (TimeoutError, socket.timeout)) or "timed out" in str(reason):
                return False, f"{url}: no answer within {timeout:g} s"
            return False, f"{url}: {reason}"
        ok = '"health":"true"' in body.replace(" ", "") if component == "etcd" else body == "ok"
        return ok, f"{url}: {'ok' if ok else body}"

    def health(self, timeout: float = HEALTH_TIMEOUT) -> dict[str, ComponentHealth]:
        """Each component's process and whether its health endpoint answers (asked in parallel)."""
        state = self.load_state()
        pids = {component: self._running_pid(state, component) for component in COMPONENTS}
        endpoints = self.health_endpoints(state)
        asked = [c for c in COMPONENTS if pids[c] and c in endpoints]
        with ThreadPoolExecutor(max_workers=len(COMPONENTS)) as pool:
            answers = dict(zip(asked, pool.map(lambda c: self._ask(c, endpoints[c], timeout), asked)))
        out = {}
        for component in COMPONENTS:
            if component in answers:
                out[component] = ComponentHealth(pids[component], *answers[component])
            elif pids[component]:
                out[component] = ComponentHealth(pids[component], None, "no health endpoint (started without one)")
            else:
                out[component] = ComponentHealth(None, None)
        return out

    @property
    def bin_dir(self) -> Path:
        return Path(self.load_state().bin_dir)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the matching kubectl against this sandbox."""
        proc = subprocess.run(
            [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise SandboxError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def apply(self, docs: Iterable[dict], server_side: bool = True) -> None:
        text = yaml.safe_dump_all(list(docs), sort_keys=False)
        args = ["apply", "-f", "-"] + (["--server-side", "--force-conflicts", "--field-manager=airunway-sandbox"] if server_side else [])
        self.kubectl(*args, input=text)

    # -- start -----------------------------------------------------------------------------

    def up(
        self,
        layout: NodeLayout | None = None,
        bin_dir: Path | None = None,
        progress: Callable[[str], None] = print,
        crds: Callable[[], list[dict]] | None = None,
        timeout: float = 120,
        apiserver_args: Sequence[str] = (),
    ) -> State:
        """Start everything, install CRDs and create nodes; return the state.

        ``apiserver_args`` are added to kube-apiserver's flags (e.g. ``--watch-cache=false`` to make watches read
        etcd directly, so that a compaction really expires them).

        A sandbox that is already fully running is left as it is. Leftovers of one that
        stopped (or crashed) are stopped and wiped first: each ``up`` starts clean.
        """
        layout = layout or NodeLayout()
        layout.validate()
        if self.is_running():
            progress(f"The sandbox in {self.dir} is already running.")
            return self.load_state()
        self.down(quiet=True)
        bin_dir = bin_dir or build.ensure_binaries(progress)
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.logs.mkdir()
        state = State(
            ports={"etcd": _free_port(), "etcd-peer": _free_port(), "apiserver": _free_port(), "kwok": _free_port(),
                   "kube-controller-manager": _free_port(), "kube-scheduler": _free_port()},
            nodes=asdict(layout),
            bin_dir=str(bin_dir),
            started_at=time.time(),
        )
        self._save_state(state)
        try:
            self._start(state, layout, progress, crds, timeout, list(apiserver_args))
        except BaseException:
            self.down(quiet=True)
            raise
        return state

    def _spawn(self, state: State, component: str, args: list[str]) -> None:
        log = open(self.logs / f"{component}.log", "ab")
        try:
            proc = subprocess.Popen(
                [str(Path(state.bin_dir) / component), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.dir,
            )
        finally:
            log.close()
        state.pids[component] = proc.pid
        self._save_state(state)

    def _log_tail(self, component: str, lines: int = 15) -> str:
        try:
            return "\n".join((self.logs / f"{component}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _wait(self, what: str, check: Callable[[], bool], state: State, component: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(state.pids[component]):
                raise SandboxError(f"{component} exited during start-up; last log lines:\n{self._log_tail(component)}")
            if check():
                return
            time.sleep(0.2)
        raise SandboxError(f"timed out after {timeout:.0f}s waiting for {what}; see {self.logs}/{component}.log:\n{self._log_tail(component)}")

    def _apiserver_ready(self, state: State) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca))
        ctx.load_cert_chain(str(self.pki.cert("admin")), str(self.pki.key("admin")))
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{state.ports['apiserver']}/readyz", context=ctx, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def _start(self, state, layout, progress, crds, timeout, apiserver_args) -> None:
        d, p, ports = self.dir, self.pki, state.ports
        progress("Creating certificates…")
        pki_mod.create_pki(p.root)

        progress("Starting etcd…")
        etcd_url = f"http://127.0.0.1:{ports['etcd']}"
        peer_url = f"http://127.0.0.1:{ports['etcd-peer']}"
        self._spawn(state, "etcd", [
            "--name=sandbox", f"--data-dir={d / 'etcd'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=sandbox={peer_url}", "--unsafe-no-fsync", "--log-level=warn",
        ])

        def etcd_ok() -> bool:
            try:
                with urllib.request.urlopen(f"{etcd_url}/health", timeout=2) as r:
                    return b'"true"' in r.read()
            except OSError:
                return False

        self._wait("etcd", etcd_ok, state, "etcd", timeout)

        progress("Starting kube-apiserver…")
        server = f"https://127.0.0.1:{ports['apiserver']}"
        self._spawn(state, "kube-apiserver", [
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={ports['apiserver']}",
            f"--cert-dir={p.root}", f"--tls-cert-file={p.cert('apiserver')}", f"--tls-private-key-file={p.key('apiserver')}",
            f"--client-ca-file={p.ca}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={p.sa_public}", f"--service-account-signing-key-file={p.sa_private}",
            f"--service-cluster-ip-range={pki_mod.SERVICE_CIDR}",
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--kubelet-preferred-address-types=InternalIP",
            *apiserver_args,
        ])
        self._wait("kube-apiserver /readyz", lambda: self._apiserver_ready(state), state, "kube-apiserver", timeout)

        for stem, user in (("admin", "airunway-admin"), ("controller-manager", "system:kube-controller-manager"), ("scheduler", "system:kube-scheduler")):
            cfg = _kubeconfig(server, p.ca, p.cert(stem), p.key(stem), user)
            path = self.kubeconfig if stem == "admin" else d / f"{stem}.kubeconfig"
            path.write_text(yaml.safe_dump(cfg, sort_keys=False))
            path.chmod(0o600)

        progress("Starting kube-controller-manager, kube-scheduler and kwok…")
        cm_kc = d / "controller-manager.kubeconfig"
        self._spawn(state, "kube-controller-manager", [
            f"--kubeconfig={cm_kc}", f"--authentication-kubeconfig={cm_kc}", f"--authorization-kubeconfig={cm_kc}",
            "--bind-address=127.0.0.1", f"--secure-port={ports['kube-controller-manager']}",
            f"--tls-cert-file={p.cert('components')}", f"--tls-private-key-file={p.key('components')}",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={p.sa_private}", f"--root-ca-file={p.ca}",
            f"--cluster-signing-cert-file={p.ca}", f"--cluster-signing-key-file={p.key('ca')}",
            "--concurrent-gc-syncs=5", "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
        ])
        sch_kc = d / "scheduler.kubeconfig"
        self._spawn(state, "kube-scheduler", [
            f"--kubeconfig={sch_kc}", f"--authentication-kubeconfig={sch_kc}", f"--authorization-kubeconfig={sch_kc}",
            "--bind-address=127.0.0.1", f"--secure-port={ports['kube-scheduler']}",
            f"--tls-cert-file={p.cert('components')}", f"--tls-private-key-file={p.key('components')}",
            "--leader-elect=false",
        ])
        # kwok also answers for the nodes' kubelets on its server port (node address 127.0.0.1), so `kubectl logs`
        # and the dashboard's logs read a simulated container's log (see container_logs_config).
        logs_config = d / "kwok-logs.yaml"
        logs_config.write_text(container_logs_config(d))
        self._spawn(state, "kwok", [
            f"--kubeconfig={self.kubeconfig}", f"--config={Path(state.bin_dir) / build.KWOK_STAGES}",
            f"--config={logs_config}",
            "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom",
            f"--server-address=127.0.0.1:{ports['kwok']}",
            "--cidr=10.0.1.0/24", "--node-ip=127.0.0.1", f"--node-port={ports['kwok']}",
            "--node-lease-duration-seconds=40",
        ])

        progress("Installing CRDs…")
        docs = crds() if crds else default_crds()
        if docs:
            self.apply(docs)
            names = [f"crd/{d['metadata']['name']}" for d in docs if d.get("kind") == "CustomResourceDefinition"]

            def established() -> bool:
                # `kubectl wait` errors out (rather than waits) on a CRD that has no status yet.
                return self.kubectl("wait", "--for=condition=Established", *names, "--timeout=10s", check=False, timeout=30).returncode == 0

            self._wait("the CRDs to be Established", established, state, "kube-apiserver", timeout)

        progress(f"Creating {layout.gpu_nodes} GPU node(s) with {layout.gpus_per_node} nvidia.com/gpu each and {layout.cpu_nodes} CPU node(s)…")
        self.apply(node_manifests(layout), server_side=False)
        if layout.gpu_nodes + layout.cpu_nodes:
            self.kubectl("wait", "--for=condition=Ready", "node", "--all", f"--timeout={int(timeout)}s", timeout=timeout + 10)

        def default_sa() -> bool:
            return self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode == 0

        self._wait("the default ServiceAccount", default_sa, state, "kube-controller-manager", timeout)
        progress("The sandbox is ready.")

    # -- stop ------------------------------------------------------------------------------

    def down(self, quiet: bool = False, grace: float = 10) -> list[str]:
        """Stop every process this sandbox started (SIGTERM, then SIGKILL); return what was stopped."""
        state = self.load_state()
        stopped = []
        for component in reversed(COMPONENTS):
            pid = self._running_pid(state, component)
            if pid is None:
                continue
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + grace
            while _alive(pid) and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.1)
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                while _alive(pid):
                    _reap(pid)
                    time.sleep(0.05)
            _reap(pid)
            stopped.append(component)
        if state.pids:
            state.pids = {}
            self._save_state(state)
        return stopped


def _reap(pid: int) -> None:
    """Collect a child's exit status so it does not linger as a zombie (no-op for non-children)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def default_crds() -> list[dict]:
    """Our CRDs plus the upstream targets' CRDs."""
    from airunway.api.crds import crd_documents
    from airunway.sandbox.upstream_crds import upstream_crd_documents

    return list(crd_documents()) + list(upstream_crd_documents())


def default_state_dir() -> Path:
    return build.cache_root() / "sandbox"
