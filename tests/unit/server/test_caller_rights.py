"""Acting as the caller, without a cluster: the access cache (expiry, bound, one computation for simultaneous
askers), which origins may change things, the kubeconfig helm and kubectl get for a caller and how it is handed over
(a private file that is gone afterwards, never an argument)."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
import sys

import pytest
import yaml

from airunway.kube.client import Configuration
from airunway.server.app import origin_allowed
from airunway.server.auth import AccessCache, kubeconfig_for, token_key
from airunway.server.services.helm import Runner


async def test_access_answers_expire_and_are_bounded():
    now = [0.0]
    cache: AccessCache[bool] = AccessCache(ttl=15, size=2, clock=lambda: now[0])
    asked: list[str] = []

    def ask(key: str, answer: bool):
        async def compute() -> bool:
            asked.append(key)
            return answer
        return compute

    assert await cache.get("a", ask("a", True)) is True
    assert await cache.get("a", ask("a", False)) is True and asked == ["a"]  # remembered
    assert cache.peek("a") is True and cache.peek("b") is None
    now[0] = 15.0
    assert cache.peek("a") is None
    assert await cache.get("a", ask("a", False)) is False and asked == ["a", "a"]  # expired: asked again
    await cache.get("b", ask("b", True))
    await cache.get("a", ask("a", False))  # "a" used last: "b" goes first
    await cache.get("c", ask("c", True))
    assert len(cache) == 2 and cache.peek("b") is None and cache.peek("a") is False


async def test_simultaneous_askers_share_one_computation_and_failures_are_not_kept():
    cache: AccessCache[bool] = AccessCache()
    release = asyncio.Event()
    calls = []

    async def slow() -> bool:
        calls.append(1)
        await release.wait()
        return True

    waiting = [asyncio.create_task(cache.get("k", slow)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [True] * 50 and len(calls) == 1

    async def failing() -> bool:
        raise RuntimeError("review failed")

    with pytest.raises(RuntimeError):
        await cache.get("f", failing)
    assert cache.peek("f") is None


def test_token_key_is_not_the_token():
    key = token_key("secret-token")
    assert "secret-token" not in key and len(key) == 64 and key == token_key("secret-token")


@pytest.mark.parametrize(("origin", "setting", "host", "allowed"), [
    ("http://localhost:5173", None, "127.0.0.1:3001", True),
    ("http://127.0.0.1:3001", None, "127.0.0.1:3001", True),
    ("http://[::1]:8080", None, "127.0.0.1:3001", True),
    ("https://evil.example", None, "127.0.0.1:3001", False),
    ("null", None, "127.0.0.1:3001", False),
    ("http://localhost.evil.example", None, "127.0.0.1:3001", False),
    ("https://airunway.example.org", None, "airunway.example.org", True),  # the dashboard's own page
    ("https://airunway.example.org", None, "other.example.org", False),
    ("https://ui.example.org", "https://ui.example.org, https://b.example.org", "127.0.0.1:3001", True),
    ("http://localhost:5173", "https://ui.example.org", "127.0.0.1:3001", False),  # a list replaces loopback
    ("https://anyone.example", "*", "127.0.0.1:3001", True),
    ("https://evil.example", " , ", "127.0.0.1:3001", False),
])
def test_which_origins_may_change_things(origin, setting, host, allowed):
    assert origin_allowed(origin, setting, host) is allowed


def test_a_callers_kubeconfig_has_the_cluster_and_only_the_token(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    cfg = Configuration(host="https://127.0.0.1:6443")
    cfg.ssl_ca_cert = str(ca)
    cfg.cert_file, cfg.key_file = "/admin.crt", "/admin.key"
    cfg.tls_server_name = "kubernetes"
    config = yaml.safe_load(kubeconfig_for(cfg, "tok-123"))
    [cluster] = config["clusters"]
    assert cluster["cluster"] == {"server": "https://127.0.0.1:6443", "tls-server-name": "kubernetes",
                                  "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode()}
    assert config["users"] == [{"name": "caller", "user": {"token": "tok-123"}}]
    assert config["current-context"] == "caller"


async def test_helm_gets_the_callers_kubeconfig_in_a_private_file_removed_afterwards(tmp_path, monkeypatch):
    """A stand-in helm reports the file it was given; the token is never on its command line."""
    helm = tmp_path / "helm"
    helm.write_text(f"#!{sys.executable}\nimport os, stat, sys\np = os.environ['KUBECONFIG']\n"
                    "print(p, oct(stat.S_IMODE(os.stat(p).st_mode)), ' '.join(sys.argv[1:]))\n"
                    "print(open(p).read())\n")
    helm.chmod(0o755)
    monkeypatch.setenv("HELM_PATH", str(helm))
    own = tmp_path / "own-kubeconfig"
    own.write_text("the dashboard's own\n")
    monkeypatch.setenv("KUBECONFIG", str(own))
    runner = Runner(kubeconfig=str(own)).as_caller("users:\n- user: {token: tok-456}\n")
    result = await runner.helm("list", "-A")
    first, _, content = result.stdout.partition("\n")
    path, mode, args = first.split(" ", 2)
    assert result.success and mode == oct(stat.S_IRUSR | stat.S_IWUSR) and args == "list -A"
    assert "tok-456" in content and "tok-456" not in args and path != str(own)
    assert not os.path.exists(path)
    assert "tok-456" not in repr(runner)
    itself = await Runner(kubeconfig=str(own)).helm("version")
    assert itself.stdout.startswith(f"{own} ") and "the dashboard's own" in itself.stdout
