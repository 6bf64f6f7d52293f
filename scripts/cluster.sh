#!/usr/bin/env bash
# A local dynakv cluster: one node per conf/cluster-<n>.toml (three are provided: ports
# 7001-7003, buses 17001-17003, data in ./data/cluster-<n>).
#
#   scripts/cluster.sh start  [n ...]   start the nodes (all by default) in the background
#   scripts/cluster.sh stop   [n ...]   SIGTERM them and wait until they have exited
#   scripts/cluster.sh status [n ...]   PING and RING of each node
#
# Naming nodes makes failure drills easy: `stop 2` takes node 2 down, `start 2` brings it back.
# Pid files and logs go to data/cluster-run/ (or $DYNAKV_CLUSTER_RUN). The server binary is
# $DYNAKV_SERVER, else build/server/dynakv-server (built with scripts/build.sh if missing).
# $DYNAKV_CLUSTER_CONF names another directory of cluster-<n>.toml files.
# The bus is authenticated with a cluster secret: a config's `secret-file` that does not exist
# yet is created on start with a random secret (mode 600; the provided configs share
# data/cluster-run/secret). Delete it with the nodes stopped to change the secret.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
server="${DYNAKV_SERVER:-${BUILD_DIR:-$root/build}/server/dynakv-server}"
run_dir="${DYNAKV_CLUSTER_RUN:-$root/data/cluster-run}"
conf_dir="${DYNAKV_CLUSTER_CONF:-$root/conf}"
start_timeout_s=10
stop_timeout_s=20

usage() {
  echo "usage: $0 start|stop|status [node-number ...]" >&2
  exit 2
}

# The node numbers to act on: the arguments, or every conf/cluster-<n>.toml.
select_nodes() {
  if [ $# -gt 0 ]; then
    for n in "$@"; do
      [[ "$n" =~ ^[0-9]+$ ]] || { echo "not a node number: $n" >&2; exit 2; }
      [ -f "$conf_dir/cluster-$n.toml" ] || { echo "no $conf_dir/cluster-$n.toml" >&2; exit 2; }
      echo "$n"
    done
    return
  fi
  for conf in "$conf_dir"/cluster-*.toml; do
    [ -e "$conf" ] || continue
    basename "$conf" .toml | sed 's/^cluster-//'
  done | sort -n
}

# The value of `key = ...` (first match, quotes dropped) in node $1's config.
conf_value() {
  sed -n "s/^$2[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"#]*\)\"\{0,1\}.*/\1/p" \
    "$conf_dir/cluster-$1.toml" | head -n 1 | sed 's/[[:space:]]*$//'
}

port_of() {
  conf_value "$1" port
}

pid_file() { echo "$run_dir/node-$1.pid"; }
log_file() { echo "$run_dir/node-$1.log"; }

# Whether process $1 runs (an exited node waiting to be reaped by whoever adopted it does not).
alive() {
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f 1)"
  [ -n "$state" ] && [ "$state" != "Z" ] && [ "$state" != "X" ]
}

# The pid of node $1 if it is running, else nothing. The pid must still be that node's server
# (its command line names the node's config), not a process that reused the number.
running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  [ -n "$pid" ] && alive "$pid" || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "cluster-$1\.toml" && echo "$pid"
  return 0
}

ping_node() { redis-cli -p "$1" PING 2>/dev/null || true; }

# Creates the secret file $1 names (if any and missing): 32 random bytes in hex.
ensure_secret() {
  [ -n "$1" ] && [ ! -e "$1" ] || return 0
  mkdir -p "$(dirname "$1")"
  (umask 077 && od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$1" && echo >>"$1")
  echo "generated a cluster secret in $1"
}

start_nodes() {
  if [ ! -x "$server" ]; then
    echo "building dynakv-server..."
    "$root/scripts/build.sh"
  fi
  mkdir -p "$run_dir"
  # Relative data dirs in the configs (./data/cluster-<n>) live under the repo root.
  cd "$root"
  local started=()
  for n in "$@"; do
    local pid
    pid="$(running_pid "$n")"
    if [ -n "$pid" ]; then
      echo "node $n already running (pid $pid)"
      continue
    fi
    mkdir -p "$(conf_value "$n" dir)"  # the storage engine creates no parent directories
    ensure_secret "$(conf_value "$n" secret-file)"
    nohup "$server" "$conf_dir/cluster-$n.toml" >>"$(log_file "$n")" 2>&1 &
    echo $! >"$(pid_file "$n")"
    started+=("$n")
  done
  local failed=0
  for n in "${started[@]+"${started[@]}"}"; do
    local port deadline
    port="$(port_of "$n")"
    deadline=$((SECONDS + start_timeout_s))
    until [ "$(ping_node "$port")" = "PONG" ]; do
      if [ -z "$(running_pid "$n")" ] || [ $SECONDS -ge $deadline ]; then
        echo "node $n did not come up on port $port; end of $(log_file "$n"):" >&2
        tail -n 20 "$(log_file "$n")" >&2 || true
        failed=1
        continue 2
      fi
      sleep 0.1
    done
    echo "node $n up on 127.0.0.1:$port (pid $(running_pid "$n"))"
  done
  return $failed
}

stop_nodes() {
  local failed=0
  for n in "$@"; do
    local pid deadline
    pid="$(running_pid "$n")"
    if [ -z "$pid" ]; then
      echo "node $n not running"
      rm -f "$(pid_file "$n")"
      continue
    fi
    kill -TERM "$pid"
    deadline=$((SECONDS + stop_timeout_s))
    while alive "$pid"; do
      if [ $SECONDS -ge $deadline ]; then
        echo "node $n (pid $pid) still running ${stop_timeout_s}s after SIGTERM" >&2
        failed=1
        continue 2
      fi
      sleep 0.1
    done
    rm -f "$(pid_file "$n")"
    echo "node $n stopped"
  done
  return $failed
}

status_nodes() {
  local down=0
  for n in "$@"; do
    local port pid
    port="$(port_of "$n")"
    pid="$(running_pid "$n")"
    if [ "$(ping_node "$port")" != "PONG" ]; then
      echo "node $n: 127.0.0.1:$port DOWN${pid:+ (pid $pid runs but does not answer)}"
      down=1
      continue
    fi
    echo "node $n: 127.0.0.1:$port up${pid:+ (pid $pid)}"
    redis-cli -p "$port" RING | sed 's/^/    /'
  done
  return $down
}

[ $# -ge 1 ] || usage
command="$1"
shift
selected="$(select_nodes "$@")"  # exits here on a bad node number
read -r -a nodes <<<"$(echo $selected)"
[ ${#nodes[@]} -gt 0 ] || { echo "no nodes: add conf/cluster-<n>.toml files" >&2; exit 2; }
case "$command" in
  start) start_nodes "${nodes[@]}" ;;
  stop) stop_nodes "${nodes[@]}" ;;
  status) status_nodes "${nodes[@]}" ;;
  *) usage ;;
esac
