"""The web UI: the files ``npm run build`` writes into ``airunway/server/static`` (shipped in the package), served
at ``/`` next to the API. A path that names no file gets ``index.html`` so the UI's own router handles it; hashed
files under ``/assets`` are cached for a year, ``index.html`` is always revalidated. Without a build, non-API paths
answer 404 with a hint (see :mod:`airunway.server.errors`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

STATIC = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def install(app: FastAPI, root: Path = STATIC) -> bool:
    """Serve the built UI from ``root``; False (nothing served) when there is no build there."""
    index = root / "index.html"
    if not index.is_file():
        return False
    base = root.resolve()

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def ui(path: str, request: Request):
        if path == "api" or path.startswith("api/"):
            raise HTTPException(404)  # unknown API paths keep their JSON answer
        target = (base / path).resolve()
        if path and target.is_relative_to(base) and target.is_file():
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return FileResponse(target, headers={"Cache-Control": cache})
        if path.endswith("/") and path.strip("/"):
            raise HTTPException(404)  # lets the trailing-slash redirect answer
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return True
