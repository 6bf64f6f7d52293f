# Network plumbing of the fault harness, sourced by run.sh: one Linux network namespace per node
# and one for the clients, all on a bridge that lives in its own "switch" namespace, plus the
# network faults (partitions, one-way drops, slow links) applied and healed inside them.
#
# Safety: nothing is added to the root namespace (no interface, route or rule). The veth pairs are
# created inside the switch namespace with their far end moved straight into a node's namespace.
# The only addresses are in $DKVF_NET.0/24, which exists only inside these namespaces, and none of
# them has a default route: a packet to anywhere else has no route and is never sent.
#
# Every name starts with $DKVF_PREFIX so leftovers of a crashed run can be found and removed.

DKVF_PREFIX=${DKVF_PREFIX:-dkvf-}
DKVF_NET=${DKVF_NET:-10.213.77}
DKVF_SWITCH="${DKVF_PREFIX}sw"
DKVF_CLIENT="${DKVF_PREFIX}c"

netns_node() { echo "${DKVF_PREFIX}n$1"; }         # namespace of node $1 (1-based)
netns_node_addr() { echo "$DKVF_NET.$((10 + $1))"; } # its only address
netns_client_addr() { echo "$DKVF_NET.100"; }

# Adds namespace $1 with an interface eth0 (address $2/24) plugged into the bridge as port $3.
netns_attach() {
  local ns=$1 addr=$2 port=$3
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$DKVF_SWITCH" link add "$port" type veth peer name eth0 netns "$ns"
  ip -n "$DKVF_SWITCH" link set "$port" master br0 up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  # The local table's rule comes first (priority 0) and would deliver every packet for this
  # address before a drop rule is seen: move it behind the drop rules' range (100-199).
  ip -n "$ns" rule add priority 500 lookup local
  ip -n "$ns" rule del priority 0 lookup local
}

# The switch, `nodes` node namespaces and the client namespace.
netns_create() {
  local nodes=$1 i
  ip netns add "$DKVF_SWITCH"
  ip -n "$DKVF_SWITCH" link set lo up
  ip -n "$DKVF_SWITCH" link add br0 type bridge
  ip -n "$DKVF_SWITCH" link set br0 up
  for ((i = 1; i <= nodes; i++)); do
    netns_attach "$(netns_node "$i")" "$(netns_node_addr "$i")" "vn$i"
  done
  netns_attach "$DKVF_CLIENT" "$(netns_client_addr)" vc
}

# Every namespace of ours (this prefix), whether this run made it or a crashed one did.
netns_ours() { ip netns list | awk '{print $1}' | grep "^${DKVF_PREFIX}" || true; }

# Kills every process still running inside our namespaces (the nodes and the client of this or
# an earlier crashed run: nothing else enters them), then deletes the namespaces; their veths and
# the bridge go with them.
netns_destroy() {
  local ns pid
  for ns in $(netns_ours); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -CONT "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
  done
  for ns in $(netns_ours); do ip netns del "$ns" 2>/dev/null || true; done
}

# --- faults -------------------------------------------------------------------------------------
# Rules and qdiscs only ever go into our namespaces. Drops are silent (input-path policy rules of
# type blackhole), as in a real partition: the sender sees timeouts, not errors.

# Packets from node $1 to node $2 are dropped on arrival at $2: a one-way partition $1 -> $2.
netns_drop() {
  ip -n "$(netns_node "$2")" rule add from "$(netns_node_addr "$1")" iif eth0 blackhole priority $((100 + $1))
}

# Node $1 cut off from the other nodes both ways (clients still reach it): a full partition.
netns_partition() {
  local victim=$1 nodes=$2 i
  for ((i = 1; i <= nodes; i++)); do
    [ "$i" -eq "$victim" ] && continue
    netns_drop "$victim" "$i"
    netns_drop "$i" "$victim"
  done
}

# A data center outage: the nodes $1 (a space-separated list) cut off, both ways, from the nodes
# $2 and from the clients, while still reaching each other (their dc's own network is up).
netns_dc_outage() {
  local a b
  for a in $1; do
    for b in $2; do
      netns_drop "$a" "$b"
      netns_drop "$b" "$a"
    done
    ip -n "$(netns_node "$a")" rule add from "$(netns_client_addr)" iif eth0 blackhole priority 190
  done
}

# Node $1's link to the switch down: cut off from the other nodes and from the clients.
netns_isolate() { ip -n "$DKVF_SWITCH" link set "vn$1" down; }

# Node $1's link slow and lossy both ways: a token bucket of $2 (e.g. 128kbit) whose queue holds
# 200 ms of traffic; what does not fit is dropped. (No netem here: the kernel may lack sch_netem.)
netns_slow() {
  local spec=(root tbf rate "$2" burst 4kb latency 200ms)
  ip netns exec "$(netns_node "$1")" tc qdisc add dev eth0 "${spec[@]}"
  ip netns exec "$DKVF_SWITCH" tc qdisc add dev "vn$1" "${spec[@]}"
}

# Undoes every network fault on every node.
netns_heal() {
  local nodes=$1 i ns prio
  for ((i = 1; i <= nodes; i++)); do
    ns=$(netns_node "$i")
    for prio in $(ip -n "$ns" rule list | awk -F: '$1 >= 100 && $1 < 200 {print $1}'); do
      ip -n "$ns" rule del priority "$prio"
    done
    ip netns exec "$ns" tc qdisc del dev eth0 root 2>/dev/null || true
    ip netns exec "$DKVF_SWITCH" tc qdisc del dev "vn$i" root 2>/dev/null || true
    ip -n "$DKVF_SWITCH" link set "vn$i" up
  done
}
