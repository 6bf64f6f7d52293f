#!/usr/bin/env bash
# Fault-injection run: a 3-node dynakv cluster (N=3, R=W=2), each node in its own network
# namespace with its own address and its data dir on its own size-limited tmpfs; clients in a
# further namespace write and read through every node (dynakv-faults workload) while this script
# drives a seeded schedule of faults; then everything is healed, every node is killed -9 and
# restarted, and dynakv-faults check verifies the op log against the settled cluster.
#
#   tests/faults/run.sh [--seconds 75] [--seed 1|random] [--faults partition,oneway,...]
#                       [--soak] [--serial] [--serial-level L] [--server PATH] [--client PATH]
#
# --faults picks among: partition (a node cut off from the others, clients still reach it),
# oneway (one direction of a node's links dropped), isolate (a node's link down: clients too),
# slow (a node's link slow and lossy), pause (SIGSTOP/SIGCONT), kill (kill -9, restart),
# dcoutage (every node of one data center cut off from the other dc and from the clients, its
# nodes still linked to each other; the nodes are in two dcs: n1 and n2 in dc1, n3 in dc2),
# disklost (replicas synced, then kill -9, data dir wiped, restart, anti-entropy refill),
# diskfull (the data dir of one node or of all of them full until freed, then kill -9 and
# restart, so what the log did not hold is gone). Default: all but diskfull.
# --serial: SERIAL lock and register clients run through every node alongside (serial.log), and
# the check adds mutual exclusion of the locks and linearizability of the registers.
# --serial-level QUORUM: the same clients at QUORUM, a control that must fail those checks.
# --soak: 1800 s with a random seed unless --seconds/--seed say otherwise.
# Needs root. Without root or network namespaces it exits 77 (ctest: skipped), or 1 when CI=true.
# Logs (ops.log, faults.log, server logs) stay in $DKVF_RUN (default /tmp/dkvf-run).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=netns.sh
source "$here/netns.sh"

seconds="" seed="" soak=0 serial=()
faults="partition,oneway,isolate,slow,pause,kill,disklost,dcoutage"
server="$root/build/server/dynakv-server"
client="$root/build/tests/faults/dynakv-faults"
nodes=3 port=7000 disk_mb=64 keys=200
run="${DKVF_RUN:-/tmp/dkvf-run}"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --faults) faults=$2; shift 2 ;;
    --soak) soak=1; shift ;;
    --serial) serial=(--serial-log "$run/serial.log"); shift ;;
    --serial-level) serial=(--serial-log "$run/serial.log" --serial-level "$2"); shift 2 ;;
    --server) server=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ "$soak" = 1 ]; then seconds=${seconds:-1800}; seed=${seed:-random}; fi
seconds=${seconds:-75}
seed=${seed:-1}
[ "$seed" = random ] && seed=$(( ($(date +%s%N) / 1000) % 1000000000 ))
IFS=, read -r -a fault_kinds <<<"$faults"
for f in "${fault_kinds[@]}"; do
  case "$f" in partition|oneway|isolate|slow|pause|kill|disklost|diskfull|dcoutage) ;;
    *) echo "run.sh: unknown fault '$f'" >&2; exit 2 ;; esac
done
for bin in "$server" "$client"; do
  [ -x "$bin" ] || { echo "run.sh: $bin is not built" >&2; exit 2; }
done

# Network namespaces and tmpfs mounts need root; say so clearly rather than fail obscurely.
unable() {
  if [ "${CI:-}" = true ]; then
    echo "run.sh: FAIL: $1 (CI must run the fault harness: run it as root)" >&2
    exit 1
  fi
  echo "run.sh: SKIP: $1" >&2
  exit 77
}
[ "$(id -u)" -eq 0 ] || unable "needs root (network namespaces, tmpfs mounts)"
command -v ip >/dev/null || unable "iproute2 (ip) is not installed"
# One run at a time on a machine: the names and the address range are fixed. The nodes and the
# workload do not inherit the lock (9>&-): were this script killed, they must not keep holding it.
exec 9>/tmp/dkvf.lock
flock -w 200 9 || unable "another fault run has held /tmp/dkvf.lock for 200 s"
ip netns add "${DKVF_PREFIX}probe" 2>/dev/null || unable "cannot create a network namespace"
ip netns del "${DKVF_PREFIX}probe"

