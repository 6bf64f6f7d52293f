#!/usr/bin/env bash
# Benchmarks dynakv-server against redis-server with redis-benchmark, same machine, same settings:
# both log every write with appendfsync everysec (Redis: AOF only, no RDB snapshots), each server
# pinned to CPU 0 and the benchmark client to CPU 1 when taskset exists.
#
#   bench/bench.sh [--record] [-n REQUESTS] [BUILD_DIR]
#
# BUILD_DIR defaults to ./build (as scripts/build.sh makes it); DYNAKV_SERVER overrides the binary.
# -n is the number of requests per test (default 200000); -c 50 clients; SET, GET, INCR and
# MSET (10 keys) at pipeline depth 1 and 16, runs alternating between the two servers.
# Prints a markdown table; --record also appends it, with the command line, date and machine, to
# bench/RESULTS.md. Takes about 1-3 minutes at the default -n on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
record=0
requests=200000
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=1 ;;
    -n) requests=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) build=$1 ;;
  esac
  shift
done
dynakv=${DYNAKV_SERVER:-$build/server/dynakv-server}
redis=$(command -v redis-server || true)
[ -x "$dynakv" ] || {
  echo "no dynakv-server at $dynakv (build first: scripts/build.sh)" >&2
  exit 1
}
[ -n "$redis" ] || { echo "redis-server not installed (scripts/deps.sh)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
[[ "$requests" =~ ^[0-9]+$ ]] || { echo "-n takes a number" >&2; exit 1; }

tmp=$(mktemp -d /tmp/dynakv-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

server_cpu=() client_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c 1)
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return; }
  done
}

# start NAME BINARY ARGS...: runs the server on a fresh port and dir, waits for PONG; sets $port.
start() {
  local name=$1 bin=$2
  shift 2
  port=$(free_port)
  mkdir -p "$tmp/$name"
  "${server_cpu[@]}" "$bin" --port "$port" --bind 127.0.0.1 --dir "$tmp/$name" "$@" \
    >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    [ "$(timeout 2 redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] && return
    sleep 0.1
  done
  echo "$name did not start; log:" >&2
  tail -c 2000 "$tmp/$name.log" >&2
  exit 1
}

redis_flags=(--save "" --appendonly yes --appendfsync everysec --daemonize no)
case "$(basename "$dynakv")" in
  redis-server*) dynakv_flags=("${redis_flags[@]}") ;;  # self-test of this script
  *) dynakv_flags=(--appendfsync everysec) ;;
esac
start dynakv "$dynakv" "${dynakv_flags[@]}"
dynakv_port=$port
start redis "$redis" "${redis_flags[@]}"
redis_port=$port

bench_args=(-c 50 -n "$requests" -r 100000 --csv -t set,get,incr,mset)
# run NAME PORT PIPELINE: one redis-benchmark run, CSV rows kept as $tmp/NAME.P<pipeline>.csv.
run() {
  echo "  $1, pipeline $3 ..." >&2
  "${client_cpu[@]}" timeout 600 redis-benchmark -p "$2" -P "$3" "${bench_args[@]}" \
    >"$tmp/$1.P$3.csv" 2>"$tmp/$1.P$3.err" || {
    echo "redis-benchmark against $1 failed:" >&2
    cat "$tmp/$1.P$3.err" >&2
    exit 1
  }
}
for pipeline in 1 16; do
  run dynakv "$dynakv_port" "$pipeline"
  run redis "$redis_port" "$pipeline"
done

# CSV columns: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
# "p99_latency_ms","max_latency_ms".
table() {
  echo -n "| test | pipeline | dynakv ops/s | redis ops/s | dynakv/redis "
  echo "| dynakv p50 / p99 ms | redis p50 / p99 ms |"
  echo "|---|---|---|---|---|---|---|"
  for pipeline in 1 16; do
    awk -F'","' -v p="$pipeline" '
      { gsub(/^"|"$/, "") }
      FNR == 1 { next }
      NR == FNR { rps[$1] = $2; p50[$1] = $5; p99[$1] = $7; next }
      { printf "| %s | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s |\n",
               $1, p, $2, rps[$1], (rps[$1] > 0 ? $2 / rps[$1] : 0), $5, $7, p50[$1], p99[$1] }
    ' "$tmp/redis.P$pipeline.csv" "$tmp/dynakv.P$pipeline.csv"
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  model=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')
  pinning=${server_cpu[*]:+" (servers: ${server_cpu[*]}, client: ${client_cpu[*]})"}
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, ${model:-unknown CPU}, $(uname -sr)"
    echo "- servers: dynakv $commit, $("$redis" --version | cut -d' ' -f1-3)"
    echo "- command: \`bench/bench.sh -n $requests\`, that is" \
         "\`redis-benchmark ${bench_args[*]} -P {1,16}\`$pinning"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
