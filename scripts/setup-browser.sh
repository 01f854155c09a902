#!/usr/bin/env bash
# The browser the UI's end-to-end tests drive: Debian's Chromium, with fonts for text and emoji (installed with
# apt-get when missing).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/truetype/noto ]; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" "Chromium for the browser tests" chromium fonts-dejavu-core fonts-noto-color-emoji