now_us() { date +%s%6N; }
log() { echo "[$(date +%T)] $*"; }

unmount_all() {
  local m
  for m in $(awk -v r="$run/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}
cleanup() {
  netns_destroy
  unmount_all
}
# Leftovers of a crashed earlier run first, then the same on any exit of this one.
cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$run"
mkdir -p "$run"
# The nodes' bus is authenticated, as in production: a fresh random secret per run.
(umask 077 && od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$run/secret")

# Two data centers: n1 and n2 in dc1, n3 in dc2 (the replicas are still any N=3 of the ring).
node_dc() { if [ "$1" -le 2 ]; then echo dc1; else echo dc2; fi; }
members=""
for ((i = 1; i <= nodes; i++)); do
  members+="${members:+,}n$i@$(netns_node_addr "$i"):$port/$(node_dc "$i")"
  mkdir -p "$run/n$i/data"
  mount -t tmpfs -o "size=${disk_mb}m" "dkvf-n$i" "$run/n$i/data" || unable "cannot mount a tmpfs"
done
addresses=$(for ((i = 1; i <= nodes; i++)); do printf '%s:%s,' "$(netns_node_addr "$i")" "$port"; done)
addresses=${addresses%,}
netns_create "$nodes"

in_client() { ip netns exec "$DKVF_CLIENT" "$@"; }
node_pid() { cat "$run/n$1/pid"; }
# Running: some thread of it is not yet a zombie (a zombie not yet reaped counts as gone). Every
# thread, not the process's main one alone: after kill -9 the main thread can be a zombie while
# others still exit, holding the process's files, and with them its data dir's lock (a restart
# then fails: "in use by another engine"; seen under a full CI run's load). The state follows the
# last ')' (a thread's name may hold spaces).
pid_alive() {
  local stat state
  for stat in /proc/"$1"/task/*/stat; do
    state=$(sed -E 's/.*\) ([A-Za-z]).*/\1/' "$stat" 2>/dev/null) || continue
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] && return 0
  done
  return 1
}
node_alive() { pid_alive "$(node_pid "$1")"; }
# Starts node $1 in its namespace (the pid is the server's: ip netns exec execs it) and waits,
# bounded, until it answers PING from the client namespace.
start_node() {
  local i=$1 addr tries
  addr=$(netns_node_addr "$i")
  # The clients reach the nodes from their own namespace, which protected mode (on by default,
  # as in Redis) refuses without a password; the namespaces are the harness's private network.
  ip netns exec "$(netns_node "$i")" "$server" --port "$port" --bind "$addr" --protected-mode no \
    --dir "$run/n$i/data" --cluster-enabled yes --cluster-node-id "n$i" \
    --cluster-secret-file "$run/secret" \
    --cluster-nodes "$members" --cluster-replication-factor 3 \
    --cluster-gossip-interval-ms 200 --cluster-down-after-ms 1500 \
    --cluster-request-timeout-ms 500 --cluster-hint-handoff-interval-ms 200 \
    --cluster-anti-entropy-interval-ms 5000 >>"$run/n$i/server.log" 2>&1 9>&- &
  echo $! >"$run/n$i/pid"
  disown  # bash still reaps it, but reports no "Killed" job when the schedule kills it
  for ((tries = 0; tries < 300; tries++)); do
    [ "$(in_client redis-cli -h "$addr" -p "$port" ping 2>/dev/null)" = PONG ] && return 0
    node_alive "$i" || break
    sleep 0.1
  done
  echo "run.sh: node n$i did not start; log tail:" >&2
  tail -20 "$run/n$i/server.log" >&2
  return 1
}
# kill -9, and wait (bounded: 30 s, a loaded machine is slow to let a big process go) until the
# process is gone, so its port and its data dir's lock are free for the restart.
kill_node() {
  local pid tries
  pid=$(node_pid "$1")
  kill -KILL "$pid" 2>/dev/null || true
  for ((tries = 0; tries < 600; tries++)); do
    pid_alive "$pid" || return 0
    sleep 0.05
  done
  log "node n$1 (pid $pid) still exits 30 s after kill -9"
}

# One anti-entropy exchange between every pair of nodes: afterwards every node holds every write
# any of them held (bar those in flight).
# Fails when some pair could not complete an exchange within ~10 s. redis-cli exits 0 on an error
# reply, so success is told by the reply itself (a map whose first key is "peer"). Right after a
# healed fault the bus may still be in its reconnect backoff: an exchange is retried.
sync_replicas() {
  local a b tries reply ok=0
  for ((a = 1; a <= nodes; a++)); do
    for ((b = a + 1; b <= nodes; b++)); do
      for ((tries = 0; tries < 40; tries++)); do
        reply=$(in_client redis-cli -h "$(netns_node_addr "$a")" -p "$port" \
          debug antientropy "n$b" 2>&1 | head -1) || true
        [ "$reply" = peer ] && break
        sleep 0.25
      done
      if [ "$reply" != peer ]; then
        log "anti-entropy n$a <-> n$b could not run: $reply"
        ok=1
      fi
    done
  done
  return $ok
}

# The data dir of node $1 filled to the last byte (by a ballast file), or emptied of it again.
fill_disk() { dd if=/dev/zero of="$run/n$1/data/ballast" bs=64k 2>/dev/null || true; }
free_disk() { rm -f "$run/n$1/data/ballast"; }

# --- the seeded schedule -----------------------------------------------------------------------
RANDOM=$seed
# Sets r to a number in [0, $1). Never call it in a subshell ($(...)): bash reseeds RANDOM there,
# and the schedule would no longer follow the seed.
rand() { r=$((RANDOM % $1)); }
crashed=0
# Node processes that died without being killed by the schedule: a crash, reported and restarted.
check_alive() {
  local i
  for ((i = 1; i <= nodes; i++)); do
    if ! node_alive "$i"; then
      log "node n$i EXITED on its own; log tail:"
      tail -20 "$run/n$i/server.log"
      echo "$(now_us) $(now_us) crashed $i" >>"$run/faults.log"
      crashed=$((crashed + 1))
      start_node "$i"
    fi
  done
}

# Runs one fault for $3 ms against node $2 (in this shell: the nodes it restarts stay its
# children); sets `detail` for the fault log.
inject() {
  local kind=$1 victim=$2 ms=$3 i others=()
  detail=""
  for ((i = 1; i <= nodes; i++)); do [ "$i" -ne "$victim" ] && others+=("$i"); done
  case "$kind" in
    partition) netns_partition "$victim" "$nodes" ;;
    oneway)
      rand 2
      if [ "$r" = 0 ]; then
        detail="n$victim sends, nobody hears"; for i in "${others[@]}"; do netns_drop "$victim" "$i"; done
      else
        detail="n$victim hears nobody"; for i in "${others[@]}"; do netns_drop "$i" "$victim"; done
      fi ;;
    isolate) netns_isolate "$victim" ;;
    dcoutage)
      local dc
      dc=$(node_dc "$victim")
      local inside=() outside=()
      for ((i = 1; i <= nodes; i++)); do
        if [ "$(node_dc "$i")" = "$dc" ]; then inside+=("$i"); else outside+=("$i"); fi
      done
      detail="$dc (nodes ${inside[*]}) cut off"
      netns_dc_outage "${inside[*]}" "${outside[*]}" ;;
    slow)
      local rates=(32kbit 128kbit 1mbit)
      rand 3
      detail=${rates[$r]}
      netns_slow "$victim" "$detail" ;;
    pause) kill -STOP "$(node_pid "$victim")" ;;
    kill) kill_node "$victim" ;;
    disklost)
      # Lost only when the replicas agree. Were a write acknowledged by the victim and one other
      # node only, a quorum read of the third and the wiped victim would miss it: R + W > N
      # does not survive losing one of two copies, and that is Dynamo, not a bug to report. So
      # when some pair cannot be synced first (a peer still unreachable after the last fault),
      # the disk is not lost this time.
      if sync_replicas; then
        wiped=1
        detail="data dir wiped, then repaired by anti-entropy"
        kill_node "$victim"
        find "$run/n$victim/data" -mindepth 1 -delete
      else
        wiped=0
        detail="skipped: the replicas could not be synced first"
      fi ;;
    diskfull)
      local full=("$victim")
      rand 2
      [ "$r" = 0 ] && full=($(seq 1 "$nodes"))
      detail="full: ${full[*]}, then kill -9"
      for i in "${full[@]}"; do fill_disk "$i"; done ;;
  esac
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  case "$kind" in
    partition|oneway|isolate|slow|dcoutage) netns_heal "$nodes" ;;
    pause) kill -CONT "$(node_pid "$victim")" ;;
    kill) start_node "$victim" ;;
    disklost)
      # Refilled from both peers before the next fault, which might wipe one of them.
      if [ "$wiped" = 1 ]; then
        start_node "$victim"
        sync_replicas || true
      fi ;;
    diskfull)
      for i in "${full[@]}"; do free_disk "$i"; kill_node "$i"; done
      for i in "${full[@]}"; do start_node "$i"; done ;;
  esac
}

