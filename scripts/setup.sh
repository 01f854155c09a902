#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine; safe to run again (quick when nothing changed).
#   - a Python virtual environment in .venv with the package and its test dependencies
#   - the control-plane binaries (kube-apiserver, etcd, kwok, kubectl, helm…), built from the
#     pinned Go modules in hack/ into ~/.cache/airunway/bin/<key> (the first build takes a while)
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required ($2)" >&2; exit 1; }; }
need python3 "Python 3.11 or newer"
need go "Go 1.26 or newer, to build the local control plane"

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.airunway-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing Python packages"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
  touch "$stamp"
fi

echo "==> control-plane binaries"
.venv/bin/airunway sandbox build >/dev/null

# The API's TypeScript package (@airunway/shared: types generated from the OpenAPI schema, a typed client), which
# the web UI imports: its packages (the generator among them) installed when its lock file changed.
if [ -f packages/shared/package.json ]; then
  need npm "Node.js 20 or newer with npm, to build the web UI"
  if [ ! -f packages/shared/node_modules/.airunway-installed ] || [ packages/shared/package-lock.json -nt packages/shared/node_modules/.airunway-installed ]; then
    echo "==> installing the API's TypeScript package"
    (cd packages/shared && npm ci --no-audit --no-fund --loglevel=error)
    touch packages/shared/node_modules/.airunway-installed
  fi
fi

# The web UI: built into airunway/server/static when its sources changed (npm ci only when the lock file did).
if [ -f frontend/package.json ]; then
  need npm "Node.js 20 or newer with npm, to build the web UI"
  if [ ! -f frontend/node_modules/.airunway-installed ] || [ frontend/package-lock.json -nt frontend/node_modules/.airunway-installed ]; then
    echo "==> installing web UI packages"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
    touch frontend/node_modules/.airunway-installed
  fi
  ui_hash=$(cd frontend && cat package-lock.json index.html vite.config.ts tsconfig.json $(find src public ../packages/shared/src -type f | sort) | sha256sum | cut -c1-16)
  if [ "$(cat src/airunway/server/static/.build-hash 2>/dev/null)" != "$ui_hash" ]; then
    echo "==> building the web UI"
    (cd frontend && npm run --silent build >/dev/null)
    echo "$ui_hash" > src/airunway/server/static/.build-hash
  fi
fi
