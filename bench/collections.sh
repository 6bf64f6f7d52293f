#!/usr/bin/env bash
# SADD, HSET, ZADD and LPUSH through a 3-node dynakv cluster against single-node Redis, same run, same
# machine: redis-benchmark -P 1, 50 clients, each command on 1,000 keys (-r 1000):
#   SADD s:__rand_int__ m:__rand_int__     HSET h:__rand_int__ f:__rand_int__ v
#   ZADD z:__rand_int__ __rand_int__ m:__rand_int__     LPUSH l:__rand_int__ e:__rand_int__
# (one key per command name and random number: with the default -n 100000 each key ends with
# about 100 members).
#   1. a real redis-server (AOF everysec, no RDB);
#   2. a 3-node dynakv cluster (N=3, W=2 quorum), the 50 clients spread over the three nodes
#      (17/17/16). SADD, HSET and ZADD run as convergent-collection writes on the node they came
#      through (server/cluster_collections.h, cluster_zsets.h: no read, a delta to the other
#      replicas). LPUSH runs as a convergent list write on the key's primary replica
#      (server/cluster_lists.h: forwarded there when the client's node is not it, no read, a delta
#      to the other replicas).
# Prints ops/s, the ratio to Redis (the issue's target for SADD/HSET: >= 0.5x) and the servers'
# CPU time per request (user+system of every server process of the target, in microseconds):
# the machine is shared, so the CPU figure is the steadier one.
# --baseline DYNAKV_SERVER: a second 3-node cluster of an older dynakv-server, run the same way
# right after this build's in every row (a change measured A/B in one run on a shared machine).
#
#   [ROWS="LPUSH ..."] bench/collections.sh [--record] [-n REQUESTS] [--baseline SERVER] [BUILD_DIR]
#   (ROWS: a subset)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
baseline=""
bench_option() {
  case "$1" in
    --baseline) baseline=$2; bench_took=2 ;;
    *) return 1 ;;
  esac
}
bench_args 100000 "$@"
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "no baseline server at $baseline" >&2; exit 1; }
redis=redis-server
require_servers "$dynakv"
server_cpu=() client_cpu=()
start_scratch collections
tick_us=$((1000000 / $(getconf CLK_TCK)))

# The command of each row.
declare -A commands=(
  [SADD]="SADD s:__rand_int__ m:__rand_int__"
  [HSET]="HSET h:__rand_int__ f:__rand_int__ v"
  [ZADD]="ZADD z:__rand_int__ __rand_int__ m:__rand_int__"
  [LPUSH]="LPUSH l:__rand_int__ e:__rand_int__"
)
# ops/s of one redis-benchmark run: port clients requests (of $command)
rps() {
  # shellcheck disable=SC2086
  redis-benchmark -p "$1" -c "$2" -n "$3" -r 1000 --csv $command 2>/dev/null |
    awk -F'"' 'NR==2 {print $4}'
}


load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_server redis "$redis" --save '' --appendonly yes --appendfsync everysec
if [ -n "$baseline" ]; then
  dynakv_built=$dynakv dynakv=$baseline
  start_cluster base_ 3
  bports=("${cports[@]}") bpids=("${cpids[@]}") dynakv=$dynakv_built
fi
start_cluster n3_ 3
spread_requests=$(( 3 * (requests / 3) ))
table=$(
  echo "| command | redis-server ops/s | dynakv 3 nodes ops/s | vs redis | redis CPU µs/req | dynakv CPU µs/req (3 nodes) |${baseline:+ baseline ops/s | baseline vs redis | baseline CPU µs/req |}"
  echo "|---|---|---|---|---|---|${baseline:+---|---|---|}"
  for name in ${ROWS:-SADD HSET ZADD LPUSH}; do
    command=${commands[$name]}
    before=$(cpu_ticks "$pid")
    redis_rps=$(rps "$port" 50 "$requests")
    redis_cpu=$(( ($(cpu_ticks "$pid") - before) * tick_us ))
    before=$(cpu_ticks "${cpids[@]}")
    n3_rps=$(spread "${cports[@]}")
    n3_cpu=$(( ($(cpu_ticks "${cpids[@]}") - before) * tick_us ))
    line=$(awk -v n="$name" -v r="$redis_rps" -v c="$n3_rps" -v rc="$redis_cpu" -v cc="$n3_cpu" \
      -v rq="$requests" -v cq="$spread_requests" \
      'BEGIN {printf "| %s | %.0f | %.0f | %.2f | %.1f | %.1f |", n, r, c, c / r, rc / rq, cc / cq}')
    if [ -n "$baseline" ]; then
      before=$(cpu_ticks "${bpids[@]}")
      base_rps=$(spread "${bports[@]}")
      base_cpu=$(( ($(cpu_ticks "${bpids[@]}") - before) * tick_us ))
      line+=$(awk -v r="$redis_rps" -v c="$base_rps" -v cc="$base_cpu" -v cq="$spread_requests" \
        'BEGIN {printf " %.0f | %.2f | %.1f |", c, c / r, cc / cq}')
    fi
    echo "$line"
  done
)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$table"
echo "load average before: $load_before, after: $load_after"
if [ "$record" = 1 ]; then
  {
    record_header "${ROWS:-SADD/HSET/ZADD/LPUSH} through a 3-node cluster vs Redis (bench/collections.sh)"
    [ -z "$baseline" ] || echo "- baseline: $baseline (an older dynakv-server's cluster, run right after this build's in each row)"
    echo "- command: \`bench/collections.sh --record -n $requests${baseline:+ --baseline $baseline}\` (redis-benchmark -P 1, 50" \
      "clients, -r 1000: 1,000 keys per command); N=3 W=2, clients spread over the 3 nodes; no" \
      "pinning: the nodes, the benchmark and the other engineers' work share the cores (machine" \
      "loaded, load average $load_before before, $load_after after). CPU: user+system of all" \
      "server processes of the target over the run, per request."
    echo
    echo "$table"
  } >> "$root/bench/RESULTS.md"
fi
