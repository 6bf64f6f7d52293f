#!/usr/bin/env bash
# One command for a newcomer: install deps, build, start a node on the embedded default config
# (port 6379, data in ./data). Extra arguments go to the server, e.g. scripts/run.sh --port 7000.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
exec "${BUILD_DIR:-$root/build}/server/dynakv-server" "$@"
