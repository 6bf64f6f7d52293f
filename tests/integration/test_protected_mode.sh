#!/usr/bin/env bash
# Protected mode as in Redis 7.0: without a password, a client that is not on the loopback
# interface gets Redis's DENIED reply (byte for byte what redis-server sends) and is closed;
# loopback clients are served; a password or `CONFIG SET protected-mode no` lets it in.
#
# A non-loopback client needs a second host: two network namespaces of this test's own joined by
# a veth pair, on a /30 that exists only inside them. Needs root; elsewhere it skips (77), but
# fails under CI, which runs as root.
set -euo pipefail

server="${DYNAKV_SERVER:?DYNAKV_SERVER names the server under test}"
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  [ "${CI:-}" = true ] && { echo "FAIL: CI must run this test as root with iproute2"; exit 1; }
  echo "skipped: needs root and iproute2 for network namespaces"
  exit 77
fi
reference="$(command -v redis-server || true)"
[ -n "$reference" ] || { echo "FAIL: redis-server (the reference) is not installed"; exit 1; }

tag="dkvp$$"
srv="$tag-srv" cli="$tag-cli"
srv_addr=10.213.79.1 cli_addr=10.213.79.2
work="$(mktemp -d /tmp/dynakv-protected-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$srv"
ip netns add "$cli"
ip link add "$tag-a" type veth peer name "$tag-b"
ip link set "$tag-a" netns "$srv"
ip link set "$tag-b" netns "$cli"
ip -n "$srv" addr add "$srv_addr/30" dev "$tag-a"
ip -n "$cli" addr add "$cli_addr/30" dev "$tag-b"
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set "$tag-a" up
ip -n "$cli" link set "$tag-b" up

in_srv() { ip netns exec "$srv" "$@"; }
in_cli() { timeout 10 ip netns exec "$cli" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

ours=7301 theirs=7302 metrics=7303
# Started without the in_srv function: a backgrounded function runs in a subshell, so $! would be
# that subshell's pid and cleanup's kill would leave the server running. `ip netns exec` execs
# the server itself.
ip netns exec "$srv" "$server" --port "$ours" --bind 0.0.0.0 --dir "$work/data" \
  --metrics-port "$metrics" >"$work/server.log" 2>&1 &
pids+=($!)
ip netns exec "$srv" "$reference" --port "$theirs" --bind 0.0.0.0 --save '' --appendonly no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
for port in "$ours" "$theirs"; do
  for ((i = 0; i < 100; i++)); do
    [ "$(in_srv redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  [ "$(in_srv redis-cli -p "$port" ping)" = PONG ] || fail "no PONG over loopback on $port"
done

# What the other host reads from a fresh connection, as the wire carries it. Both servers send
# the refusal as soon as they accept, so the client sends nothing: a request the server never
# reads can make its close a RST, which drops the refusal unread (Redis has that race too).
raw_ping() {
  in_cli bash -c "exec 3<>/dev/tcp/$srv_addr/$1; timeout 5 cat <&3" || true
}
denied_ours="$(raw_ping "$ours")"
denied_theirs="$(raw_ping "$theirs")"
[[ "$denied_theirs" == -DENIED* ]] || fail "redis-server did not refuse: '$denied_theirs'"
[ "$denied_ours" = "$denied_theirs" ] ||
  fail "the refusal differs from Redis's: '$denied_ours' vs '$denied_theirs'"
rejected="$(in_srv redis-cli -p "$ours" info stats | tr -d '\r' | awk -F: '/^rejected_connections:/ {print $2}')"
[ "${rejected:-0}" -ge 1 ] || fail "rejected_connections is '$rejected'"

# The metrics endpoint follows the same rule: loopback only without a secret (403 to others).
http_status() {  # http_status <namespace runner> <host> [curl args...]
  local runner=$1 host=$2
  shift 2
  $runner curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "http://$host:$metrics/metrics"
}
[ "$(http_status in_srv 127.0.0.1)" = 200 ] || fail "metrics refused over loopback"
[ "$(http_status in_cli "$srv_addr")" = 403 ] || fail "metrics served to another host in protected mode"

# A password lets the other host in (with AUTH), as does turning protected mode off.
in_srv redis-cli -p "$ours" config set requirepass s3cret >/dev/null
[ "$(in_cli redis-cli --no-auth-warning -a s3cret -h "$srv_addr" -p "$ours" ping)" = PONG ] ||
  fail "a password did not lift protected mode"
# ... and the metrics then need it, from anywhere.
[ "$(http_status in_cli "$srv_addr")" = 401 ] || fail "metrics without the password"
[ "$(http_status in_srv 127.0.0.1)" = 401 ] || fail "metrics over loopback without the password"
[ "$(http_status in_cli "$srv_addr" -u default:s3cret)" = 200 ] ||
  fail "metrics refused the default user's password"
in_srv redis-cli --no-auth-warning -a s3cret -p "$ours" config set requirepass "" >/dev/null
[[ "$(raw_ping "$ours")" == -DENIED* ]] || fail "protected mode did not come back"
in_srv redis-cli -p "$ours" config set protected-mode no >/dev/null
[ "$(in_srv redis-cli -p "$ours" config get protected-mode | tail -1)" = no ] ||
  fail "CONFIG GET protected-mode"
[ "$(in_cli redis-cli -h "$srv_addr" -p "$ours" ping)" = PONG ] ||
  fail "protected-mode no did not let the other host in"
[ "$(http_status in_cli "$srv_addr")" = 200 ] || fail "protected-mode no did not open the metrics"
echo "protected mode: ok"
