"""Each way of finding credentials, against the sandbox's API server: client certificates (the admin kubeconfig),
tokens (a ServiceAccount TokenRequest token), an exec credential plugin, the in-cluster service account and a
``KUBECONFIG`` list of files merged. Who the API server says we are (a SelfSubjectReview) shows which credential
was used."""

from __future__ import annotations

import asyncio
import base64
import json
import stat
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from airunway.kube import kubeconfig
from airunway.kube.client import ApiClient, Client, ConfigError, load_config


async def whoami(cfg) -> str:
    async with Client(ApiClient(cfg)) as client:
        review = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                      body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    return review["status"]["userInfo"]["username"]


@pytest.fixture
def account(sandbox, namespace):
    """A ServiceAccount's name, its full user name and a TokenRequest token for it."""
    name = f"sa-{uuid.uuid4().hex[:6]}"
    sandbox.kubectl("create", "serviceaccount", name, "-n", namespace)
    token = sandbox.kubectl("create", "token", name, "-n", namespace).stdout.strip()
    return name, f"system:serviceaccount:{namespace}:{name}", token


def admin(sandbox) -> dict:
    return yaml.safe_load(sandbox.kubeconfig.read_text())


def cluster_only(sandbox) -> dict:
    """The sandbox's cluster entry (server and CA) without any user."""
    return admin(sandbox)["clusters"][0]


def with_user(sandbox, user: dict, name: str = "someone") -> dict:
    cluster = cluster_only(sandbox)
    return {"apiVersion": "v1", "kind": "Config", "current-context": "here",
            "clusters": [cluster], "users": [{"name": name, "user": user}],
            "contexts": [{"name": "here", "context": {"cluster": cluster["name"], "user": name}}]}


def write(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


async def test_client_certificate_of_the_admin_kubeconfig(sandbox):
    expected = sandbox.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").stdout.strip()
    cfg = await load_config(sandbox.kubeconfig)
    assert cfg.cert_file and cfg.key_file and not cfg.api_key
    assert await whoami(cfg) == expected


async def test_token(sandbox, account, tmp_path):
    _, user, token = account
    cfg = await load_config(write(tmp_path / "config", with_user(sandbox, {"token": token})))
    assert await whoami(cfg) == user


async def test_token_file(sandbox, account, tmp_path):
    _, user, token = account
    (tmp_path / "token").write_text(token + "\n")
    cfg = await load_config(write(tmp_path / "config", with_user(sandbox, {"tokenFile": "token"})))  # relative
    assert await whoami(cfg) == user


async def test_exec_plugin_runs_again_once_its_credential_expired(sandbox, account, tmp_path):
    _, user, token = account
    runs = tmp_path / "runs"
    plugin = tmp_path / "bin" / "credential"
    plugin.parent.mkdir()
    plugin.write_text(f"""#!{sys.executable}
import json, os, sys
with open({str(runs)!r}, "a") as f:
    f.write(json.dumps({{"info": json.loads(os.environ["KUBERNETES_EXEC_INFO"]), "args": sys.argv[1:],
                         "env": os.environ.get("FROM_KUBECONFIG")}}) + "\\n")
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": {token!r}, "expirationTimestamp": os.environ["EXPIRES"]}}}}))
""")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    user_entry = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "./bin/credential",
                           "args": ["--flag"], "env": [{"name": "FROM_KUBECONFIG", "value": "yes"},
                                                       {"name": "EXPIRES", "value": "2000-01-01T00:00:00Z"}],
                           "provideClusterInfo": True, "interactiveMode": "Never"}}
    path = write(tmp_path / "config", with_user(sandbox, user_entry))

    cfg = await load_config(path)
    assert await whoami(cfg) == user
    assert await whoami(cfg) == user
    lines = [json.loads(line) for line in runs.read_text().splitlines()]
    assert len(lines) == 3  # at load, then before each request: the credential had expired
    first = lines[0]
    assert first["args"] == ["--flag"] and first["env"] == "yes"
    assert first["info"]["apiVersion"] == "client.authentication.k8s.io/v1"
    assert first["info"]["spec"]["interactive"] is False
    assert first["info"]["spec"]["cluster"]["server"] == cluster_only(sandbox)["cluster"]["server"]

    user_entry["exec"]["env"][1]["value"] = "2999-01-01T00:00:00Z"  # not expired: run once only
    runs.unlink()
    cfg = await load_config(write(path, with_user(sandbox, user_entry)))
    assert await whoami(cfg) == user and await whoami(cfg) == user
    assert len(runs.read_text().splitlines()) == 1


