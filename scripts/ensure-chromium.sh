#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through its executable path (playwright-core
# downloads no browser); install it once when it is missing.
set -euo pipefail

[ -x /usr/bin/chromium ] && exit 0
echo "installing chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
