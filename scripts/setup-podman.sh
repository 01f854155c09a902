#!/usr/bin/env bash
# What `make image` needs: Debian's podman (with the runc runtime) and mmdebstrap, installed with apt-get when
# missing. Every podman file lives under the project's cache (see scripts/podman.sh): nothing is configured here.
set -euo pipefail
if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" "podman and mmdebstrap for the container image" podman runc conmon mmdebstrap
