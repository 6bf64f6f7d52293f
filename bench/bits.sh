#!/usr/bin/env bash
# Benchmarks the bitmap and HyperLogLog commands of dynakv-server against redis-server 7 on the
# same machine, with the settings of bench.sh (both log every write with appendfsync everysec,
# Redis: AOF only; servers pinned to CPU 0, the client to CPU 1 when taskset exists; each test
# runs against dynakv, then redis, once neither has background disk work left).
#
#   bench/bits.sh [--record] [-n REQUESTS] [BUILD_DIR]
#
# redis-benchmark -c 50 with custom commands, at pipeline depth 1 and 16:
#   BITCOUNT bm            a 1 MB bitmap of random bytes (incompressible: held raw)
#   PFADD hll <random>     one HLL, dense from the 20000 elements loaded before
#   PFCOUNT hll            after those adds: mostly the cached count
#   PFCOUNT hll hll2       a union of two dense HLLs: merged and counted every time
# -n sets the requests per run (default 200000; BITCOUNT runs a tenth of it). Prints a markdown
# table; --record appends it, with commands, date, machine and load, to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 200000 "$@"
require_servers "$dynakv"
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
redis=$(command -v redis-server)

start_scratch bits
pin_cpus
start_server dynakv "$dynakv" --appendfsync everysec
dynakv_port=$port
start_server redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
redis_port=$port

# The same data in both: a 1 MB random bitmap and two HLLs of 20000 random elements each.
head -c 1048576 /dev/urandom >"$tmp/bitmap"
for p in "$dynakv_port" "$redis_port"; do
  redis-cli -p "$p" -x SET bm <"$tmp/bitmap" >/dev/null
  for key in hll hll2; do
    redis-benchmark -p "$p" -c 10 -n 20000 -r 100000000 PFADD "$key" __rand_int__ >/dev/null
  done
  [ "$(redis-cli -p "$p" STRLEN hll)" = 12304 ] || { echo "hll is not dense on port $p" >&2; exit 1; }
done

tests=("BITCOUNT bm" "PFADD hll __rand_int__" "PFCOUNT hll" "PFCOUNT hll hll2")
bench_cmd() {  # bench_cmd TEST P: the redis-benchmark arguments (without -p)
  local n=$requests
  [[ "$1" == BITCOUNT* ]] && n=$((requests / 10))
  echo "-c 50 -n $n -r 100000000 -P $2 --csv $1"
}
run() {  # run NAME PORT TEST P: the CSV row in $tmp/NAME.<i>.P.csv
  echo "  $1: $3, pipeline $4 ..." >&2
  quiesce "$dynakv_port" "$redis_port"
  # shellcheck disable=SC2046
  "${client_cpu[@]}" timeout 1200 redis-benchmark -p "$2" $(bench_cmd "$3" "$4") \
    >"$tmp/$1.$5.$4.csv" 2>"$tmp/$1.err" || { cat "$tmp/$1.err" >&2; exit 1; }
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in "${!tests[@]}"; do
  for pipeline in 1 16; do
    run dynakv "$dynakv_port" "${tests[$i]}" "$pipeline" "$i"
    run redis "$redis_port" "${tests[$i]}" "$pipeline" "$i"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# One row from two CSVs ("test","rps","avg","min","p50","p95","p99","max").
row() {
  awk -F'","' -v label="$1" -v p="$2" '
    { gsub(/^"|"$/, "") }
    $1 == "test" { next }
    NR == FNR { rps = $2; p50 = $5; p99 = $7; next }
    { printf "| %s | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f |\n", label, p, $2, rps,
             (rps > 0 ? $2 / rps : 0), $5, $7, p50, p99, (p99 > 0 ? $7 / p99 : 0) }
  ' "$3" "$4"
}
table() {
  echo -n "| test | pipeline | dynakv ops/s | redis ops/s | ops ratio "
  echo "| dynakv p50 / p99 ms | redis p50 / p99 ms | p99 ratio |"
  echo "|---|---|---|---|---|---|---|---|"
  for i in "${!tests[@]}"; do
    for pipeline in 1 16; do
      row "${tests[$i]/__rand_int__/<random>}" "$pipeline" "$tmp/redis.$i.$pipeline.csv" \
        "$tmp/dynakv.$i.$pipeline.csv"
    done
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "bitmaps and HyperLogLog (bench/bits.sh)"
    echo "- data: \`SET bm\` of 1 MB from /dev/urandom; \`hll\` and \`hll2\` loaded with"
    echo "  \`redis-benchmark -c 10 -n 20000 -r 100000000 PFADD <key> __rand_int__\` (dense)"
    echo "- command: \`bench/bits.sh -n $requests\`, that is, per test T and pipeline P:"
    for t in "${tests[@]}"; do
      echo "  \`redis-benchmark $(bench_cmd "$t" P)\`"
    done
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
