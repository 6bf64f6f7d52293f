#!/usr/bin/env bash
# Benchmarks dynakv-server against redis-server on the same machine, same settings: both log every
# write with appendfsync everysec (Redis: AOF only, no RDB snapshots), each server pinned to CPU 0
# and the load generator to CPU 1 when taskset exists; every test runs first against dynakv, then
# against redis, so both see the same machine load, and starts once neither server has background
# disk work left from the test before (quiesce in lib.sh).
#
#   bench/bench.sh [--record] [--quick] [-n REQUESTS] [-s SECONDS] [BUILD_DIR]
#
# Matrix: redis-benchmark -c 50 for SET, GET, INCR and MSET (10 keys) with 3-byte values, and SET,
# GET and MSET with 1 KB and 16 KB values (redis-benchmark -d: pseudorandom printable characters,
# which LZ4 barely shrinks), at pipeline depth 1 and 16; SET and GET of 1 MB values with -c 8 at
# depth 1 and 4 (deeper, the benchmark's own buffers would hold 100s of MB); then dynakv-loadgen (bench/loadgen.cc,
# built with the dynakv-loadgen target) for SET and GET of 1 KB and 16 KB values of two kinds,
# `random` bytes (incompressible) and `text` (JSON-like records, ~3x with LZ4), -c 50, -P 1 and 16.
# The default -n per run is sized for >= 10 s per test on a 2-core box and the loadgen runs for
# -s 10 s: the full matrix took about 11 minutes here (2026-11-25). --quick divides -n by 5 and runs loadgen
# for 3 s (about 3 minutes; numbers are noisier). -n sets the request count of every run.
# BUILD_DIR defaults to ./build; DYNAKV_SERVER / DYNAKV_LOADGEN override the binaries.
# Prints markdown tables; --record also appends them, with commands, date, machine and load
# averages, to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
record=0
quick=0
requests=""
seconds=""
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=1 ;;
    --quick) quick=1 ;;
    -n) requests=$2; shift ;;
    -s) seconds=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) build=$1 ;;
  esac
  shift
done
dynakv=${DYNAKV_SERVER:-$build/server/dynakv-server}
loadgen=${DYNAKV_LOADGEN:-$build/bench/dynakv-loadgen}
redis=$(command -v redis-server || true)
[ -x "$dynakv" ] || {
  echo "no dynakv-server at $dynakv (build first: scripts/build.sh)" >&2
  exit 1
}
[ -n "$redis" ] || { echo "redis-server not installed (scripts/deps.sh)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
[ -z "$requests" ] || [[ "$requests" =~ ^[0-9]+$ ]] || { echo "-n takes a number" >&2; exit 1; }
[ -z "$seconds" ] || [[ "$seconds" =~ ^[0-9]+$ ]] || { echo "-s takes a number" >&2; exit 1; }
[ -x "$loadgen" ] || echo "no dynakv-loadgen at $loadgen: skipping random-value runs" \
  "(cmake --build BUILD_DIR --target dynakv-loadgen)" >&2
[ -n "$seconds" ] || seconds=$([ "$quick" = 1 ] && echo 3 || echo 10)

start_scratch bench

pin_cpus

redis_flags=(--save "" --appendonly yes --appendfsync everysec --daemonize no)
case "$(basename "$dynakv")" in
  redis-server*) dynakv_flags=("${redis_flags[@]}") ;;  # self-test of this script
  *) dynakv_flags=(--appendfsync everysec) ;;
esac
start_server dynakv "$dynakv" "${dynakv_flags[@]}"
dynakv_port=$port
start_server redis "$redis" "${redis_flags[@]}"
redis_port=$port

# Requests per redis-benchmark run for value size SIZE at pipeline P, sized so the slowest test of
# each run (MSET for small values, SET for 16 KB) takes about 10 s at the rates this machine
# reaches; faster tests of the same run (GET) finish sooner. MSET of 10 x 16 KB (~1k ops/s) is left
# out: at any useful -n it would dominate the runtime.
default_requests() {
  case "$1:$2" in
    3:1) echo 1000000 ;;   3:16) echo 3000000 ;;
    1024:1) echo 150000 ;; 1024:16) echo 300000 ;;
    16384:1) echo 60000 ;; 16384:16) echo 150000 ;;
    1048576:1) echo 2000 ;; 1048576:4) echo 2000 ;;
  esac
}
pipelines() { [ "$1" -ge 1048576 ] && echo "1 4" || echo "1 16"; }
clients() { [ "$1" -ge 1048576 ] && echo 8 || echo 50; }
# Keys spread over -r keys; fewer for 16 KB values so each server holds at most ~160 MB, and 64 of
# 1 MB.
keyspace() {
  if [ "$1" -ge 1048576 ]; then echo 64; elif [ "$1" -ge 16384 ]; then echo 10000; else echo 100000; fi
}
tests_for() {
  case "$1" in 3) echo set,get,incr,mset ;; 1024) echo set,get,mset ;; *) echo set,get ;; esac
}

