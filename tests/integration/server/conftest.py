"""Fixtures of the dashboard's tests: a Helm chart repository on 127.0.0.1 and helm/kubectl from the sandbox."""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading

import pytest

from charts import make_chart


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def chart_repo(sandbox, tmp_path_factory):
    """A Helm chart repository (index.yaml and the packaged chart) served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("charts")
    served = root / "repo"
    served.mkdir()
    helm = str(sandbox.bin_dir / "helm")
    subprocess.run([helm, "package", str(make_chart(root / "src")), "--destination", str(served)], check=True,
                   capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    subprocess.run([helm, "repo", "index", str(served), "--url", url], check=True, capture_output=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()


@pytest.fixture
def helm_env(sandbox, monkeypatch, tmp_path):
    """helm and kubectl from the sandbox's binaries, with their own Helm home."""
    monkeypatch.setenv("HELM_PATH", str(sandbox.bin_dir / "helm"))
    monkeypatch.setenv("KUBECTL_PATH", str(sandbox.bin_dir / "kubectl"))
    for kind in ("CONFIG", "CACHE", "DATA"):
        monkeypatch.setenv(f"HELM_{kind}_HOME", str(tmp_path / f"helm-{kind.lower()}"))
