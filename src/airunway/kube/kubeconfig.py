"""Cluster credentials: kubeconfig files, the in-cluster service account, and exec credential plugins.

:func:`load_config` finds them the way client-go does: an explicit kubeconfig file; else ``$KUBECONFIG`` (a list of
files, merged: the first file to name a cluster, user or context wins, and the first ``current-context`` set
counts); else the in-cluster service account when ``KUBERNETES_SERVICE_HOST`` is set; else ``~/.kube/config``.

A user may authenticate with a client certificate, a token (``token`` or ``tokenFile``), a user name and password,
or an exec credential plugin (``client.authentication.k8s.io`` v1 or v1beta1), whose token is fetched again when
it expires. The service account's token is read again every minute (the kubelet rotates it).

The result is a :class:`Configuration`: the server, the TLS material as files, and the ``Authorization`` header.
Certificate and key data given inline are written to private temporary files removed at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import yaml

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
TOKEN_REREAD_SECONDS = 60.0
_EXEC_TIMEOUT = 60.0


class ConfigError(RuntimeError):
    """No usable cluster credentials; the message says where we looked and what to set."""


RefreshHook = Callable[["Configuration"], Awaitable[None]]


@dataclass
class Configuration:
    """Where the API server is and how to authenticate to it.

    ``api_key["BearerToken"]`` is the whole ``Authorization`` header value (``Bearer …`` or ``Basic …``);
    ``refresh_api_key_hook``, when set, is awaited before each request and may renew it.
    """

    host: str = "http://localhost"
    ssl_ca_cert: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify_ssl: bool = True
    tls_server_name: str | None = None
    proxy: str | None = None
    proxy_headers: dict[str, str] | None = None
    api_key: dict[str, str] = field(default_factory=dict)
    api_key_prefix: dict[str, str] = field(default_factory=dict)
    refresh_api_key_hook: RefreshHook | None = None

    async def authorization(self) -> str | None:
        """The ``Authorization`` header to send, renewed first if it has a refresh hook."""
        if self.refresh_api_key_hook is not None:
            await self.refresh_api_key_hook(self)
        value = self.api_key.get("BearerToken")
        if not value:
            return None
        prefix = self.api_key_prefix.get("BearerToken")
        return f"{prefix} {value}" if prefix else value


async def load_config(kubeconfig: str | os.PathLike | None = None, *, context: str | None = None) -> Configuration:
    """Cluster credentials, found like client-go finds them (see the module's documentation)."""
    if kubeconfig:
        path = Path(kubeconfig).expanduser()
        if not path.exists():
            raise ConfigError(f"kubeconfig {kubeconfig} does not exist: pass the path of a kubeconfig file")
        return await _from_files([path], context)
    listed = [Path(p).expanduser() for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        existing = [p for p in listed if p.exists()]
        if not existing:
            raise ConfigError(f"no file of KUBECONFIG={os.environ['KUBECONFIG']} exists: set KUBECONFIG to "
                              "kubeconfig files")
        return await _from_files(existing, context)
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return in_cluster_config()
    default = Path.home() / ".kube" / "config"
    if not default.exists():
        raise ConfigError(
            "no Kubernetes credentials: pass --kubeconfig, set KUBECONFIG, or run inside a cluster "
            f"(looked for {default})"
        )
    return await _from_files([default], context)


# -- in-cluster ----------------------------------------------------------------------------------------------


def in_cluster_config(directory: str | os.PathLike | None = None) -> Configuration:
    """The pod's service account: the API server from ``KUBERNETES_SERVICE_HOST``/``_PORT``, its token and CA."""
    folder = Path(directory) if directory else SERVICE_ACCOUNT_DIR
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST", ""), os.environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise ConfigError("in-cluster config needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT; outside a "
                          "cluster pass --kubeconfig or set KUBECONFIG")
    token_file, ca_file = folder / "token", folder / "ca.crt"
    for needed in (token_file, ca_file):
        if not needed.is_file():
            raise ConfigError(f"in-cluster config: {needed} is missing; mount the service account token "
                              "(automountServiceAccountToken) or pass --kubeconfig")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    cfg = Configuration(host=f"https://{host}:{port}", ssl_ca_cert=str(ca_file))
    cfg.refresh_api_key_hook = _token_file_reader(token_file)
    return cfg


def _token_file_reader(path: Path) -> RefreshHook:
    read_at = -TOKEN_REREAD_SECONDS

    async def refresh(cfg: Configuration) -> None:
        nonlocal read_at
        now = time.monotonic()
        if now - read_at < TOKEN_REREAD_SECONDS and cfg.api_key.get("BearerToken"):
            return
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {path}: {exc.strerror}") from exc
        cfg.api_key["BearerToken"] = f"Bearer {token}"
        read_at = now

    return refresh


# -- kubeconfig files ----------------------------------------------------------------------------------------


@dataclass
class _Entry:
    value: dict
    folder: Path  # relative paths in the entry are relative to its file's folder


def _merge(paths: list[Path]) -> tuple[dict[str, dict[str, _Entry]], str]:
    sections: dict[str, dict[str, _Entry]] = {"clusters": {}, "users": {}, "contexts": {}}
    current = ""
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"kubeconfig {path} cannot be read: {exc}") from exc
        if not isinstance(doc, dict):
            raise ConfigError(f"kubeconfig {path} cannot be used: it is not a YAML mapping")
        current = current or doc.get("current-context") or ""
        singular = {"clusters": "cluster", "users": "user", "contexts": "context"}
        for section, key in singular.items():
            for item in doc.get(section) or []:
                name = (item or {}).get("name")
                if name is not None and name not in sections[section]:
                    sections[section][name] = _Entry(item.get(key) or {}, path.resolve().parent)
    return sections, current


