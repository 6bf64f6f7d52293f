# Shared by the bench/ scripts (sourced, not run): a scratch dir whose servers are stopped on
# exit however the script ends, a wait for a server to answer PING and one for servers to finish
# their background disk work.

# require_servers DYNAKV: both servers to compare exist, or the script stops saying how to get them.
require_servers() {
  [ -x "$1" ] || { echo "no dynakv-server at $1 (build first: scripts/build.sh)" >&2; exit 1; }
  command -v redis-server >/dev/null || { echo "redis-server not installed (scripts/deps.sh)" >&2; exit 1; }
}

# start_scratch NAME: sets $tmp to a new /tmp/dynakv-NAME-* dir and $pids to (); on exit every
# pid appended to $pids gets SIGTERM, then SIGKILL after 5 s, and the dir is removed.
start_scratch() {
  tmp=$(mktemp -d "/tmp/dynakv-$1-XXXXXX")
  pids=()
  trap stop_scratch EXIT
}
stop_scratch() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}

# wait_ready PORT: until the server on PORT answers PING (10 s at most, then the script stops).
wait_ready() {
  for _ in $(seq 200); do
    redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  exit 1
}

# quiesce PORT...: until none of the servers on PORT... runs background disk work left from an
# earlier test (Redis: AOF rewrite or snapshot; dynakv: checkpoint or compaction), 60 s at most.
# The servers share a CPU: without this, one server's leftover work lands in the other's numbers
# (a Redis AOF rewrite child running through dynakv's next test, or the reverse). Work a test
# causes while it runs still counts against that test.
quiesce() {
  local p busy
  for _ in $(seq 600); do
    busy=0
    for p in "$@"; do
      redis-cli -p "$p" info persistence 2>/dev/null | grep -qE '_in_progress:1|_scheduled:1' && busy=1
    done
    [ "$busy" = 0 ] && return 0
    sleep 0.1
  done
}

# pin_cpus: with taskset and 2+ CPUs, server_cpu=(taskset -c 0) and client_cpu=(taskset -c 1):
# the servers compared take turns on one CPU and the load generator has the other, so neither
# server competes with the client. Else both are empty (no pinning).
pin_cpus() {
  server_cpu=() client_cpu=()
  if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port: a random port in 20000-59999 that nothing listens on.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return; }
  done
}

# start_server NAME BINARY ARGS...: runs BINARY ARGS (pinned as $server_cpu says) on a fresh port
# of 127.0.0.1 with the dir $tmp/NAME and the log $tmp/NAME.log; sets $port and $pid ($pid also
# joins $pids) once it answers PING. If it does not within 10 s, prints the log's tail and stops
# the script.
start_server() {
  local name=$1 bin=$2
  shift 2
  port=$(free_port)
  mkdir -p "$tmp/$name"
  "${server_cpu[@]}" "$bin" --port "$port" --bind 127.0.0.1 --dir "$tmp/$name" "$@" \
    >"$tmp/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    [ "$(timeout 2 redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] && return 0
    sleep 0.1
  done
  echo "$name did not start; log:" >&2
  tail -c 2000 "$tmp/$name.log" >&2
  exit 1
}

# cpu_ticks PID...: user + system time the processes have used so far, in clock ticks
# (getconf CLK_TCK per second). The machine is shared, so a server's CPU time per request is a
# steadier figure than its throughput.
cpu_ticks() {
  local total=0 p
  for p in "$@"; do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
  echo "$total"
}

# record_header TITLE: the first lines of a bench/RESULTS.md entry: the date and TITLE, the
# machine and its CPU pinning, the load average ($load_before, $load_after) and both servers (the
# commit, marked when the tree has edits besides RESULTS.md, and $redis --version). Uses $root.
record_header() {
  local model commit dirty pinning
  model=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')
  # Earlier results appended to RESULTS.md are not edits to what was measured.
  dirty=$(git -C "$root" status --porcelain -- . ':!bench/RESULTS.md' 2>/dev/null | grep -qv '^??' &&
    echo ' + uncommitted edits' || true)
  pinning=${server_cpu[*]:+"servers \`${server_cpu[*]}\`, client \`${client_cpu[*]}\`"}
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): $1"
  echo
  echo "- machine: $(nproc) CPUs, ${model:-unknown CPU}, $(uname -sr); pinning: ${pinning:-none}"
  echo "- load average (1/5/15 min) before: $load_before, after: $load_after"
  echo "- servers: dynakv $commit$dirty, $("$redis" --version | cut -d' ' -f1-3)"
}

