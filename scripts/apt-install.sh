#!/usr/bin/env bash
# apt-get install of Debian packages (with sudo when not root), quietly: scripts/apt-install.sh WHY PACKAGE...
set -euo pipefail
why=$1; shift
echo "==> installing $why"
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
