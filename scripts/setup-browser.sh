#!/usr/bin/env bash
# The browser the UI's end-to-end tests drive: Debian's Chromium, with fonts for text and emoji (installed with
# apt-get when missing).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/truetype/noto ]; then
  exit 0
fi
echo "==> installing Chromium for the browser tests"
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null
