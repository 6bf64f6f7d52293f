#!/usr/bin/env bash
# Installs the Debian packages dynakv builds, tests and benchmarks with. Needs root (or sudo).
set -euo pipefail
packages=(build-essential cmake pkg-config
          libuv1-dev libjemalloc-dev liblz4-dev libtomlplusplus-dev doctest-dev libhiredis-dev
          libxxhash-dev libssl-dev libsystemd-dev
          liblua5.1-0-dev lua-cjson-dev lua-bitop-dev openssl redis-tools redis-server iproute2
          logrotate systemd
          clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
