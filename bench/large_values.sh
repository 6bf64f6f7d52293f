#!/usr/bin/env bash
# Large-value replies, dynakv side by side with redis-server (issue 15): the rows whose cost is
# the copy or decompression of a value into the reply, with each server's CPU time per request
# (user + system ticks over the run / commands processed), the figure that stays meaningful on a
# loaded machine, where ops/s and p99 move with the neighbours.
#
#   bench/large_values.sh [--record] [--perf] [-s SECONDS] [BUILD_DIR]
#
# Rows: redis-benchmark -c 50 -P 16 GET of 16 KB values (pseudorandom printable, LZ4 barely
# shrinks them), dynakv-loadgen -c 50 -P 16 GET of 16 KB `text` values (~3x with LZ4) and of
# `random` ones, and redis-benchmark SET and GET of 1 MB values at -P 1 and -P 4 (-c 8, -n 400).
# Same settings as bench/bench.sh (appendfsync everysec, servers on CPU 0, client on CPU 1).
# --perf records `perf record -g` of dynakv during the 16 KB GET rows into $PERF_DIR (default
# /tmp/dynakv-large-perf) as NAME.perf.data and a `perf report --no-children` text next to it.
# DYNAKV_SERVER / DYNAKV_LOADGEN override the binaries. --record appends the table, the commands
# and the load averages to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
record=0
perf=0
seconds=5
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=1 ;;
    --perf) perf=1 ;;
    -s) seconds=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) build=$1 ;;
  esac
  shift
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "-s takes a number" >&2; exit 1; }
dynakv=${DYNAKV_SERVER:-$build/server/dynakv-server}
loadgen=${DYNAKV_LOADGEN:-$build/bench/dynakv-loadgen}
redis=$(command -v redis-server || true)
require_servers "$dynakv"
[ -x "$loadgen" ] || { echo "no dynakv-loadgen at $loadgen (--target dynakv-loadgen)" >&2; exit 1; }
perf_dir=${PERF_DIR:-/tmp/dynakv-large-perf}
[ "$perf" = 0 ] || { command -v perf >/dev/null || { echo "perf not installed" >&2; exit 1; }; mkdir -p "$perf_dir"; }

start_scratch large
pin_cpus
start_server dynakv "$dynakv" --appendfsync everysec
dynakv_port=$port dynakv_pid=$pid
start_server redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
redis_port=$port redis_pid=$pid
clk=$(getconf CLK_TCK)

commands() { redis-cli -p "$1" info stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print $2 }'; }

# measure NAME PORT PID CSV LABEL -- COMMAND...: runs COMMAND (its CSV output appended to CSV) and
# appends "LABEL,us_per_request" to $tmp/NAME.cpu. With --perf and NAME dynakv and LABEL's row
# marked for it ($profile), perf records the server meanwhile.
measure() {
  local name=$1 port=$2 pid=$3 csv=$4 label=$5 ticks0 cmds0 ticks1 cmds1 perf_pid=""
  shift 6
  quiesce "$dynakv_port" "$redis_port"
  ticks0=$(cpu_ticks "$pid")
  cmds0=$(commands "$port")
  if [ "$perf" = 1 ] && [ "$name" = dynakv ] && [ -n "${profile:-}" ]; then
    perf record -g -o "$perf_dir/$profile.perf.data" -p "$pid" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  "${client_cpu[@]}" timeout 600 "$@" >>"$csv" 2>"$tmp/err" || {
    echo "$* against $name failed:" >&2
    cat "$tmp/err" >&2
    exit 1
  }
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf report -i "$perf_dir/$profile.perf.data" --no-children --percent-limit 1 --stdio \
      >"$perf_dir/$profile.txt" 2>/dev/null || true
  fi
  ticks1=$(cpu_ticks "$pid")
  cmds1=$(commands "$port")
  awk -v l="$label" -v t=$((ticks1 - ticks0)) -v c=$((cmds1 - cmds0)) -v hz="$clk" \
    'BEGIN { printf "%s,%.2f\n", l, (c > 0 ? t / hz * 1e6 / c : 0) }' >>"$tmp/$name.cpu"
}

