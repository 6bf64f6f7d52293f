#!/usr/bin/env bash
# Benchmarks many connections on dynakv-server against redis-server 7 on the same machine, with
# the settings of bench.sh (both log writes with appendfsync everysec, Redis: AOF only; servers
# pinned to CPU 0, the client to CPU 1 when taskset exists; each run goes against dynakv, then
# redis, once neither has background disk work left).
#
#   bench/clients.sh [--record] [-n REQUESTS] [BUILD_DIR]
#
# Per client count C in 1000, 5000 and 10000: redis-benchmark -c C -r 100000 -t set,get -P 1
# with 3-byte values (issue 15: p99 within 1.2x of Redis's at every count). The open-file limit
# is raised to fit (the script must be allowed to: root, or a hard limit of 20000+), and both
# servers get --maxclients 10100. Besides ops/s and latency, the table shows each server's CPU
# time per request (user + system, /proc/PID/stat), steadier than throughput on a shared machine.
# -n sets the requests per run (default 300000). --record appends the table, with the commands,
# date, machine and load, to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 300000 "$@"
require_servers "$dynakv"
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
redis=$(command -v redis-server)
counts=(1000 5000 10000)
maxclients=10100
# Each server needs a descriptor per client, and so does the benchmark.
ulimit -n 24000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((maxclients + 1000)) ] ||
  { echo "open-file limit $(ulimit -n) is too low for $maxclients clients" >&2; exit 1; }

start_scratch clients
pin_cpus
start_server dynakv "$dynakv" --appendfsync everysec --maxclients "$maxclients"
dynakv_port=$port dynakv_pid=$pid
start_server redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no \
  --maxclients "$maxclients"
redis_port=$port redis_pid=$pid

bench_cmd() {  # bench_cmd C: the redis-benchmark arguments (without -p)
  echo "-c $1 -n $requests -r 100000 -t set,get -P 1 --csv"
}
run() {  # run NAME PORT PID C: CSV in $tmp/NAME.C.csv, server CPU ticks in $tmp/NAME.C.cpu
  echo "  $1: $4 clients ..." >&2
  quiesce "$dynakv_port" "$redis_port"
  local before
  before=$(cpu_ticks "$3")
  # shellcheck disable=SC2046
  "${client_cpu[@]}" timeout 1200 redis-benchmark -p "$2" $(bench_cmd "$4") \
    >"$tmp/$1.$4.csv" 2>"$tmp/$1.err" || { cat "$tmp/$1.err" >&2; exit 1; }
  echo $(($(cpu_ticks "$3") - before)) >"$tmp/$1.$4.cpu"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for c in "${counts[@]}"; do
  run dynakv "$dynakv_port" "$dynakv_pid" "$c"
  run redis "$redis_port" "$redis_pid" "$c"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

hz=$(getconf CLK_TCK)
# Rows from two CSVs ("test","rps","avg","min","p50","p95","p99","max") and CPU tick counts
# (both tests of a run share the count: CPU per request is over SET and GET together).
rows() {
  awk -F'","' -v c="$1" -v n="$((2 * requests))" -v hz="$hz" -v rcpu="$(cat "$4")" \
    -v dcpu="$(cat "$5")" '
    { gsub(/^"|"$/, "") }
    $1 == "test" { next }
    NR == FNR { rps[$1] = $2; p50[$1] = $5; p99[$1] = $7; next }
    { printf "| %s | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f | %.2f / %.2f |\n",
             $1, c, $2, rps[$1], (rps[$1] > 0 ? $2 / rps[$1] : 0), $5, $7, p50[$1], p99[$1],
             (p99[$1] > 0 ? $7 / p99[$1] : 0), dcpu / hz * 1e6 / n, rcpu / hz * 1e6 / n }
  ' "$2" "$3"
}
table() {
  echo -n "| test | clients | dynakv ops/s | redis ops/s | ops ratio "
  echo "| dynakv p50 / p99 ms | redis p50 / p99 ms | p99 ratio | server CPU us/request dynakv / redis |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for c in "${counts[@]}"; do
    rows "$c" "$tmp/redis.$c.csv" "$tmp/dynakv.$c.csv" "$tmp/redis.$c.cpu" "$tmp/dynakv.$c.cpu"
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "many connections, SET/GET -P 1 (bench/clients.sh)"
    echo "- both servers: \`--maxclients $maxclients\`, \`ulimit -n $(ulimit -n)\`"
    echo "- command: \`bench/clients.sh -n $requests\`, that is, per client count C in ${counts[*]}:"
    echo "  \`redis-benchmark $(bench_cmd C)\`"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
