#!/usr/bin/env bash
# What per-command statistics cost (INFO commandstats, the latency histograms of INFO
# latencystats, the slow log's check): SET and GET through redis-benchmark against dynakv-server
# as built (latency-tracking yes, its default), the same binary with latency-tracking no, and a
# baseline dynakv-server from before the statistics (--baseline), each test against every server
# in turn, with the settings of bench.sh (appendfsync everysec; servers pinned to CPU 0, the
# client to CPU 1 when taskset exists; each run once no server has background disk work left).
#
#   bench/introspection.sh [--record] [-n REQUESTS] [-r ROUNDS] --baseline OLD_SERVER [BUILD_DIR]
#
# redis-benchmark -c 50 -r 100000 -d 3 -t set,get -P P for P in 16 and 1, ROUNDS times (default
# 3). The figure to read is the server's own CPU time per request (user + system, from
# /proc/PID/stat around each run), the median of the rounds: on a shared, loaded machine
# throughput moves with the others' load, CPU per request much less. -n: requests per run
# (default 400000). --record appends the table to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
rounds=3
baseline=""
bench_option() {
  case "$1" in
    -r) rounds=$2 bench_took=2 ;;
    --baseline) baseline=$2 bench_took=2 ;;
    *) return 1 ;;
  esac
}
bench_args 400000 "$@"
[[ "$rounds" =~ ^[0-9]+$ ]] || { echo "-r takes a number" >&2; exit 1; }
require_servers "$dynakv"
[ -n "$baseline" ] && [ -x "$baseline" ] || { echo "--baseline OLD_SERVER is needed" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
redis=$(command -v redis-server)

start_scratch introspection
pin_cpus
declare -A port_of pid_of
start() {
  start_server "$@"
  port_of[$1]=$port
  pid_of[$1]=$pid
}
servers=(tracking notracking baseline)
start tracking "$dynakv" --appendfsync everysec
start notracking "$dynakv" --appendfsync everysec --latency-tracking no
start baseline "$baseline" --appendfsync everysec
ticks_per_second=$(getconf CLK_TCK)

run() {  # run NAME TEST P ROUND: CSV row in $tmp/NAME.TEST.P.ROUND.csv, CPU ticks in .cpu
  local name=$1 out="$tmp/$1.$2.$3.$4" before after
  echo "  $name: $2, pipeline $3, round $4 ..." >&2
  # shellcheck disable=SC2046
  quiesce $(for s in "${servers[@]}"; do echo "${port_of[$s]}"; done)
  before=$(cpu_ticks "${pid_of[$name]}")
  "${client_cpu[@]}" timeout 1200 redis-benchmark -p "${port_of[$name]}" -c 50 -n "$requests" \
    -r 100000 -d 3 -P "$3" --csv -t "$2" >"$out.csv" 2>"$tmp/$name.err" ||
    { cat "$tmp/$name.err" >&2; exit 1; }
  after=$(cpu_ticks "${pid_of[$name]}")
  echo $((after - before)) >"$out.cpu"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$rounds"); do
  for pipeline in 16 1; do
    for test in set get; do
      for s in "${servers[@]}"; do run "$s" "$test" "$pipeline" "$round"; done
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# cells NAME TEST P: median ops/s and median CPU µs per request over the rounds.
cells() {
  local ops cpu
  ops=$(for r in $(seq "$rounds"); do
    awk -F'","' '{ gsub(/^"|"$/, "") } $1 != "test" { print $2 }' "$tmp/$1.$2.$3.$r.csv"
  done | median)
  cpu=$(for r in $(seq "$rounds"); do
    awk -v t="$(cat "$tmp/$1.$2.$3.$r.cpu")" -v hz="$ticks_per_second" -v n="$requests" \
      'BEGIN { printf "%.3f\n", t / hz / n * 1e6 }'
  done | median)
  printf "%.0f | %.2f" "$ops" "$cpu"
}
cpu_of() { cells "$@" | awk -F' [|] ' '{ print $2 }'; }
table() {
  echo "| test | pipeline | tracking ops/s | tracking CPU µs/req | no tracking ops/s | no tracking CPU µs/req | baseline ops/s | baseline CPU µs/req | CPU tracking/baseline |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for pipeline in 16 1; do
    for test in set get; do
      echo "| ${test^^} | $pipeline | $(cells tracking "$test" "$pipeline") | $(cells notracking "$test" "$pipeline") | $(cells baseline "$test" "$pipeline") | $(awk -v a="$(cpu_of tracking "$test" "$pipeline")" -v b="$(cpu_of baseline "$test" "$pipeline")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') |"
    done
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "per-command statistics and latency tracking (bench/introspection.sh)"
    echo "- baseline: $baseline (dynakv before INFO commandstats / latencystats, SLOWLOG, LATENCY)"
    echo "- command: \`bench/introspection.sh -n $requests -r $rounds --baseline OLD_SERVER\`, that is,"
    echo "  per pipeline P and test T, $rounds rounds, against each server in turn:"
    echo "  \`redis-benchmark -c 50 -n $requests -r 100000 -d 3 -P P --csv -t T\`"
    echo "- servers: tracking = this build (latency-tracking yes), no tracking = the same with"
    echo "  \`--latency-tracking no\`, baseline = the old server; medians of the rounds"
    echo "- CPU µs/req: the server's user + system CPU time during the run / requests. The"
    echo "  machine is shared with other engineers' builds and tests: read CPU per request."
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
fi
