#!/usr/bin/env bash
# One command that runs every test: installs deps, builds, then ctest (unit + integration).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 300 "$@"
