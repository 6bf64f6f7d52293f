#!/usr/bin/env bash
# The cache simulator of issue 16 (bench/cachesim.cc) against redis-server (allkeys-lru,
# allkeys-lfu) and dynakv (each cache policy) at the same maxmemory, one fresh server per run.
# Prints one row per stream and server: hit ratio, requests/s, RSS after the run.
#
#   bench/cachesim.sh [-n REQUESTS] [-k KEYS] [-m MAXMEMORY] [-P PIPELINE] [--record] [BUILD_DIR]
# Default (a few minutes on 2 cores): -n 1000000 -k 200000 -m 16mb -P 16.
# The issue's full size: -n 10000000 -k 2000000 -m 64mb.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

requests=1000000 keys=200000 maxmemory=16mb pipeline=16 record=0 build=build
while [ $# -gt 0 ]; do
  case "$1" in
    -n) requests=$2; shift 2 ;;
    -k) keys=$2; shift 2 ;;
    -m) maxmemory=$2; shift 2 ;;
    -P) pipeline=$2; shift 2 ;;
    --record) record=1; shift ;;
    *) build=$1; shift ;;
  esac
done
dynakv=$build/server/dynakv-server
sim=$build/bench/dynakv-cachesim
require_servers "$dynakv"
[ -x "$sim" ] || { echo "no $sim (cmake --build $build --target dynakv-cachesim)" >&2; exit 1; }
start_scratch cachesim
port=$((21000 + RANDOM % 2000))

streams=(zipf:0.8 zipf:1.0 scan shift)
servers=("redis allkeys-lru" "redis allkeys-lfu" "dynakv allkeys-lru" "dynakv allkeys-lfu"
         "dynakv allkeys-random" "dynakv allkeys-tinylfu")
out=$tmp/table
printf '| stream | server | policy | hit ratio | requests/s | RSS MB |\n|---|---|---|---|---|---|\n' >"$out"
for stream in "${streams[@]}"; do
  for entry in "${servers[@]}"; do
    read -r server policy <<<"$entry"
    port=$((port + 1))
    if [ "$server" = redis ]; then
      taskset -c 0 redis-server --port "$port" --save '' --appendonly yes --appendfsync everysec \
        --dir "$tmp" --appendfilename "r$port.aof" --maxmemory "$maxmemory" \
        --maxmemory-policy "$policy" >/dev/null 2>&1 &
    else
      mkdir -p "$tmp/d$port"
      taskset -c 0 "$dynakv" --port "$port" --dir "$tmp/d$port" --maxmemory "$maxmemory" \
        --maxmemory-policy "$policy" >/dev/null 2>&1 &
    fi
    pid=$!
    pids+=("$pid")
    wait_ready "$port"
    line=$(taskset -c 1 "$sim" -p "$port" -n "$requests" -k "$keys" -P "$pipeline" --stream "$stream")
    rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    ratio=$(sed -n 's/.*hit_ratio=\([0-9.]*\).*/\1/p' <<<"$line")
    ops=$(sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p' <<<"$line")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$stream" "$server" "$policy" "$ratio" "$ops" "$rss" | tee -a "$out"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  done
done
if [ "$record" = 1 ]; then
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC') cache simulator (issue 16)"
    echo
    echo "- command: \`bench/cachesim.sh -n $requests -k $keys -m $maxmemory -P $pipeline\`"
    echo "- commit: $(git rev-parse --short HEAD); machine: $(nproc) CPUs, shared"
    echo
    cat "$out"
  } >>bench/RESULTS.md
fi
