#!/usr/bin/env bash
# The stock Redis tools against a live server, used the way people use them: redis-cli commands,
# redis-cli --pipe for mass insertion, redis-benchmark, and SHUTDOWN from redis-cli.
# DYNAKV_SERVER names the server binary (a real redis-server works too). Runs in ~10 s.
set -uo pipefail

server=${DYNAKV_SERVER:?set DYNAKV_SERVER to the server binary}
tmp=$(mktemp -d /tmp/dynakv-itest-cli-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

source "$(dirname "$0")/../shell_util.sh"

server_args() {
  local args=(--port "$1" --bind 127.0.0.1 --dir "$tmp/data")
  case "$(basename "$server")" in
    redis-server*) args+=(--save "" --appendonly yes --databases 16 --daemonize no) ;;
  esac
  printf '%s\0' "${args[@]}"
}

# Start on a random free port; retry if another process grabs it first.
mkdir -p "$tmp/data"
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  mapfile -d '' args < <(server_args "$port")
  "$server" "${args[@]}" >>"$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    [ "$(timeout 2 redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] && break 2
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=""
done
if [ -z "$pid" ]; then
  echo "FAIL: server did not start"
  tail -c 4000 "$tmp/server.log"
  exit 1
fi

cli() { timeout 10 redis-cli -p "$port" "$@"; }

# expect WANT ARGS...: redis-cli ARGS must print exactly WANT (non-tty output: raw values).
expect() {
  local want=$1
  shift
  local got
  got=$(cli "$@" 2>&1)
  [ "$got" = "$want" ] || fail "redis-cli $*: expected '$want', got '$got'"
}

expect "OK" SET foo bar
expect "bar" GET foo
expect "" GET missing
expect "1" INCR counter
expect "2" INCR counter
expect "12" INCRBY counter 10
expect "2" DEL foo counter
expect "0" DEL foo
expect "OK" SET tmp value
expect "1" EXPIRE tmp 100
expect "100" TTL tmp
expect "-2" TTL missing
expect "tmp" KEYS 't*'
expect "" KEYS 'nothing*'
expect $'0\ntmp' SCAN 0
expect $'0\ntmp' SCAN 0 MATCH 't*' COUNT 100
expect "1" DBSIZE
expect $'maxmemory\n0' CONFIG GET maxmemory
expect "ERR unknown command 'nosuchcommand', with args beginning with: 'x' " nosuchcommand x
expect "PONG" PING

info=$(cli INFO)
for section in Server Clients Memory Stats Persistence Keyspace; do
  grep -q "^# $section" <<<"$info" || fail "INFO lacks section $section"
done
keyspace=$(cli INFO keyspace)
grep -q "^db0:keys=1,expires=1," <<<"$keyspace" || fail "INFO keyspace: $keyspace"

# Mass insertion, as documented for redis-cli --pipe: raw RESP on stdin.
for i in $(seq 0 9999); do
  key="pipe:$i"
  value="value-$i"
  printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' ${#key} "$key" ${#value} "$value"
done >"$tmp/mass.txt"
pipe_out=$(timeout 60 redis-cli -p "$port" --pipe <"$tmp/mass.txt" 2>&1)
grep -q "errors: 0, replies: 10000" <<<"$pipe_out" || fail "redis-cli --pipe: $pipe_out"
expect "10001" DBSIZE
expect "value-9999" GET pipe:9999
expect "value-0" GET pipe:0

bench_out=$(timeout 120 redis-benchmark -p "$port" -q -n 2000 -t set,get 2>&1)
bench_rc=$?
[ "$bench_rc" -eq 0 ] || fail "redis-benchmark exited $bench_rc: $bench_out"
for test in SET GET; do
  grep -q "^$test: .* requests per second" <<<"$(tr '\r' '\n' <<<"$bench_out")" ||
    fail "redis-benchmark printed no $test result: $bench_out"
done
grep -qi "error" <<<"$bench_out" && fail "redis-benchmark reported errors: $bench_out"
expect "OK" SET after-benchmark yes

# SHUTDOWN from redis-cli: the server exits 0.
cli SHUTDOWN >/dev/null 2>&1
status=""
for _ in $(seq 200); do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    status=$?
    break
  fi
  sleep 0.1
done
[ "$status" = "0" ] || fail "server after SHUTDOWN: exit status '${status:-still running}'"
pid=""

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed; server log tail:"
  tail -c 4000 "$tmp/server.log"
  exit 1
fi
echo "all redis-cli checks passed"
