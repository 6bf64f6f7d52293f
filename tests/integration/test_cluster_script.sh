#!/usr/bin/env bash
# scripts/cluster.sh as a user drives it: start a 3-node cluster, status, a failure drill (stop
# and restart one node, data still readable), stop. Runs on generated configs (free ports, temp
# data dirs) through DYNAKV_CLUSTER_CONF, so it never touches the repo's conf/ or data/.
# DYNAKV_SERVER names the server binary. Runs in a few seconds.
set -uo pipefail

server=${DYNAKV_SERVER:?set DYNAKV_SERVER to the server binary}
case "$(basename "$server")" in
  redis-server*) echo "cluster mode is dynakv's own: skipped for redis-server"; exit 0 ;;
esac
script="$(cd "$(dirname "$0")/../.." && pwd)/scripts/cluster.sh"
tmp=$(mktemp -d /tmp/dynakv-itest-cluster-script-XXXXXX)
export DYNAKV_SERVER="$server" DYNAKV_CLUSTER_CONF="$tmp/conf" DYNAKV_CLUSTER_RUN="$tmp/run"
cleanup() {
  for pidfile in "$tmp"/run/*.pid; do
    [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

source "$(dirname "$0")/../shell_util.sh"

# Three free client ports whose buses (port - 10000) are free too, all below the kernel's
# ephemeral range (32768 and up), where outgoing connections could be holding them.
ports=()
while [ ${#ports[@]} -lt 3 ]; do
  p=$((20000 + RANDOM % 10000))
  port_in_use "$p" || port_in_use $((p - 10000)) || [[ " ${ports[*]} " == *" $p "* ]] ||
    ports+=("$p")
done
members="\"n1@127.0.0.1:${ports[0]}\", \"n2@127.0.0.1:${ports[1]}\", \"n3@127.0.0.1:${ports[2]}\""
mkdir -p "$tmp/conf"
for i in 1 2 3; do
  cat >"$tmp/conf/cluster-$i.toml" <<EOF
[server]
port = ${ports[$((i - 1))]}
[storage]
dir = "$tmp/data/node-$i"
[cluster]
enabled = true
node-id = "n$i"
nodes = [$members]
port-offset = -10000
secret-file = "$tmp/run/secret"
EOF
done

out=$("$script" start 2>&1) || fail "start: $out"
for i in 1 2 3; do
  [[ "$out" == *"node $i up on 127.0.0.1:${ports[$((i - 1))]}"* ]] || fail "start output: $out"
done
[ "$(wc -c <"$tmp/run/secret")" -eq 65 ] || fail "start did not generate the cluster secret"
[ "$(stat -c %a "$tmp/run/secret")" = 600 ] || fail "the cluster secret is readable by others"
[ "$(redis-cli -p "${ports[0]}" SET drill before)" = "OK" ] || fail "SET through node 1"
[ "$(redis-cli -p "${ports[2]}" GET drill)" = "before" ] || fail "GET through node 3"

out=$("$script" status 2>&1) || fail "status with every node up: $out"
[ "$(grep -c 'state=myself' <<<"$out")" = 3 ] || fail "status shows each node's RING: $out"

out=$("$script" stop 2 2>&1) || fail "stop 2: $out"
[[ "$out" == *"node 2 stopped"* ]] || fail "stop 2 output: $out"
out=$("$script" status 2>&1) && fail "status must fail with a node down"
[[ "$out" == *"node 2: 127.0.0.1:${ports[1]} DOWN"* ]] || fail "status shows node 2 down: $out"
[ "$(redis-cli -p "${ports[0]}" SET drill during)" = "OK" ] || fail "quorum write with 2 of 3"

out=$("$script" start 2 2>&1) || fail "start 2: $out"
out=$("$script" start 1 2>&1)
[[ "$out" == *"node 1 already running"* ]] || fail "start of a running node: $out"
[ "$(redis-cli -p "${ports[1]}" GET drill R 3)" = "during" ] || fail "restarted node 2 reads the latest"

"$script" start 7 >/dev/null 2>&1 && fail "a node without a config must be refused"
"$script" restart >/dev/null 2>&1 && fail "an unknown action must be refused"

out=$("$script" stop 2>&1) || fail "stop: $out"
[ "$(grep -c 'stopped' <<<"$out")" = 3 ] || fail "stop output: $out"
for i in 0 1 2; do
  port_in_use "${ports[$i]}" && fail "port ${ports[$i]} still served after stop"
done
grep -q "ready to exit" "$tmp/run/node-1.log" || fail "node 1 did not shut down cleanly"

exit_on_failures
echo "all cluster.sh checks passed"
