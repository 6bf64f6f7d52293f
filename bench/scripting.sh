#!/usr/bin/env bash
# Benchmarks EVALSHA on dynakv-server against redis-server 7 on the same machine, with the
# settings of bench.sh (both log every write with appendfsync everysec, Redis: AOF only; servers
# pinned to CPU 0, the client to CPU 1 when taskset exists; each run against dynakv, then redis).
#
#   bench/scripting.sh [--record] [-n REQUESTS] [BUILD_DIR]
#
# redis-benchmark -c 50 -r 100000, at pipeline depth 1 and 16, of
#   EVALSHA <sha> 1 k:<random>   a script doing GET, INCR and EXPIRE on its key
# Besides ops/s and latency, the server's CPU time per request (user + system, from /proc): the
# machine is shared, so throughput alone is noisy; CPU per request is what the server spent.
# -n sets the requests per run (default 200000). Prints a markdown table; --record appends it,
# with commands, date, machine and load, to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 200000 "$@"
require_servers "$dynakv"
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
redis=$(command -v redis-server)

start_scratch scripting
pin_cpus
start_server dynakv "$dynakv" --appendfsync everysec
dynakv_port=$port dynakv_pid=$pid
start_server redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
redis_port=$port redis_pid=$pid

script="local v = redis.call('GET', KEYS[1]) local n = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], 100) return n"
sha=$(redis-cli -p "$dynakv_port" SCRIPT LOAD "$script")
[ "$(redis-cli -p "$redis_port" SCRIPT LOAD "$script")" = "$sha" ] || { echo "SCRIPT LOAD differs" >&2; exit 1; }

bench_cmd() {  # bench_cmd P: the redis-benchmark arguments (without -p)
  echo "-c 50 -n $requests -r 100000 -P $1 --csv EVALSHA $sha 1 k:__rand_int__"
}
run() {  # run NAME PORT PID P: the CSV row in $tmp/NAME.P.csv, CPU us/request in $tmp/NAME.P.cpu
  echo "  $1: EVALSHA, pipeline $4 ..." >&2
  quiesce "$dynakv_port" "$redis_port"
  local before after
  before=$(cpu_ticks "$3")
  # shellcheck disable=SC2046
  "${client_cpu[@]}" timeout 1200 redis-benchmark -p "$2" $(bench_cmd "$4") \
    >"$tmp/$1.$4.csv" 2>"$tmp/$1.err" || { cat "$tmp/$1.err" >&2; exit 1; }
  after=$(cpu_ticks "$3")
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "%.2f", t / hz * 1e6 / n }' >"$tmp/$1.$4.cpu"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for pipeline in 1 16; do
  run dynakv "$dynakv_port" "$dynakv_pid" "$pipeline"
  run redis "$redis_port" "$redis_pid" "$pipeline"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
# Every run wrote: both servers hold the same counters.
for p in "$dynakv_port" "$redis_port"; do
  [ "$(redis-cli -p "$p" DBSIZE)" -gt 0 ] || { echo "no keys written on port $p" >&2; exit 1; }
done

# One row from two CSVs ("test","rps","avg","min","p50","p95","p99","max") and the CPU figures.
row() {  # row P
  awk -F'","' -v p="$1" -v dcpu="$(cat "$tmp/dynakv.$1.cpu")" -v rcpu="$(cat "$tmp/redis.$1.cpu")" '
    { gsub(/^"|"$/, "") }
    $1 == "test" { next }
    NR == FNR { rps = $2; p50 = $5; p99 = $7; next }
    { printf "| EVALSHA (GET+INCR+EXPIRE) | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f | %s | %s |\n",
             p, $2, rps, (rps > 0 ? $2 / rps : 0), $5, $7, p50, p99, (p99 > 0 ? $7 / p99 : 0),
             dcpu, rcpu }
  ' "$tmp/redis.$1.csv" "$tmp/dynakv.$1.csv"
}
table() {
  echo -n "| test | pipeline | dynakv ops/s | redis ops/s | ops ratio "
  echo "| dynakv p50 / p99 ms | redis p50 / p99 ms | p99 ratio | dynakv CPU us/req | redis CPU us/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for pipeline in 1 16; do row "$pipeline"; done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "EVALSHA (bench/scripting.sh)"
    echo "- script: \`$script\`"
    echo "- command: \`bench/scripting.sh -n $requests\`, that is, per pipeline P:"
    echo "  \`redis-benchmark $(bench_cmd P)\`"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