async def test_exec_plugin_failure_names_the_plugin(sandbox, tmp_path):
    user_entry = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "false"}}
    with pytest.raises(ConfigError, match="exec plugin 'false' exited with 1"):
        await load_config(write(tmp_path / "config", with_user(sandbox, user_entry)))
    user_entry["exec"]["command"] = str(tmp_path / "absent")
    with pytest.raises(ConfigError, match="not found"):
        await load_config(write(tmp_path / "config", with_user(sandbox, user_entry)))


async def test_in_cluster_service_account(sandbox, namespace, account, tmp_path, monkeypatch):
    name, user, token = account
    folder = tmp_path / "serviceaccount"
    folder.mkdir()
    (folder / "token").write_text(token)
    (folder / "namespace").write_text(namespace)
    ca = base64.b64decode(cluster_only(sandbox)["cluster"]["certificate-authority-data"])
    (folder / "ca.crt").write_bytes(ca)
    server = urlsplit(cluster_only(sandbox)["cluster"]["server"])
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", server.hostname)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
    monkeypatch.setattr(kubeconfig, "SERVICE_ACCOUNT_DIR", folder)

    cfg = await load_config()
    assert cfg.host == f"https://{server.hostname}:{server.port}"
    assert await whoami(cfg) == user

    # The kubelet rotates the token: it is read again (here at once; every minute in a pod).
    other = f"{name}-2"
    sandbox.kubectl("create", "serviceaccount", other, "-n", namespace)
    (folder / "token").write_text(sandbox.kubectl("create", "token", other, "-n", namespace).stdout.strip())
    monkeypatch.setattr(kubeconfig, "TOKEN_REREAD_SECONDS", 0.0)
    await asyncio.sleep(0.01)
    assert await whoami(cfg) == f"system:serviceaccount:{namespace}:{other}"


async def test_kubeconfig_list_is_merged(sandbox, account, tmp_path, monkeypatch):
    _, user, token = account
    cluster = cluster_only(sandbox)
    first = {"apiVersion": "v1", "kind": "Config", "current-context": "merged", "clusters": [cluster],
             "contexts": [{"name": "merged", "context": {"cluster": cluster["name"], "user": "from-second"}}]}
    broken = {"name": cluster["name"], "cluster": {"server": "https://127.0.0.1:1"}}
    second = {"apiVersion": "v1", "kind": "Config", "current-context": "ignored", "clusters": [broken],
              "users": [{"name": "from-second", "user": {"token": token}}]}
    paths = [write(tmp_path / "first", first), tmp_path / "missing", write(tmp_path / "second", second)]
    monkeypatch.setenv("KUBECONFIG", ":".join(str(p) for p in paths))

    cfg = await load_config()  # the first file's cluster and current-context, the second's user
    assert cfg.host == cluster["cluster"]["server"]
    assert await whoami(cfg) == user


async def test_bad_kubeconfigs_say_what_to_fix(sandbox, tmp_path, monkeypatch):
    doc = with_user(sandbox, {"token": "x"})
    with pytest.raises(ConfigError, match="has no context 'nope'"):
        await load_config(write(tmp_path / "config", doc), context="nope")
    doc["users"][0]["user"] = {"auth-provider": {"name": "oidc"}}
    with pytest.raises(ConfigError, match="auth-provider 'oidc' is not supported: use an exec credential plugin"):
        await load_config(write(tmp_path / "config", doc))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="no file of KUBECONFIG"):
        await load_config()


async def test_https_proxy_from_the_environment_unless_no_proxy_names_the_server(sandbox, monkeypatch):
    tunnels: list[str] = []

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def handle(reader, writer):  # a CONNECT proxy
        request = (await reader.readuntil(b"\r\n\r\n")).decode()
        target = request.split()[1]
        tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    server = urlsplit(cluster_only(sandbox)["cluster"]["server"])
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with await Client.connect(sandbox.kubeconfig) as client:
            await client.request("GET", "/version")
            await client.request("GET", "/version")
        assert tunnels == [f"{server.hostname}:{server.port}"]  # one tunnel, kept for both requests

        monkeypatch.setenv("NO_PROXY", f"localhost,{server.hostname}")
        async with await Client.connect(sandbox.kubeconfig) as client:
            await client.request("GET", "/version")
        assert len(tunnels) == 1
    finally:
        proxy.close()