both() {  # both LABEL -- COMMAND... (without -p): dynakv first, then redis
  local label=$1
  shift 2
  echo "  $label ..." >&2
  measure dynakv "$dynakv_port" "$dynakv_pid" "$tmp/dynakv.$label.csv" "$label" -- "$1" -p "$dynakv_port" "${@:2}"
  profile="" measure redis "$redis_port" "$redis_pid" "$tmp/redis.$label.csv" "$label" -- "$1" -p "$redis_port" "${@:2}"
}

rb_get16=(-c 50 -n 200000 -r 10000 -d 16384 -P 16 --csv -t get)
lg_text=(-c 50 -P 16 -d 16384 -s "$seconds" -r 10000 -v text --csv)
lg_random=(-c 50 -P 16 -d 16384 -s "$seconds" -r 10000 -v random --csv)
rb_1mb() { echo "-c 8 -n 400 -r 64 -d 1048576 -P $1 --csv -t $2"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# redis-benchmark's GET reads keys its own SET wrote: fill them first (not measured).
for p in "$dynakv_port" "$redis_port"; do
  "${client_cpu[@]}" redis-benchmark -p "$p" -c 50 -n 20000 -r 10000 -d 16384 -P 16 -t set -q >/dev/null
done
profile=rb_get16 both "GET 16384 B -P 16" -- redis-benchmark "${rb_get16[@]}"
for kind in text random; do
  lg=("${lg_text[@]}")
  [ "$kind" = text ] || lg=("${lg_random[@]}")
  profile="" both "SET 16384 B $kind -P 16" -- "$loadgen" "${lg[@]}" -t set
  profile="lg_${kind}_get16" both "GET 16384 B $kind -P 16" -- "$loadgen" "${lg[@]}" -t get
done
for p in 1 4; do
  for t in set get; do  # set first, so GETs find values
    # shellcheck disable=SC2046
    profile="" both "${t^^} 1 MB -P $p" -- redis-benchmark $(rb_1mb "$p" "$t")
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# One table row per CSV row: redis-benchmark ("test","rps","avg","min","p50","p95","p99","max")
# or loadgen (test,rps,p50,p99) CSV, told apart by their column count.
table() {
  echo "| test | dynakv ops/s | redis ops/s | ops ratio | dynakv p50 / p99 ms | redis p50 / p99 ms | p99 ratio | server CPU us/request dynakv / redis |"
  echo "|---|---|---|---|---|---|---|---|"
  local label
  for label in "GET 16384 B -P 16" "SET 16384 B text -P 16" "GET 16384 B text -P 16" \
    "SET 16384 B random -P 16" "GET 16384 B random -P 16" "SET 1 MB -P 1" "GET 1 MB -P 1" \
    "SET 1 MB -P 4" "GET 1 MB -P 4"; do
    awk -F'","|,' -v label="$label" \
      -v cpu_d="$(grep -F "$label," "$tmp/dynakv.cpu" | cut -d, -f2)" \
      -v cpu_r="$(grep -F "$label," "$tmp/redis.cpu" | cut -d, -f2)" '
      { gsub(/^"|"$/, "") }
      $1 == "test" { next }
      { rb = NF >= 8; r = 2; a = rb ? 5 : 3; b = rb ? 7 : 4 }
      NR == FNR { rps[$1] = $r; p50[$1] = $a; p99[$1] = $b; next }
      { printf "| %s | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f | %s / %s |\n", label, $r,
               rps[$1], (rps[$1] > 0 ? $r / rps[$1] : 0), $a, $b, p50[$1], p99[$1],
               (p99[$1] > 0 ? $b / p99[$1] : 0), cpu_d, cpu_r }
    ' "$tmp/redis.$label.csv" "$tmp/dynakv.$label.csv"
  done
}
result=$(table)
echo "$result"
[ "$perf" = 0 ] || echo "perf profiles of dynakv: $perf_dir/*.txt" >&2

if [ "$record" -eq 1 ]; then
  {
    record_header "large-value replies (bench/large_values.sh)"
    echo "- command: \`bench/large_values.sh -s $seconds\`, that is:"
    echo "  \`redis-benchmark ${rb_get16[*]}\` (after a 20000-request SET fill),"
    echo "  \`dynakv-loadgen ${lg_text[*]} -t set|get\` and the same with \`-v random\`,"
    echo "  \`redis-benchmark $(rb_1mb 1 'set|get')\` and the same with \`-P 4\`"
    echo "- server CPU: user + system ticks of the server process over the run / its total_commands_processed delta"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
