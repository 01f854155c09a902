"""The API contract the TypeScript package ``@airunway/shared`` (packages/shared) is generated from.

1. ``packages/shared/openapi.json``: the dashboard's OpenAPI schema, from ``create_app().openapi()`` (no cluster
   needed; the version is left out so that a release does not change the contract).
2. ``packages/shared/src/api.gen.ts``: the TypeScript types, generated from that schema by openapi-typescript
   (``npm run generate`` in packages/shared; its packages are installed by scripts/setup.sh).

A unit test fails when either drifts.   .venv/bin/python hack/openapi.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from airunway.server.app import create_app

PACKAGE = Path(__file__).resolve().parents[1] / "packages" / "shared"
SCHEMA = PACKAGE / "openapi.json"
TYPES = PACKAGE / "src" / "api.gen.ts"


def schema() -> dict:
    """The OpenAPI schema as committed: the app's, without its version."""
    found = create_app(client=object()).openapi()  # type: ignore[arg-type] - no route runs
    found["info"].pop("version", None)
    return found


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=False) + "\n"


def generate(out: Path, source: Path = SCHEMA) -> None:
    """Run openapi-typescript on ``source`` into ``out``, as ``npm run generate`` does."""
    tool = PACKAGE / "node_modules" / ".bin" / "openapi-typescript"
    if not tool.exists():
        raise SystemExit(f"{tool} is missing: run scripts/setup.sh (or npm ci in {PACKAGE}) first")
    subprocess.run([str(tool), str(source), "--root-types", "--root-types-no-schema-prefix", "--output", str(out)],
                   check=True, capture_output=True, cwd=PACKAGE)


def main() -> None:
    SCHEMA.write_text(schema_text())
    generate(TYPES)
    print(f"wrote {SCHEMA} and {TYPES}", file=sys.stderr)


if __name__ == "__main__":
    main()