# A base port whose three client ports and their bus ports (+10000) are free.
cluster_base() {
  local b i ok
  while :; do
    b=$((20000 + RANDOM % 19000))
    ok=1
    for i in 1 2 3; do
      if port_in_use $((b + i)) || port_in_use $((b + i + 10000)); then ok=0; fi
    done
    [ "$ok" = 1 ] && { echo "$b"; return; }
  done
}

# start_cluster NAME N: three nodes of $dynakv in $tmp (start_scratch), replication factor N,
# writes at QUORUM, an authenticated bus; sets $cports and $cpids (and adds them to $pids).
start_cluster() {
  local name=$1 n=$2 base i nodes
  [ -f "$tmp/secret" ] || od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' > "$tmp/secret"
  base=$(cluster_base)
  nodes="n1@127.0.0.1:$((base + 1)),n2@127.0.0.1:$((base + 2)),n3@127.0.0.1:$((base + 3))"
  cports=() cpids=()
  for i in 1 2 3; do
    mkdir -p "$tmp/$name$i"
    "$dynakv" --port $((base + i)) --bind 127.0.0.1 --dir "$tmp/$name$i" --cluster-enabled yes \
      --cluster-node-id "n$i" --cluster-secret-file "$tmp/secret" --cluster-nodes "$nodes" \
      --cluster-replication-factor "$n" --cluster-write-consistency quorum \
      > "$tmp/$name$i.log" 2>&1 &
    pids+=($!)
    cpids+=($!)
    cports+=($((base + i)))
  done
  for i in 0 1 2; do wait_ready "${cports[$i]}"; done
}

# spread PORT1 PORT2 PORT3: $requests of the script's `rps PORT CLIENTS REQUESTS` with 50 clients
# spread over three nodes; prints the summed ops/s.
spread() {
  local share=$((requests / 3)) s1 s2 s3
  rps "$1" 17 "$share" > "$tmp/s1" & s1=$!
  rps "$2" 17 "$share" > "$tmp/s2" & s2=$!
  rps "$3" 16 "$share" > "$tmp/s3" & s3=$!
  wait "$s1" "$s2" "$s3"
  cat "$tmp/s1" "$tmp/s2" "$tmp/s3" | awk '{s += $1} END {printf "%.0f", s}'
}

# bench_args DEFAULT_REQUESTS "$@": the options of the scripts run as
#   SCRIPT [--record] [-n REQUESTS] [OPTIONS...] [BUILD_DIR]
# Sets record (0/1), requests, build and dynakv ($DYNAKV_SERVER or BUILD_DIR's server); -h prints
# the script's leading comment block, its help. A script with options of its own defines
# bench_option OPTION NEXT_ARG before calling: it sets its variable and bench_took (1 for a flag,
# 2 when it used NEXT_ARG), or returns 1 for an option it does not know.
bench_args() {
  requests=$1
  shift
  record=0
  build="$root/build"
  while [ $# -gt 0 ]; do
    case "$1" in
      --record) record=1 ;;
      -n) requests=$2; shift ;;
      -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      -*)
        bench_took=0
        { declare -F bench_option >/dev/null && bench_option "$1" "${2-}"; } ||
          { echo "unknown option $1 (-h for help)" >&2; exit 1; }
        shift $((bench_took - 1))
        ;;
      *) build=$1 ;;
    esac
    shift
  done
  [[ "$requests" =~ ^[0-9]+$ ]] || { echo "-n takes a number" >&2; exit 1; }
  dynakv=${DYNAKV_SERVER:-$build/server/dynakv-server}
}
