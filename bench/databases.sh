#!/usr/bin/env bash
# Benchmarks SET and GET in database 1 (redis-benchmark --dbnum 1: each connection SELECTs 1
# first) and in database 0, on dynakv-server, on a baseline dynakv-server from before numbered
# databases (optional, database 0 only: its numbers must not get worse), and on redis-server 7, all in
# one run with the settings of bench.sh (appendfsync everysec, Redis: AOF only; servers pinned to
# CPU 0, the client to CPU 1 when taskset exists; each test runs against every server in turn,
# once none has background disk work left).
#
#   bench/databases.sh [--record] [-n REQUESTS] [--baseline DYNAKV_SERVER] [BUILD_DIR]
#
# redis-benchmark -c 50 -r 100000 -d 3 -t set,get --dbnum D -P P for D in 0 1 and P in 1 16.
# Besides throughput and latency, the server's own CPU time per request (user + system, from
# /proc/PID/stat around each run): on a shared, noisy machine throughput moves with the load of
# others, CPU per request much less. -n: requests per run (default 300000). Prints a markdown
# table; --record appends it, with commands, date, machine and load, to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
baseline=""
bench_option() { [ "$1" = --baseline ] && baseline=$2 bench_took=2; }
bench_args 300000 "$@"
require_servers "$dynakv"
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "no baseline server at $baseline" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
redis=$(command -v redis-server)

start_scratch databases
pin_cpus
declare -A port_of pid_of
# start NAME BINARY ARGS...: start_server, remembering NAME's port and pid.
start() {
  start_server "$@"
  port_of[$1]=$port
  pid_of[$1]=$pid
}
servers=(dynakv)
start dynakv "$dynakv" --appendfsync everysec
if [ -n "$baseline" ]; then
  servers+=(baseline)
  start baseline "$baseline" --appendfsync everysec
fi
servers+=(redis)
start redis "$redis" --save "" --appendonly yes --appendfsync everysec --databases 16 \
  --daemonize no

ticks_per_second=$(getconf CLK_TCK)

run() {  # run NAME TEST DB P: CSV row in $tmp/NAME.TEST.DB.P.csv, CPU ticks in .cpu
  local name=$1 out="$tmp/$1.$2.$3.$4" before after
  echo "  $name: $2 db $3, pipeline $4 ..." >&2
  # shellcheck disable=SC2046
  quiesce $(for s in "${servers[@]}"; do echo "${port_of[$s]}"; done)
  before=$(cpu_ticks "${pid_of[$name]}")
  "${client_cpu[@]}" timeout 1200 redis-benchmark -p "${port_of[$name]}" -c 50 -n "$requests" \
    -r 100000 -d 3 --dbnum "$3" -P "$4" --csv -t "$2" >"$out.csv" 2>"$tmp/$name.err" ||
    { cat "$tmp/$name.err" >&2; exit 1; }
  after=$(cpu_ticks "${pid_of[$name]}")
  echo $((after - before)) >"$out.cpu"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for db in 1 0; do
  for test in set get; do
    for pipeline in 1 16; do
      for s in "${servers[@]}"; do
        # The baseline has database 0 only.
        [ "$s" = baseline ] && [ "$db" != 0 ] && continue
        run "$s" "$test" "$db" "$pipeline"
      done
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# One server's numbers: ops/s, p50 / p99 ms, CPU µs per request.
cells() {  # cells NAME TEST DB P
  local f="$tmp/$1.$2.$3.$4"
  awk -F'","' -v ticks="$(cat "$f.cpu")" -v hz="$ticks_per_second" -v n="$requests" '
    { gsub(/^"|"$/, "") }
    $1 == "test" { next }
    { printf "%.0f | %s / %s | %.2f", $2, $5, $7, ticks / hz / n * 1e6 }
  ' "$f.csv"
}
rps() { awk -F'","' '{ gsub(/^"|"$/, "") } $1 != "test" { print $2 }' "$tmp/$1.$2.$3.$4.csv"; }
table() {
  local header="| test | db | pipeline | dynakv ops/s | dynakv p50 / p99 ms | dynakv CPU µs/req "
  local rule="|---|---|---|---|---|---|"
  if [ -n "$baseline" ]; then
    header+="| baseline ops/s | baseline p50 / p99 ms | baseline CPU µs/req "
    rule+="---|---|---|"
  fi
  header+="| redis ops/s | redis p50 / p99 ms | redis CPU µs/req | ops dynakv/redis |"
  rule+="---|---|---|---|"
  echo "$header"
  echo "$rule"
  for db in 1 0; do
    for test in set get; do
      for pipeline in 1 16; do
        line="| ${test^^} | $db | $pipeline | $(cells dynakv "$test" "$db" "$pipeline") "
        if [ -n "$baseline" ] && [ "$db" = 0 ]; then
          line+="| $(cells baseline "$test" "$db" "$pipeline") "
        elif [ -n "$baseline" ]; then
          line+="| - | - | - "
        fi
        line+="| $(cells redis "$test" "$db" "$pipeline") "
        line+="| $(awk -v a="$(rps dynakv "$test" "$db" "$pipeline")" \
          -v b="$(rps redis "$test" "$db" "$pipeline")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') |"
        echo "$line"
      done
    done
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "numbered databases (bench/databases.sh)"
    [ -z "$baseline" ] ||
      echo "- baseline: $("$baseline" --version 2>/dev/null | head -1 || echo "$baseline")"
    echo "- command: \`bench/databases.sh -n $requests${baseline:+ --baseline $baseline}\`, that is,"
    echo "  per test T, database D and pipeline P, against each server in turn:"
    echo "  \`redis-benchmark -c 50 -n $requests -r 100000 -d 3 --dbnum D -P P --csv -t T\`"
    echo "- CPU µs/req: the server's user + system CPU time during the run / requests"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
fi