async def _from_files(paths: list[Path], context: str | None) -> Configuration:
    where = os.pathsep.join(str(p) for p in paths)
    sections, current = _merge(paths)
    name = context or current
    if not name:
        raise ConfigError(f"kubeconfig {where} cannot be used: it sets no current-context; pass --context")
    if name not in sections["contexts"]:
        known = ", ".join(sorted(sections["contexts"])) or "none"
        raise ConfigError(f"kubeconfig {where} cannot be used: it has no context {name!r} (contexts: {known})")
    ctx = sections["contexts"][name].value
    cluster = sections["clusters"].get(ctx.get("cluster") or "")
    if cluster is None or not cluster.value.get("server"):
        raise ConfigError(f"kubeconfig {where} cannot be used: context {name!r} names no cluster with a server")
    user = sections["users"].get(ctx.get("user") or "") or _Entry({}, cluster.folder)
    try:
        cfg = _cluster(cluster)
        await _user(cfg, user, cluster)
    except ConfigError as exc:
        raise ConfigError(f"kubeconfig {where} cannot be used: {exc}") from None
    return cfg


def _cluster(entry: _Entry) -> Configuration:
    c = entry.value
    cfg = Configuration(host=str(c["server"]).rstrip("/"))
    cfg.ssl_ca_cert = _file_or_data(entry, c, "certificate-authority", "certificate-authority-data")
    cfg.verify_ssl = not c.get("insecure-skip-tls-verify", False)
    cfg.tls_server_name = c.get("tls-server-name") or None
    cfg.proxy = c.get("proxy-url") or None
    return cfg


async def _user(cfg: Configuration, entry: _Entry, cluster: _Entry) -> None:
    u = entry.value
    cfg.cert_file = _file_or_data(entry, u, "client-certificate", "client-certificate-data")
    cfg.key_file = _file_or_data(entry, u, "client-key", "client-key-data")
    if bool(cfg.cert_file) != bool(cfg.key_file):
        raise ConfigError("the user has a client certificate without its key, or a key without its certificate")
    if u.get("auth-provider"):
        provider = (u["auth-provider"] or {}).get("name", "")
        raise ConfigError(f"the user's auth-provider {provider!r} is not supported: use an exec credential plugin "
                          "(users[].user.exec), a token or a client certificate")
    if u.get("exec"):
        plugin = ExecPlugin(u["exec"], entry.folder, cluster.value)
        await plugin.apply(cfg)
        cfg.refresh_api_key_hook = plugin.refresh
    elif u.get("token"):
        cfg.api_key["BearerToken"] = f"Bearer {u['token']}"
    elif u.get("tokenFile"):
        cfg.refresh_api_key_hook = _token_file_reader(_resolve(entry.folder, u["tokenFile"]))
        await cfg.refresh_api_key_hook(cfg)
    elif u.get("username") and u.get("password") is not None:
        basic = base64.b64encode(f"{u['username']}:{u['password']}".encode()).decode()
        cfg.api_key["BearerToken"] = f"Basic {basic}"


