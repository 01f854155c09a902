"""The web UI: the files ``npm run build`` writes into ``airunway/server/static`` (shipped in the package), served
at ``/`` next to the API. They are answered from the 404 handler, so no route competes with the API: a GET or HEAD
of a non-API path that names a built file gets it, any other such path gets ``index.html`` (the UI's own router
handles it). Hashed files under ``/assets`` are cached for a year; ``index.html`` is always revalidated. Without a
build, non-API paths answer 404 with a hint."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def root_of(setting: str | None) -> Path:
    return Path(setting) if setting else STATIC


def serve(root: Path, path: str) -> FileResponse | None:
    """The answer for ``path`` (URL path, leading slash included) from the build in ``root``; None without one."""
    index = root / "index.html"
    if not index.is_file():
        return None
    base = root.resolve()
    relative = path.lstrip("/")
    target = (base / relative).resolve()
    if relative and target.is_relative_to(base) and target.is_file():
        cache = IMMUTABLE if relative.startswith("assets/") else "no-cache"
        return FileResponse(target, headers={"Cache-Control": cache})
    return FileResponse(index, headers={"Cache-Control": "no-cache"})
