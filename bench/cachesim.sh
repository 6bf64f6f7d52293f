#!/usr/bin/env bash
# The cache simulator of issue 16 (bench/cachesim.cc) against redis-server (allkeys-lru,
# allkeys-lfu) and dynakv (each cache policy) at the same maxmemory, one fresh server per run.
# Prints one row per stream and server: hit ratio, requests/s, the server's CPU time per request
# (steadier than requests/s on a shared machine), RSS after the run.
#
#   bench/cachesim.sh [-n REQUESTS] [-k KEYS] [-m MAXMEMORY] [-P PIPELINE] [--record]
#                     [--streams "zipf:0.8 zipf:1.0 scan shift"]
#                     [--servers "redis:allkeys-lru redis:allkeys-lfu dynakv:allkeys-tinylfu ..."]
#                     [--timeout SECONDS] [BUILD_DIR]
# Default (a few minutes on 2 cores): -n 1000000 -k 200000 -m 16mb -P 16, every stream, Redis's
# allkeys-lru and allkeys-lfu and dynakv's allkeys-lru, allkeys-lfu, allkeys-random and
# allkeys-tinylfu. The issue's full size: -n 10000000 -k 2000000 -m 64mb. A run that takes longer
# than --timeout (default 1800 s) is stopped and its row says so. DYNAKV_SERVER overrides the
# server binary (a copy, so that rebuilding does not change what is measured).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

requests=1000000 keys=200000 maxmemory=16mb pipeline=16 record=0 build=build limit=1800
streams="zipf:0.8 zipf:1.0 scan shift"
servers="redis:allkeys-lru redis:allkeys-lfu dynakv:allkeys-lru dynakv:allkeys-lfu"
servers+=" dynakv:allkeys-random dynakv:allkeys-tinylfu"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) requests=$2; shift 2 ;;
    -k) keys=$2; shift 2 ;;
    -m) maxmemory=$2; shift 2 ;;
    -P) pipeline=$2; shift 2 ;;
    --record) record=1; shift ;;
    --streams) streams=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    *) build=$1; shift ;;
  esac
done
dynakv=${DYNAKV_SERVER:-$build/server/dynakv-server}
sim=$build/bench/dynakv-cachesim
require_servers "$dynakv"
[ -x "$sim" ] || { echo "no $sim (cmake --build $build --target dynakv-cachesim)" >&2; exit 1; }
start_scratch cachesim

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
out=$tmp/table
printf '| stream | server | policy | hit ratio | requests/s | server CPU us/request | RSS MB |\n' >"$out"
printf '|---|---|---|---|---|---|---|\n' >>"$out"
for stream in $streams; do
  for entry in $servers; do
    server=${entry%%:*} policy=${entry#*:}
    port=$(free_port)
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
    ticks=$(cpu_ticks "$pid")
    line=$(timeout "$limit" taskset -c 1 "$sim" -p "$port" -n "$requests" -k "$keys" -P "$pipeline" \
      --stream "$stream" || echo "timed out after $limit s")
    ticks=$(($(cpu_ticks "$pid") - ticks))
    rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    ratio=$(sed -n 's/.*hit_ratio=\([0-9.]*\).*/\1/p' <<<"$line")
    ops=$(sed -n 's/.*ops_per_sec=\([0-9]*\).*/\1/p' <<<"$line")
    # Requests served: the GETs and the SETs of their misses (what ops_per_sec counts).
    served=$(sed -n 's/.*requests=\([0-9]*\) hits=\([0-9]*\).*/\1 \2/p' <<<"$line" |
      awk '{ print 2 * $1 - $2 }')
    cpu_us=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="${served:-0}" \
      'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / hz / n; else print "-" }')
    [ -n "$ratio" ] || ratio="($line)"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$stream" "$server" "$policy" "$ratio" "${ops:--}" \
      "$cpu_us" "$rss" | tee -a "$out"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  done
done
if [ "$record" = 1 ]; then
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC') cache simulator (issue 16)"
    echo
    echo "- command: \`bench/cachesim.sh -n $requests -k $keys -m $maxmemory -P $pipeline --streams \"$streams\" --servers \"$servers\"\`"
    echo "- commit: $(git rev-parse --short HEAD); machine: $(nproc) CPUs, shared; load average"
    echo "  (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    cat "$out"
  } >>bench/RESULTS.md
fi
