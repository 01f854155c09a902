"""The proxy decided once per connection pool, kubeconfig problems that need no API server, and the parsing of
what caches keep."""

from __future__ import annotations

import pytest
import yaml

from airunway.kube.client import proxy_for
from airunway.kube.kubeconfig import ConfigError, Configuration, load_config


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                 "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_proxy_from_the_environment_by_scheme_unless_no_proxy_names_the_host(no_proxy_env):
    cfg = Configuration(host="https://api.example.test:6443")
    assert proxy_for(cfg) is None
    no_proxy_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    assert proxy_for(cfg) == "http://proxy.test:3128"
    assert proxy_for(Configuration(host="http://api.example.test")) is None  # HTTP_PROXY is not set
    no_proxy_env.setenv("NO_PROXY", "other.test,.example.test")
    assert proxy_for(cfg) is None
    no_proxy_env.setenv("NO_PROXY", "*")
    assert proxy_for(cfg) is None


def test_the_kubeconfig_proxy_url_wins(no_proxy_env):
    no_proxy_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    no_proxy_env.setenv("NO_PROXY", "api.example.test")
    assert proxy_for(Configuration(host="https://api.example.test", proxy="http://mine.test:8080")) == \
        "http://mine.test:8080"


async def test_authorization_header_keeps_the_prefix_form():
    cfg = Configuration(api_key={"BearerToken": "Bearer abc"})
    assert await cfg.authorization() == "Bearer abc"
    cfg = Configuration(api_key={"BearerToken": "abc"}, api_key_prefix={"BearerToken": "Bearer"})
    assert await cfg.authorization() == "Bearer abc"
    assert await Configuration().authorization() is None


async def test_kubeconfig_errors_name_the_field(tmp_path):
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443",
                                                  "certificate-authority-data": "not base64!"}}],
           "users": [{"name": "u", "user": {"token": "t"}}],
           "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="certificate-authority-data is not valid base64"):
        await load_config(path)
    doc["clusters"][0]["cluster"] = {"server": "https://127.0.0.1:6443", "certificate-authority": "ca.pem"}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"certificate-authority .*ca.pem does not exist"):
        await load_config(path)
    (tmp_path / "ca.pem").write_text("x")  # relative to the kubeconfig's folder
    cfg = await load_config(path)
    assert cfg.ssl_ca_cert == str(tmp_path / "ca.pem") and await cfg.authorization() == "Bearer t"
    doc["users"][0]["user"] = {"username": "ann", "password": "pw"}
    path.write_text(yaml.safe_dump(doc))
    assert await (await load_config(path)).authorization() == "Basic YW5uOnB3"
    with pytest.raises(ConfigError, match="does not exist: pass the path"):
        await load_config(tmp_path / "absent")


def test_cached_objects_share_their_strings():
    from airunway.kube.client import loads_shared

    one = loads_shared(b'{"metadata": {"name": "a", "labels": {"app": "vllm"}}, "status": "' + b"x" * 100 + b'"}')
    two = loads_shared(b'{"metadata": {"name": "b", "labels": {"app": "vllm"}}, "status": "' + b"x" * 100 + b'"}')
    assert one == {"metadata": {"name": "a", "labels": {"app": "vllm"}}, "status": "x" * 100}
    key_one, key_two = next(iter(one)), next(iter(two))
    assert key_one is key_two  # "metadata": one string
    assert one["metadata"]["labels"]["app"] is two["metadata"]["labels"]["app"]
    assert one["status"] is not two["status"]  # long values are left alone

