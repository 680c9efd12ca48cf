#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium for the browser tests (the dashboard's), after
# installing Debian's `chromium` package with apt-get on first use. The tests drive it with
# playwright-core, which downloads no browser of its own.
#
#   scripts/chromium.sh          installs if missing, prints the path
#
# CHROMIUM_PATH, when set to an executable, is used as is (another browser build, say).
# apt-get's output goes to .data/logs/install.log and is shown only when it fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOG="$ROOT/.data/logs/install.log"

if [[ -n ${CHROMIUM_PATH:-} && -x $CHROMIUM_PATH ]]; then
  echo "$CHROMIUM_PATH"
  exit 0
fi

find_chromium() { command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ! path=$(find_chromium); then
  mkdir -p "$(dirname "$LOG")"
  echo "chromium.sh: installing chromium with apt-get (first use only; output in ${LOG#"$ROOT"/})" >&2
  {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        chromium fonts-liberation
  } >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "chromium.sh: apt-get install chromium failed" >&2
    exit 1
  }
  path=$(find_chromium) || {
    echo "chromium.sh: chromium installed but not on PATH" >&2
    exit 1
  }
fi
echo "$path"
