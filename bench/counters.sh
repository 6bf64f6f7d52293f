#!/usr/bin/env bash
# Counter INCR through a 3-node dynakv cluster against single-node Redis INCR, same run, same
# machine: redis-benchmark -t incr (-P 1, -r 100000 keys)
#   1. a real redis-server (AOF everysec, no RDB), 50 clients;
#   2. a 3-node dynakv cluster (N=3, W=2 quorum): 50 clients spread over the three nodes
#      (17/17/16). Each INCR runs as a PN-counter increment on the node it came through (every
#      node is a replica with N=3), written to W replicas without a read;
#   3. the same with N=2, where a third of the INCRs come through a node that is no replica of
#      their key and are forwarded to one that is (one more bus round trip).
# Prints ops/s, the ratio to Redis (the issue's target: >= 0.5x) and the servers' CPU time per
# request (user+system of every server process of the target, in microseconds): the machine is
# shared, so the CPU figure is the steadier one. On a 2-core box the three nodes and the
# benchmark share the cores.
#
#   bench/counters.sh [--record] [-n REQUESTS] [BUILD_DIR]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 100000 "$@"
redis=redis-server
require_servers "$dynakv"
server_cpu=() client_cpu=()
start_scratch counters
tick_us=$((1000000 / $(getconf CLK_TCK)))

# ops/s of one redis-benchmark run: port clients requests
rps() {
  redis-benchmark -p "$1" -c "$2" -n "$3" -t incr -r 100000 --csv 2>/dev/null |
    awk -F'"' 'NR==2 {print $4}'
}


load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_server redis "$redis" --save '' --appendonly yes --appendfsync everysec
before=$(cpu_ticks "$pid")
redis_rps=$(rps "$port" 50 "$requests")
redis_cpu=$(( ($(cpu_ticks "$pid") - before) * tick_us ))

start_cluster n3_ 3
before=$(cpu_ticks "${cpids[@]}")
n3_rps=$(spread "${cports[@]}")
n3_cpu=$(( ($(cpu_ticks "${cpids[@]}") - before) * tick_us ))

start_cluster n2_ 2
before=$(cpu_ticks "${cpids[@]}")
n2_rps=$(spread "${cports[@]}")
n2_cpu=$(( ($(cpu_ticks "${cpids[@]}") - before) * tick_us ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The requests each run made: the spread runs make 3 * (requests / 3).
spread_requests=$(( 3 * (requests / 3) ))
table=$(
  echo "| target | INCR ops/s | vs redis | server CPU µs/request |"
  echo "|---|---|---|---|"
  row() {
    awk -v n="$1" -v r="$2" -v base="$redis_rps" -v cpu="$3" -v req="$4" \
      'BEGIN {printf "| %s | %.0f | %.2f | %.1f |\n", n, r, r / base, cpu / req}'
  }
  row "redis-server (1 node), 50 clients" "$redis_rps" "$redis_cpu" "$requests"
  row "dynakv 3 nodes, N=3 W=2, 50 clients spread over 3 nodes" "$n3_rps" "$n3_cpu" \
    "$spread_requests"
  row "dynakv 3 nodes, N=2 W=2, 50 clients spread (1/3 forwarded)" "$n2_rps" "$n2_cpu" \
    "$spread_requests"
)
echo "$table"
echo "load average before: $load_before, after: $load_after"
if [ "$record" = 1 ]; then
  {
    record_header "counter INCR through a 3-node cluster vs Redis (bench/counters.sh)"
    echo "- command: \`bench/counters.sh --record -n $requests\` (redis-benchmark -t incr -P 1" \
      "-r 100000); no pinning: the three nodes, the benchmark and the other engineers' work" \
      "share the cores (the machine was loaded). CPU: user+system of all server processes of" \
      "the target over the run, per request."
    echo
    echo "$table"
  } >> "$root/bench/RESULTS.md"
fi
