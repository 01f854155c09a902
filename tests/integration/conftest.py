"""Fixtures of the tests against the real local control plane (the ``sandbox`` and ``namespace`` fixtures are in
``tests/conftest.py``)."""

from __future__ import annotations

import pytest

from airunway.kube.client import Client

from support import FIELD_MANAGER
from workload import installed_providers


@pytest.fixture
async def client(sandbox):
    """A Kubernetes client of the sandbox, writing as field manager :data:`FIELD_MANAGER`."""
    kube = await Client.connect(sandbox.kubeconfig, field_manager=FIELD_MANAGER)
    try:
        yield kube
    finally:
        await kube.close()


@pytest.fixture(scope="module")
def providers(sandbox):
    """The five shipped provider configs, installed and marked ready for the module (as running providers would)."""
    yield from installed_providers(sandbox)
