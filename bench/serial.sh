#!/usr/bin/env bash
# SERIAL (Paxos) against QUORUM on a 3-node cluster (N=3), same run, same machine: latency p50 /
# p99 and ops/s of redis-benchmark with custom commands, one client (-c 1: the round trips of one
# request, no contention) and ten (-c 10), all through node 1, random keys (-r 100000):
#   QUORUM SET k v            (blind write: one round trip to the replicas)
#   QUORUM SET k v NX         (read, then write: two)
#   SERIAL SET k v NX         (prepare+read, propose, commit: three, plus log syncs)
#   SERIAL GET k              (prepare+read, propose of a no-op: two; its commit is not awaited)
#   QUORUM / SERIAL MULTI     (MULTI, SET {t}:a, SET {t}:b, EXEC pipelined in one round trip, by
#                              bench/serial_multi.py: the transaction reads both keys, then writes
#                              both as one batch (QUORUM) or as one Paxos round of the tag, the
#                              prepare carrying the read (SERIAL))
# and the three servers' CPU time per request (user+system, all nodes together). The machine is
# shared: CPU per request is steadier than ops/s.
#
#   bench/serial.sh [--record] [-n REQUESTS] [BUILD_DIR]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 5000 "$@"
redis=redis-server
require_servers "$dynakv"

start_scratch serial
start_cluster n 3
sleep 1  # the bus connections come up
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# run NAME CLIENTS COMMAND...: one row "| NAME | c | ops/s | p50 | p99 | CPU us/request |"
run() {
  local name=$1 clients=$2
  shift 2
  local before after csv
  before=$(cpu_ticks "${pids[@]}")
  csv=$(redis-benchmark -p "${cports[0]}" -c "$clients" -n "$requests" -r 100000 --csv "$@" 2>/dev/null |
    tail -1)
  after=$(cpu_ticks "${pids[@]}")
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  echo "$csv" | awk -F'","' -v n="$name" -v c="$clients" -v t=$((after - before)) \
    -v hz="$(getconf CLK_TCK)" -v r="$requests" \
    '{gsub(/"/, "", $NF); printf "| %s | %d | %.0f | %s | %s | %.0f |\n", n, c, $2, $5, $7, t * 1e6 / hz / r}'
}

rows=()
for c in 1 10; do
  rows+=("$(run "QUORUM SET k v" $c SET "k:__rand_int__" v)")
  rows+=("$(run "QUORUM SET k v NX" $c SET "k:__rand_int__" v NX)")
  rows+=("$(run "SERIAL SET k v NX" $c SET "s:__rand_int__" v NX W SERIAL)")
  rows+=("$(run "SERIAL GET k" $c GET "s:__rand_int__" R SERIAL)")
  for level in QUORUM SERIAL; do
    before=$(cpu_ticks "${pids[@]}")
    read -r ops p50 p99 errors < <(python3 "$root/bench/serial_multi.py" "${cports[0]}" "$c" \
      "$requests" "$level")
    after=$(cpu_ticks "${pids[@]}")
    [ "$errors" = 0 ] || echo "serial.sh: $errors $level transactions failed" >&2
    rows+=("$(awk -v n="$level MULTI SET a, SET b EXEC" -v c="$c" -v o="$ops" -v p50="$p50" \
      -v p99="$p99" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v r="$requests" \
      'BEGIN {printf "| %s | %d | %s | %s | %s | %.0f |\n", n, c, o, p50, p99, t * 1e6 / hz / r}')")
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(
  echo "| request | clients | ops/s | p50 ms | p99 ms | server CPU us/request (3 nodes) |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)
echo "$table"
if [ "$record" = 1 ]; then
  {
    record_header "SERIAL (Paxos) vs QUORUM latency, 3-node cluster"
    echo "- command: \`bench/serial.sh --record -n $requests\` (redis-benchmark custom commands" \
      "through node 1, -r 100000; N=3, appendfsync everysec; nodes and benchmark unpinned," \
      "sharing the machine with other engineers' builds and tests)"
    echo
    echo "$table"
  } >> "$root/bench/RESULTS.md"
fi
