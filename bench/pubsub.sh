#!/usr/bin/env bash
# Benchmarks PUBLISH to 10 subscribers on dynakv-server against redis-server 7 on the same
# machine, with the settings of bench.sh (both log writes with appendfsync everysec, Redis: AOF
# only; servers pinned to CPU 0, the client to CPU 1 when taskset exists; each test runs against
# dynakv, then redis, once neither has background disk work left).
#
#   bench/pubsub.sh [--record] [-n REQUESTS] [BUILD_DIR]
#
# Per server: 10 subscribers to channel `bench` (raw sockets drained by `cat`, the cheapest
# reader, pinned with the client), then redis-benchmark -c 50 PUBLISH bench <16 bytes> at
# pipeline depth 1 and 16. The subscribers' limit is lifted on both (client-output-buffer-limit
# pubsub 0 0 0) so that a reader falling behind is measured, not disconnected; afterwards each
# server must still count 10 subscribers and each subscriber must have received the same bytes
# from both servers. Besides ops/s and latency, the table shows the server's CPU time per
# PUBLISH (user + system, from /proc/PID/stat), which a shared machine's noise moves less than
# throughput. -n sets the requests per run (default 200000). --record appends the table, with
# commands, date, machine and load, to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 200000 "$@"
require_servers "$dynakv"
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
redis=$(command -v redis-server)

start_scratch pubsub
pin_cpus
# start NAME BINARY ARGS...: start_server, then no output limit for subscribers (the benchmark's
# readers may fall behind); sets $port and $server_pid.
start() {
  start_server "$@"
  server_pid=$pid
  redis-cli -p "$port" CONFIG SET client-output-buffer-limit "pubsub 0 0 0" >/dev/null
}
start dynakv "$dynakv" --appendfsync everysec
dynakv_port=$port dynakv_pid=$server_pid
start redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
redis_port=$port redis_pid=$server_pid

subscribers=10
channel=bench
message=0123456789abcdef
# subscribe NAME PORT: 10 subscriber connections, each drained by cat into $tmp/NAME.sub.<i>.
subscribe() {
  local i
  for i in $(seq "$subscribers"); do
    "${client_cpu[@]}" bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "SUBSCRIBE %s\r\n" "$2" >&3
      exec cat <&3' _ "$2" "$channel" >"$tmp/$1.sub.$i" &
    pids+=($!)
  done
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$2" PUBSUB NUMSUB "$channel" | tail -1)" = "$subscribers" ] && return 0
    sleep 0.05
  done
  echo "subscribers did not connect to port $2" >&2
  exit 1
}
subscribe dynakv "$dynakv_port"
subscribe redis "$redis_port"

bench_cmd() {  # bench_cmd P: the redis-benchmark arguments (without -p)
  echo "-c 50 -n $requests -P $1 --csv PUBLISH $channel $message"
}
run() {  # run NAME PORT PID P: the CSV row in $tmp/NAME.P.csv, server CPU ticks in $tmp/NAME.P.cpu
  echo "  $1: PUBLISH to $subscribers subscribers, pipeline $4 ..." >&2
  quiesce "$dynakv_port" "$redis_port"
  local before
  before=$(cpu_ticks "$3")
  # shellcheck disable=SC2046
  "${client_cpu[@]}" timeout 1200 redis-benchmark -p "$2" $(bench_cmd "$4") \
    >"$tmp/$1.$4.csv" 2>"$tmp/$1.err" || { cat "$tmp/$1.err" >&2; exit 1; }
  echo $(($(cpu_ticks "$3") - before)) >"$tmp/$1.$4.cpu"
  [ "$(redis-cli -p "$2" PUBSUB NUMSUB "$channel" | tail -1)" = "$subscribers" ] ||
    { echo "$1 lost subscribers" >&2; exit 1; }
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for pipeline in 1 16; do
  run dynakv "$dynakv_port" "$dynakv_pid" "$pipeline"
  run redis "$redis_port" "$redis_pid" "$pipeline"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
# Every message reached every subscriber of both servers: the same bytes, once drained.
sleep 1
for i in $(seq "$subscribers"); do
  a=$(stat -c %s "$tmp/dynakv.sub.$i") b=$(stat -c %s "$tmp/redis.sub.$i")
  [ "$a" = "$b" ] || { echo "subscriber $i got $a bytes from dynakv, $b from redis" >&2; exit 1; }
done

hz=$(getconf CLK_TCK)
# One row from two CSVs ("test","rps","avg","min","p50","p95","p99","max") and CPU tick counts.
row() {
  awk -F'","' -v p="$1" -v n="$requests" -v hz="$hz" -v rcpu="$(cat "$4")" -v dcpu="$(cat "$5")" '
    { gsub(/^"|"$/, "") }
    $1 == "test" { next }
    NR == FNR { rps = $2; p50 = $5; p99 = $7; next }
    { printf "| PUBLISH (10 subscribers) | %s | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f | %.2f / %.2f |\n",
             p, $2, rps, (rps > 0 ? $2 / rps : 0), $5, $7, p50, p99, (p99 > 0 ? $7 / p99 : 0),
             dcpu / hz * 1e6 / n, rcpu / hz * 1e6 / n }
  ' "$2" "$3"
}
table() {
  echo -n "| test | pipeline | dynakv ops/s | redis ops/s | ops ratio "
  echo "| dynakv p50 / p99 ms | redis p50 / p99 ms | p99 ratio | server CPU us/request dynakv / redis |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for pipeline in 1 16; do
    row "$pipeline" "$tmp/redis.$pipeline.csv" "$tmp/dynakv.$pipeline.csv" \
      "$tmp/redis.$pipeline.cpu" "$tmp/dynakv.$pipeline.cpu"
  done
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "PUBLISH to 10 subscribers (bench/pubsub.sh)"
    echo "- subscribers: $subscribers raw connections to channel \`$channel\` read by \`cat\`;"
    echo "  \`client-output-buffer-limit pubsub 0 0 0\` on both"
    echo "- command: \`bench/pubsub.sh -n $requests\`, that is, per pipeline P:"
    echo "  \`redis-benchmark $(bench_cmd P)\`"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
