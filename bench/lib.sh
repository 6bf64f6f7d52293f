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
