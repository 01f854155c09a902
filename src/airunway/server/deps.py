"""Route dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Request

from airunway.kube.client import Client


def kube(request: Request) -> Client:
    """The app's Kubernetes client."""
    return request.app.state.client
