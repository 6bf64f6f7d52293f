#!/usr/bin/env bash
# Client connections through net/: plain and TLS throughput against redis-server, same run.
#
#   bench/tls.sh [--record] [-n REQUESTS] [-r ROUNDS] [--old OLD_BINARY] [BUILD_DIR]
#
# Starts dynakv with a plain port and a TLS port (certificates made here with the openssl CLI:
# a CA, a server and a client certificate; tls-auth-clients yes, so clients present theirs) and
# redis-server with the same ports and files (AOF everysec, no RDB), then runs
#   redis-benchmark -c 50 -n N -r 100000 -d 3 -P {1,16} -t set,get --csv [--tls --cacert ...]
# against each, ROUNDS times (default 2) in alternation, and prints the mean requests/s and the
# server's CPU time per request (user + system, from /proc: steadier than throughput on a
# machine shared with other work, since it does not count the time the server waits). With
# --old, an older dynakv-server runs the plain tests too (before/after of a change to the client
# path). Each server is pinned to CPU 0 and redis-benchmark to CPU 1 when taskset exists.
# --record appends the table and the commands to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
rounds=2 old=""
bench_option() {
  case "$1" in
    -r) rounds=$2 bench_took=2 ;;
    --old) old=$2 bench_took=2 ;;
    *) return 1 ;;
  esac
}
bench_args 400000 "$@"
require_servers "$dynakv"
command -v openssl >/dev/null || { echo "openssl CLI not installed" >&2; exit 1; }
redis-benchmark --help 2>&1 | grep -q -- --tls || { echo "redis-benchmark has no --tls" >&2; exit 1; }

start_scratch tls
pin_cpus

# Certificates: a CA, and a server and a client certificate it signed (RSA 2048, as Redis's
# gen-test-certs.sh makes them).
certs=$tmp/certs
mkdir -p "$certs"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$certs/ca.key" -out "$certs/ca.crt" -days 2 \
  -subj /CN=bench-ca 2>/dev/null
for name in server client; do
  openssl req -newkey rsa:2048 -nodes -keyout "$certs/$name.key" -out "$certs/$name.csr" \
    -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$certs/$name.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" \
    -CAcreateserial -out "$certs/$name.crt" -days 2 2>/dev/null
done
tls_flags=(--tls-cert-file "$certs/server.crt" --tls-key-file "$certs/server.key"
           --tls-ca-cert-file "$certs/ca.crt")
client_tls=(--tls --cacert "$certs/ca.crt" --cert "$certs/client.crt" --key "$certs/client.key")
# start NAME BINARY ARGS...: start_server with a TLS port too ($tls_port).
start() {
  local name=$1 bin=$2
  shift 2
  tls_port=$(free_port)
  start_server "$name" "$bin" --tls-port "$tls_port" "${tls_flags[@]}" "$@"
}
redis_flags=(--save "" --appendonly yes --appendfsync everysec --daemonize no)
start dynakv "$dynakv" --appendfsync everysec
dynakv_port=$port dynakv_tls=$tls_port dynakv_pid=$pid
start redis "$(command -v redis-server)" "${redis_flags[@]}"
redis_port=$port redis_tls=$tls_port redis_pid=$pid
if [ -n "$old" ]; then
  # The old binary may predate TLS: plain port only.
  old_port=$(free_port)
  mkdir -p "$tmp/old"
  "${server_cpu[@]}" "$old" --port "$old_port" --bind 127.0.0.1 --dir "$tmp/old" \
    --appendfsync everysec >"$tmp/old.log" 2>&1 &
  pids+=($!)
  old_pid=$!
  wait_ready "$old_port"
fi
hz=$(getconf CLK_TCK)

# bench TARGET PID PORT P [TLS]: requests/s of SET and GET and the server's CPU microseconds
# per request over both, "set get cpu", appended to $tmp/TARGET.P.
bench() {
  local target=$1 pid=$2 p=$3 pipeline=$4 before after
  shift 4
  quiesce "$dynakv_port" "$redis_port"
  before=$(cpu_ticks "$pid")
  "${client_cpu[@]}" timeout 600 redis-benchmark -p "$p" -c 50 -n "$requests" -r 100000 -d 3 \
    -P "$pipeline" -t set,get --csv "$@" >"$tmp/run.csv"
  after=$(cpu_ticks "$pid")
  awk -F'"' -v t=$((after - before)) -v hz="$hz" -v n="$requests" \
    '/^"SET"/{s=$4} /^"GET"/{g=$4} END{print s, g, t * 1e6 / hz / (2 * n)}' \
    "$tmp/run.csv" >>"$tmp/$target.$pipeline"
}
targets=(dynakv-plain redis-plain dynakv-tls redis-tls)
[ -z "$old" ] || targets=(old-plain "${targets[@]}")
for round in $(seq "$rounds"); do
  for pipeline in 1 16; do
    echo "round $round, pipeline $pipeline ..." >&2
    [ -z "$old" ] || bench old-plain "$old_pid" "$old_port" "$pipeline"
    bench dynakv-plain "$dynakv_pid" "$dynakv_port" "$pipeline"
    bench redis-plain "$redis_pid" "$redis_port" "$pipeline"
    bench dynakv-tls "$dynakv_pid" "$dynakv_tls" "$pipeline" "${client_tls[@]}"
    bench redis-tls "$redis_pid" "$redis_tls" "$pipeline" "${client_tls[@]}"
  done
done
mean() { awk -v c="$2" -v f="${3:-%.0f}" '{s+=$c; n++} END{printf f, s/n}' "$1"; }
table=$(
  echo "| server, transport | SET -P 1 | GET -P 1 | CPU µs/req -P 1 | SET -P 16 | GET -P 16 | CPU µs/req -P 16 |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for t in "${targets[@]}"; do
    echo "| $t | $(mean "$tmp/$t.1" 1) | $(mean "$tmp/$t.1" 2) | $(mean "$tmp/$t.1" 3 %.2f)" \
      "| $(mean "$tmp/$t.16" 1) | $(mean "$tmp/$t.16" 2) | $(mean "$tmp/$t.16" 3 %.2f) |"
  done
  for p in 1 16; do
    for c in 1 2; do
      name=$([ "$c" = 1 ] && echo SET || echo GET)
      ratio=$(awk -v a="$(mean "$tmp/dynakv-tls.$p" "$c")" -v b="$(mean "$tmp/redis-tls.$p" "$c")" \
        'BEGIN{printf "%.2f", a/b}')
      echo "| dynakv-tls / redis-tls, $name -P $p | $ratio | | | | | |"
    done
  done
)
echo "$table"
if [ "$record" = 1 ]; then
  {
    echo
    echo "## Client TLS vs Redis-over-TLS, $(date -u '+%Y-%m-%d %H:%M') UTC"
    echo
    echo "Command: \`bench/tls.sh --record -n $requests -r $rounds${old:+ --old OLD}\` on $(nproc) cores," \
      "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; requests/s, mean of $rounds rounds."
    echo "Each run: \`redis-benchmark -c 50 -n $requests -r 100000 -d 3 -P {1,16} -t set,get --csv\`," \
      "TLS runs add \`--tls --cacert ca.crt --cert client.crt --key client.key\` (tls-auth-clients yes)."
    echo
    echo "$table"
  } >>"$root/bench/RESULTS.md"
fi
