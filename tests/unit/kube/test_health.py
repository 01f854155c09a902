"""The probe and metrics server on loopback (no cluster)."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from airunway.kube.health import ProbeServer, parse_address, self_signed_tls


def test_addresses():
    assert parse_address(":8081") == (None, 8081)
    assert parse_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    assert parse_address("0") is None and parse_address("") is None and parse_address(None) is None
    with pytest.raises(ValueError):
        parse_address("8081")


async def fetch(url: str, **kwargs) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url, **kwargs) as r:
            return r.status, await r.text()


async def test_checks_pass_fail_and_can_be_asked_one_by_one():
    state = {"ready": False}

    async def async_ok():
        await asyncio.sleep(0)

    def broken():
        raise RuntimeError("boom")

    server = ProbeServer(
        "127.0.0.1:0",
        healthz={"ping": lambda: None, "async": async_ok},
        readyz={"synced": lambda: state["ready"] or "informers not synced", "flag": lambda: True},
    )
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert await fetch(base + "/healthz") == (200, "ok")
        code, text = await fetch(base + "/healthz?verbose")
        assert code == 200 and "[+]ping ok" in text and "[+]async ok" in text and "healthz check passed" in text
        code, text = await fetch(base + "/readyz")
        assert code == 500 and "[-]synced failed: informers not synced" in text and "[+]flag ok" in text
        assert (await fetch(base + "/readyz/flag"))[0] == 200
        assert (await fetch(base + "/readyz/synced"))[0] == 500
        assert (await fetch(base + "/readyz/unknown"))[0] == 404
        assert (await fetch(base + "/metrics"))[0] == 404, "no registry: no metrics here"
        state["ready"] = True
        assert await fetch(base + "/readyz") == (200, "ok")
        server.healthz["broken"] = broken
        code, text = await fetch(base + "/healthz")
        assert code == 500 and "[-]broken failed: boom" in text
    finally:
        await server.stop()


async def test_metrics_with_tls_and_authorization(tmp_path):
    registry = CollectorRegistry()
    Counter("things_total", "Things.", registry=registry).inc(3)
    seen = []

    async def authorize(request) -> int:
        seen.append(request.headers.get("Authorization"))
        return {"Bearer good": 200, "Bearer nope": 403}.get(request.headers.get("Authorization"), 401)

    server = ProbeServer("127.0.0.1:0", registry=registry, ssl_context=self_signed_tls(tmp_path),
                         authorize=authorize)
    await server.start()
    url = f"https://127.0.0.1:{server.port}/metrics"
    trust = ssl.create_default_context(cafile=str(tmp_path / "tls.crt"))
    try:
        assert (await fetch(url, ssl=trust))[0] == 401
        assert (await fetch(url, ssl=trust, headers={"Authorization": "Bearer nope"}))[0] == 403
        code, text = await fetch(url, ssl=trust, headers={"Authorization": "Bearer good"})
        assert code == 200 and "things_total 3.0" in text
        assert seen == [None, "Bearer nope", "Bearer good"]
        assert (tmp_path / "tls.key").stat().st_mode & 0o077 == 0, "the private key is not world-readable"
    finally:
        await server.stop()