def _resolve(folder: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else folder / p


def _file_or_data(entry: _Entry, values: dict, file_key: str, data_key: str) -> str | None:
    if values.get(data_key):
        try:
            data = base64.b64decode(values[data_key], validate=True)
        except ValueError as exc:
            raise ConfigError(f"{data_key} is not valid base64") from exc
        return _private_file(data)
    if values.get(file_key):
        path = _resolve(entry.folder, values[file_key])
        if not path.is_file():
            raise ConfigError(f"{file_key} {path} does not exist")
        return str(path)
    return None


_temp_dir: str | None = None


def _private_file(data: bytes) -> str:
    """A file only this user can read holding ``data``, removed when the process exits."""
    global _temp_dir
    if _temp_dir is None:
        _temp_dir = tempfile.mkdtemp(prefix="airunway-kube-")
        atexit.register(shutil.rmtree, _temp_dir, True)
    fd, name = tempfile.mkstemp(dir=_temp_dir)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return name


# -- exec credential plugins ---------------------------------------------------------------------------------


class ExecPlugin:
    """A ``users[].user.exec`` credential plugin: runs the command, reads its ExecCredential, and runs it again
    once the credential's ``expirationTimestamp`` has passed."""

    API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")

    def __init__(self, spec: dict, folder: Path, cluster: dict):
        self.api_version = spec.get("apiVersion") or ""
        if self.api_version not in self.API_VERSIONS:
            raise ConfigError(f"exec plugin apiVersion {self.api_version!r} is not supported: use "
                              + " or ".join(self.API_VERSIONS))
        command = spec.get("command") or ""
        if not command:
            raise ConfigError("the exec plugin has no command: set users[].user.exec.command")
        # Like client-go: a relative path with a separator is relative to the kubeconfig's folder.
        self.command = str(folder / command) if os.sep in command and not os.path.isabs(command) else command
        self.args = [str(a) for a in spec.get("args") or []]
        self.env = {str(e["name"]): str(e.get("value", "")) for e in spec.get("env") or [] if e.get("name")}
        self.cluster = cluster if spec.get("provideClusterInfo") else None
        self.expiry: datetime | None = None
        self._lock = asyncio.Lock()

    def _exec_info(self) -> str:
        spec: dict[str, Any] = {"interactive": False}
        if self.cluster is not None:
            spec["cluster"] = {k: v for k, v in {
                "server": self.cluster.get("server"),
                "tls-server-name": self.cluster.get("tls-server-name"),
                "insecure-skip-tls-verify": self.cluster.get("insecure-skip-tls-verify"),
                "certificate-authority-data": self.cluster.get("certificate-authority-data"),
                "proxy-url": self.cluster.get("proxy-url"),
                "config": (self.cluster.get("extensions") or {}).get("client.authentication.k8s.io/exec"),
            }.items() if v is not None}
        return json.dumps({"apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec})

    async def run(self) -> dict:
        """The plugin's ExecCredential ``status``."""
        env = {**os.environ, **self.env, "KUBERNETES_EXEC_INFO": self._exec_info()}
        try:
            proc = await asyncio.create_subprocess_exec(
                self.command, *self.args, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), _EXEC_TIMEOUT)
        except FileNotFoundError as exc:
            raise ConfigError(f"exec plugin {self.command!r} not found: install it or fix "
                              "users[].user.exec.command") from exc
        except asyncio.TimeoutError as exc:
            proc.kill()
            raise ConfigError(f"exec plugin {self.command!r} did not finish within {_EXEC_TIMEOUT:.0f} s") from exc
        if proc.returncode != 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()
            raise ConfigError(f"exec plugin {self.command!r} exited with {proc.returncode}"
                              + (f": {detail[-1][:200]}" if detail else ""))
        try:
            credential = json.loads(out)
        except ValueError as exc:
            raise ConfigError(f"exec plugin {self.command!r} did not print an ExecCredential as JSON") from exc
        status = (credential or {}).get("status") if isinstance(credential, dict) else None
        if not isinstance(status, dict) or not (status.get("token") or status.get("clientCertificateData")):
            raise ConfigError(f"exec plugin {self.command!r} printed an ExecCredential without status.token or "
                              "status.clientCertificateData")
        return status

    async def apply(self, cfg: Configuration) -> None:
        status = await self.run()
        if status.get("token"):
            cfg.api_key["BearerToken"] = f"Bearer {status['token']}"
        if status.get("clientCertificateData"):
            if not status.get("clientKeyData"):
                raise ConfigError(f"exec plugin {self.command!r} gave clientCertificateData without clientKeyData")
            cfg.cert_file = _private_file(status["clientCertificateData"].encode())
            cfg.key_file = _private_file(status["clientKeyData"].encode())
        stamp = status.get("expirationTimestamp")
        self.expiry = _parse_time(stamp) if stamp else None

    async def refresh(self, cfg: Configuration) -> None:
        if self.expiry is None or datetime.now(timezone.utc) < self.expiry:
            return
        async with self._lock:
            if self.expiry is not None and datetime.now(timezone.utc) >= self.expiry:
                await self.apply(cfg)


def _parse_time(stamp: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"exec plugin expirationTimestamp {stamp!r} is not an RFC 3339 time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
