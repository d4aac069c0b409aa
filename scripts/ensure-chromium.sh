#!/usr/bin/env bash
# The dashboard's browser test drives Debian's Chromium through playwright-core (no browser
# download). Installs it from Debian's packages when missing (needs root, as on CI machines).
set -euo pipefail

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM_PATH" ]; then
  echo "chromium: $("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium: not found at $CHROMIUM_PATH. Install it (Debian/Ubuntu: sudo apt-get install chromium)" >&2
  echo "or set CHROMIUM_PATH to a Chromium or Chrome binary." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "chromium: installed $("$CHROMIUM_PATH" --version 2>/dev/null)"
