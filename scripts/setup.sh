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
