"""Shared fixtures: one real local control plane per test session, a fresh namespace per test.

The control plane starts only when a test asks for it, so unit tests run without it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from airunway.sandbox.cluster import Sandbox

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> Sandbox:
    sb = Sandbox(tmp_path_factory.mktemp("sandbox"))
    sb.up(progress=lambda msg: print(f"[sandbox] {msg}", flush=True))
    try:
        yield sb
    finally:
        sb.down()


@pytest.fixture
def namespace(sandbox: Sandbox) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    sandbox.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        sandbox.kubectl("delete", "namespace", name, "--wait=false", check=False)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture
def hub(monkeypatch):
    """The HuggingFace Hub stand-in on 127.0.0.1 (tests/hub.py), as the dashboard's HF_ENDPOINT."""
    from fakes.hub import Hub

    stand_in = Hub()
    monkeypatch.setenv("HF_ENDPOINT", stand_in.url)
    try:
        yield stand_in
    finally:
        stand_in.close()
