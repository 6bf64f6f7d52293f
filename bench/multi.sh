#!/usr/bin/env bash
# Benchmarks MULTI/EXEC transactions of three commands (SET k v, INCR k:n, GET k) on dynakv-server
# against redis-server 7 on the same machine, with the settings of bench.sh (both log every write
# with appendfsync everysec, Redis: AOF only; servers pinned to CPU 0, the client to CPU 1 when
# taskset exists; each test runs against dynakv, then redis, once neither has background disk
# work left). The load is dynakv-loadgen -t multi (bench/loadgen.cc): 50 connections, 3-byte
# values, -P 1 and -P 16 transactions per batch. The machine is shared and noisy, so besides
# throughput and latency it reports each server's CPU time per transaction (utime + stime of the
# server process over the run, from /proc/PID/stat), which other load on the box disturbs less.
#
#   bench/multi.sh [--record] [-s SECONDS] [BUILD_DIR]
#
# Prints a markdown table; --record appends it, with commands, date, machine and load, to
# bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
seconds=10
bench_option() { [ "$1" = -s ] && seconds=$2 bench_took=2; }
bench_args 0 "$@"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "-s takes a number" >&2; exit 1; }
loadgen=${DYNAKV_LOADGEN:-$build/bench/dynakv-loadgen}
require_servers "$dynakv"
[ -x "$loadgen" ] || { echo "no dynakv-loadgen at $loadgen (--target dynakv-loadgen)" >&2; exit 1; }
redis=$(command -v redis-server)

start_scratch multi
pin_cpus
start_server dynakv "$dynakv" --appendfsync everysec
dynakv_port=$port dynakv_pid=$pid
start_server redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
redis_port=$port redis_pid=$pid

hz=$(getconf CLK_TCK)
loadgen_args() { echo "-c 50 -P $1 -d 3 -s $seconds -r 100000 -t multi --csv"; }
# run NAME PORT PID P: "rps","p50","p99","requests","cpu us per transaction" in $tmp/NAME.P.csv
run() {
  echo "  $1: pipeline $4 ..." >&2
  quiesce "$dynakv_port" "$redis_port"
  local before after
  before=$(cpu_ticks "$3")
  # shellcheck disable=SC2046
  "${client_cpu[@]}" timeout 600 "$loadgen" -p "$2" $(loadgen_args "$4") >"$tmp/$1.$4.out" \
    2>"$tmp/$1.err" || { cat "$tmp/$1.err" >&2; exit 1; }
  after=$(cpu_ticks "$3")
  awk -F'","' -v ticks=$((after - before)) -v hz="$hz" '
    { gsub(/^"|"$/, ""); printf "%s,%s,%s,%s,%.2f\n", $2, $3, $4, $5, ticks / hz * 1e6 / $5 }
  ' "$tmp/$1.$4.out" >"$tmp/$1.$4.csv"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for pipeline in 1 16; do
  run dynakv "$dynakv_port" "$dynakv_pid" "$pipeline"
  run redis "$redis_port" "$redis_pid" "$pipeline"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table() {
  echo -n "| test | pipeline | dynakv tx/s | redis tx/s | ratio | dynakv p50 / p99 ms "
  echo "| redis p50 / p99 ms | p99 ratio | dynakv / redis server CPU us per tx |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for pipeline in 1 16; do
    IFS=, read -r d_rps d_p50 d_p99 _ d_cpu <"$tmp/dynakv.$pipeline.csv"
    IFS=, read -r r_rps r_p50 r_p99 _ r_cpu <"$tmp/redis.$pipeline.csv"
    awk -v p="$pipeline" -v dr="$d_rps" -v rr="$r_rps" -v d50="$d_p50" -v d99="$d_p99" \
      -v r50="$r_p50" -v r99="$r_p99" -v dc="$d_cpu" -v rc="$r_cpu" 'BEGIN {
      printf "| MULTI SET INCR GET EXEC | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f | %s / %s |\n",
        p, dr, rr, (rr > 0 ? dr / rr : 0), d50, d99, r50, r99, (r99 > 0 ? d99 / r99 : 0), dc, rc }'
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "MULTI/EXEC of 3 commands (bench/multi.sh)"
    echo "- command: \`bench/multi.sh -s $seconds\`, that is, per pipeline P:"
    echo "  \`dynakv-loadgen $(loadgen_args P)\` (a request is MULTI, SET k v, INCR k:n, GET k, EXEC)"
    echo "- server CPU per transaction: utime + stime of the server process over the run"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