# bench_cmd SIZE P: the redis-benchmark arguments (without -p) of one run.
bench_cmd() {
  local n=${requests:-$(default_requests "$1" "$2")}
  [ -n "$requests" ] || [ "$quick" = 0 ] || n=$((n / 5))
  echo "-c $(clients "$1") -n $n -r $(keyspace "$1") -d $1 -P $2 --csv -t $(tests_for "$1")"
}
# run NAME PORT SIZE P: one redis-benchmark run, CSV kept as $tmp/NAME.SIZE.P.csv.
run() {
  echo "  redis-benchmark $1, $3 B, pipeline $4 ..." >&2
  quiesce "$dynakv_port" "$redis_port"
  # shellcheck disable=SC2046
  "${client_cpu[@]}" timeout 1200 redis-benchmark -p "$2" $(bench_cmd "$3" "$4") \
    >"$tmp/$1.$3.$4.csv" 2>"$tmp/$1.$3.$4.err" || {
    echo "redis-benchmark against $1 failed:" >&2
    cat "$tmp/$1.$3.$4.err" >&2
    exit 1
  }
}
# loadgen_cmd TEST SIZE P KIND: the dynakv-loadgen arguments (without -p) of one run.
loadgen_cmd() { echo "-c 50 -P $3 -d $2 -s $seconds -r $(keyspace "$2") -t $1 -v $4 --csv"; }
# run_loadgen NAME PORT TEST SIZE P KIND: appends one CSV row to $tmp/NAME.KIND.SIZE.P.csv.
run_loadgen() {
  echo "  loadgen $1, $3 $6 $4 B, pipeline $5 ..." >&2
  quiesce "$dynakv_port" "$redis_port"
  # shellcheck disable=SC2046
  "${client_cpu[@]}" timeout 600 "$loadgen" -p "$2" $(loadgen_cmd "$3" "$4" "$5" "$6") \
    >>"$tmp/$1.$6.$4.$5.csv" 2>"$tmp/$1.$6.err" || {
    echo "dynakv-loadgen against $1 failed:" >&2
    cat "$tmp/$1.$6.err" >&2
    exit 1
  }
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
sizes=(3 1024 16384 1048576)
for size in "${sizes[@]}"; do
  for pipeline in $(pipelines "$size"); do
    run dynakv "$dynakv_port" "$size" "$pipeline"
    run redis "$redis_port" "$size" "$pipeline"
  done
done
rand_sizes=()
kinds=(random text)
if [ -x "$loadgen" ]; then
  rand_sizes=(1024 16384)
  for kind in "${kinds[@]}"; do
    for size in "${rand_sizes[@]}"; do
      for pipeline in 1 16; do
        for t in set get; do  # set first, so GETs find values
          run_loadgen dynakv "$dynakv_port" "$t" "$size" "$pipeline" "$kind"
          run_loadgen redis "$redis_port" "$t" "$size" "$pipeline" "$kind"
        done
      done
    done
  done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# rows LABEL P REDIS_CSV DYNAKV_CSV RPS P50 P99: table rows, columns numbered from 1 in the CSV
# (redis-benchmark: "test","rps","avg","min","p50","p95","p99","max"; loadgen: test,rps,p50,p99).
rows() {
  awk -F'","' -v label="$1" -v p="$2" -v r="$5" -v a="$6" -v b="$7" '
    { gsub(/^"|"$/, "") }
    $1 == "test" { next }
    NR == FNR { rps[$1] = $r; p50[$1] = $a; p99[$1] = $b; next }
    { printf "| %s | %s | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f |\n",
             $1, label, p, $r, rps[$1], (rps[$1] > 0 ? $r / rps[$1] : 0), $a, $b, p50[$1],
             p99[$1], (p99[$1] > 0 ? $b / p99[$1] : 0) }
  ' "$3" "$4"
}
table() {
  echo -n "| test | value | pipeline | dynakv ops/s | redis ops/s | ops ratio "
  echo "| dynakv p50 / p99 ms | redis p50 / p99 ms | p99 ratio |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for size in "${sizes[@]}"; do
    for pipeline in $(pipelines "$size"); do
      rows "$size B" "$pipeline" "$tmp/redis.$size.$pipeline.csv" \
        "$tmp/dynakv.$size.$pipeline.csv" 2 5 7
    done
  done
  for kind in "${kinds[@]}"; do
    for size in "${rand_sizes[@]}"; do
      for pipeline in 1 16; do
        rows "$size B $kind" "$pipeline" "$tmp/redis.$kind.$size.$pipeline.csv" \
          "$tmp/dynakv.$kind.$size.$pipeline.csv" 2 3 4
      done
    done
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "redis-benchmark SET/GET and dynakv-loadgen (bench/bench.sh)$([ "$quick" = 1 ] && echo ' --quick')"
    echo "- command: \`bench/bench.sh$([ "$quick" = 1 ] && echo ' --quick')${requests:+ -n $requests} -s $seconds\`, that is, per value size S and pipeline P:"
    for size in "${sizes[@]}"; do
      for pipeline in $(pipelines "$size"); do
        echo "  \`redis-benchmark $(bench_cmd "$size" "$pipeline")\`"
      done
    done
    for size in "${rand_sizes[@]}"; do
      for pipeline in 1 16; do
        echo "  \`dynakv-loadgen $(loadgen_cmd 'set|get' "$size" "$pipeline" 'random|text')\`"
      done
    done
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
