"""The wheel carries the built web UI: installed on its own (no editable checkout, no frontend sources) and run with
a PATH that has no Node.js, `airunway dashboard` serves the UI at / next to the API."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import httpx

from support import ROOT, DashboardProcess


def test_a_wheel_serves_the_ui_without_node(sandbox, tmp_path):
    assert (ROOT / "src" / "airunway" / "server" / "static" / "index.html").is_file(), "the UI is not built"
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = wheels.glob("airunway-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "airunway/server/static/index.html" in names
    assert any(re.fullmatch(r"airunway/server/static/assets/index-[\w-]+\.js", n) for n in names)
    assert not any(n.startswith("frontend/") for n in names)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = {"PATH": str(empty_path), "PYTHONPATH": str(site), "HOME": str(tmp_path), "KUBECONFIG": str(sandbox.kubeconfig)}
    probe = subprocess.run([sys.executable, "-c", "import airunway; print(airunway.__file__)"], env=env,
                           capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(site))  # the wheel's copy, not the checkout
    with DashboardProcess(sandbox, tmp_path / "log", env=env, inherit_env=False) as base:
        page = httpx.get(f"{base}/", timeout=10)
        route = httpx.get(f"{base}/deployments/x?namespace=y", timeout=10)
        script = re.search(r'src="(/assets/[^"]+\.js)"', page.text).group(1)
        asset = httpx.get(base + script, timeout=10)
    assert page.status_code == 200 and '<div id="root"></div>' in page.text
    assert route.text == page.text
    assert asset.status_code == 200 and asset.headers["content-type"].startswith(("text/javascript",
                                                                                  "application/javascript"))
    assert "immutable" in asset.headers["cache-control"]
