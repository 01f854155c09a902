"""``/api/health``: liveness and version, without touching the cluster."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter

from airunway import __version__

router = APIRouter(prefix="/api/health", tags=["health"])


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@router.get("")
async def healthy() -> dict:
    return {"status": "healthy", "timestamp": _now()}


@router.get("/version")
async def version() -> dict:
    return {"version": __version__, "buildTime": _now(), "gitCommit": "unknown"}