log "fault run: seed $seed, $seconds s, faults: $faults; logs in $run"
for ((i = 1; i <= nodes; i++)); do start_node "$i"; done
in_client "$client" workload --nodes "$addresses" --seconds "$seconds" --seed "$seed" \
  --keys "$keys" --log "$run/ops.log" "${serial[@]}" 9>&- &
workload=$!
started=$(date +%s)
sleep 3  # a fault-free start
: >"$run/faults.log"
count=0
while [ $(($(date +%s) - started)) -lt $((seconds - 3)) ]; do
  rand ${#fault_kinds[@]}
  kind=${fault_kinds[$r]}
  rand "$nodes"
  victim=$((1 + r))
  rand 4000
  ms=$((1000 + r))
  t0=$(now_us)
  inject "$kind" "$victim" "$ms"
  echo "$t0 $(now_us) $kind $victim $detail" >>"$run/faults.log"
  count=$((count + 1))
  log "fault $count: $kind n$victim ${ms}ms${detail:+ ($detail)}"
  check_alive
  rand 800
  sleep "0.$(printf '%03d' $((200 + r)))"
done
wait "$workload" || { log "the workload failed"; exit 1; }

# Heal whatever is left, then crash every node at once and bring them back on their data.
netns_heal "$nodes"
for ((i = 1; i <= nodes; i++)); do free_disk "$i"; kill -CONT "$(node_pid "$i")" 2>/dev/null || true; done
check_alive
t0=$(now_us)
for ((i = 1; i <= nodes; i++)); do kill_node "$i"; done
for ((i = 1; i <= nodes; i++)); do start_node "$i"; done
echo "$t0 $(now_us) killall 0 every node kill -9 and restarted" >>"$run/faults.log"
log "healed; every node killed and restarted; checking"

status=0
in_client "$client" check --nodes "$addresses" --keys "$keys" --log "$run/ops.log" \
  --faults "$run/faults.log" "${serial[@]}" || status=$?
if [ "$crashed" -gt 0 ]; then
  log "FAIL: $crashed node crash(es) during the run (see above)"
  status=1
fi
[ "$status" -eq 0 ] && log "PASS (seed $seed)" || log "FAIL (seed $seed; rerun: $0 --seed $seed --seconds $seconds --faults $faults${serial:+ --serial}${serial[2]:+ --serial-level ${serial[3]}})"
exit "$status"
