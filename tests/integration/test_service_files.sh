#!/usr/bin/env bash
# Running as a classic Unix service: logfile (and its reopening on SIGHUP after logrotate moved
# it), pidfile (written, removed at exit) and daemonize (the launcher returns at once, the node
# runs in its own session with stdio on /dev/null or the logfile). Every wait is bounded.
set -uo pipefail

server=${DYNAKV_SERVER:?set DYNAKV_SERVER to the server binary}
case "$(basename "$server")" in
  redis-server*) echo "skipped: dynakv's SIGHUP log reopening"; exit 0 ;;
esac
tmp=$(mktemp -d /tmp/dynakv-itest-service-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

source "$(dirname "$0")/../shell_util.sh"
cli() { timeout 10 redis-cli -p "$port" "$@" 2>&1; }
answers() { [ "$(cli ping)" = PONG ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# --- logfile, reopened on SIGHUP ------------------------------------------------------------
port=$(free_port)
mkdir -p "$tmp/log"
log="$tmp/log/dynakv.log"
"$server" --port "$port" --dir "$tmp/data1" --logfile "$log" >"$tmp/stdout1" 2>"$tmp/stderr1" &
pid=$!
pids+=("$pid")
wait_until 100 answers || fail "the node with a logfile does not answer"
grep -q "Ready to accept connections" "$log" || fail "the log file lacks the start lines"
grep -q "Ready to accept connections" "$tmp/stderr1" && fail "log lines still go to stderr"
# logrotate without copytruncate: rename, then SIGHUP (the snippet's postrotate).
mv "$log" "$log.1"
cli set k v >/dev/null
kill -HUP "$pid"
wait_until 50 test -s "$log" || fail "SIGHUP did not create a fresh log file"
answers || fail "the node stopped answering after SIGHUP"
grep -q "log file reopened" "$log" || fail "the fresh log lacks the reopen line"
cli shutdown >/dev/null
wait_until 100 gone "$pid" || fail "SHUTDOWN did not stop the node"
grep -q "ready to exit" "$log" || fail "lines after the rotation did not reach the new file"
grep -q "ready to exit" "$log.1" && fail "lines after the rotation went to the rotated file"
grep -q "Ready to accept connections" "$log.1" || fail "the rotated file lost its lines"

# Without a logfile SIGHUP must not kill the node (its default action would).
port=$(free_port)
"$server" --port "$port" --dir "$tmp/data2" >"$tmp/stderr2" 2>&1 &
pid=$!
pids+=("$pid")
wait_until 100 answers || fail "the node does not answer"
kill -HUP "$pid"
sleep 0.3
answers || fail "SIGHUP without a logfile killed the node"
kill "$pid"
wait_until 100 gone "$pid" || fail "SIGTERM did not stop the node"

# A log file that cannot be opened stops the start, with the reason on stderr.
port=$(free_port)
timeout 10 "$server" --port "$port" --dir "$tmp/data3" --logfile "$tmp/no/such/dir/x.log" \
  >"$tmp/stderr3" 2>&1
status=$?
[ "$status" -eq 1 ] || fail "an unopenable logfile: exit status $status, expected 1"
grep -q "Can't open the log file '$tmp/no/such/dir/x.log'" "$tmp/stderr3" ||
  fail "no reason given for the unopenable logfile: $(cat "$tmp/stderr3")"

# --- pidfile ----------------------------------------------------------------------------------
port=$(free_port)
"$server" --port "$port" --dir "$tmp/data4" --pidfile "$tmp/fg.pid" >"$tmp/stderr4" 2>&1 &
pid=$!
pids+=("$pid")
wait_until 100 answers || fail "the node with a pidfile does not answer"
[ "$(cat "$tmp/fg.pid" 2>/dev/null)" = "$pid" ] || fail "pidfile holds '$(cat "$tmp/fg.pid")', not $pid"
kill "$pid"
wait_until 100 gone "$pid" || fail "SIGTERM did not stop the node"
[ -e "$tmp/fg.pid" ] && fail "the pidfile outlived the node"

# --- daemonize --------------------------------------------------------------------------------
# A node in the foreground, to compare the daemon's threads with.
port=$(free_port)
"$server" --port "$port" --dir "$tmp/data7" >"$tmp/stderr7" 2>&1 &
pid_fg_jemalloc=$!
pids+=("$pid_fg_jemalloc")
wait_until 100 answers || fail "the foreground node does not answer"
port=$(free_port)
start=$(date +%s)
timeout 10 "$server" --port "$port" --dir "$tmp/data5" --daemonize yes --pidfile "$tmp/d.pid" \
  --logfile "$tmp/d.log" >"$tmp/stdout5" 2>&1
status=$?
[ "$status" -eq 0 ] || fail "daemonize yes: the launcher exited $status"
[ $(($(date +%s) - start)) -le 5 ] || fail "daemonize yes: the launcher did not return at once"
wait_until 100 test -s "$tmp/d.pid" || fail "the daemon wrote no pidfile"
dpid=$(cat "$tmp/d.pid" 2>/dev/null)
pids+=("$dpid")
wait_until 100 answers || fail "the daemon does not answer"
[ "$(cli info server | tr -d '\r' | sed -n 's/^process_id://p')" = "$dpid" ] ||
  fail "the pidfile's pid is not the daemon's"
# Its own session (setsid), stdin/stdout on /dev/null, stderr the logfile.
sid=$(awk '{print $6}' "/proc/$dpid/stat")
[ "$sid" = "$dpid" ] || fail "the daemon is not a session leader (sid $sid)"
[ "$(readlink "/proc/$dpid/fd/0")" = /dev/null ] || fail "the daemon's stdin is not /dev/null"
[ "$(readlink "/proc/$dpid/fd/1")" = /dev/null ] || fail "the daemon's stdout is not /dev/null"
[ "$(readlink "/proc/$dpid/fd/2")" = "$tmp/d.log" ] || fail "the daemon's stderr is not the logfile"
grep -q "Ready to accept connections" "$tmp/d.log" || fail "the daemon's log lacks its start"
[ -s "$tmp/stdout5" ] && fail "the daemon wrote to the launcher's terminal: $(cat "$tmp/stdout5")"
# A forked child has none of the parent's threads: jemalloc's background thread (main.cc's
# malloc_conf) must run in the daemon as in a node started in the foreground.
threads() { cat /proc/"$1"/task/*/comm 2>/dev/null | grep -c '^jemalloc_bg_thd'; }
fg_threads=$(threads "$pid_fg_jemalloc") daemon_threads=$(threads "$dpid")
[ "$fg_threads" = "$daemon_threads" ] ||
  fail "jemalloc background threads: $daemon_threads in the daemon, $fg_threads in the foreground"
kill "$pid_fg_jemalloc"
kill "$dpid"
wait_until 100 gone "$dpid" || fail "SIGTERM did not stop the daemon"
wait_until 20 test ! -e "$tmp/d.pid" || fail "the daemon's pidfile outlived it"

# Daemonized without a logfile: the log goes to /dev/null, as Redis's does.
port=$(free_port)
timeout 10 "$server" --port "$port" --dir "$tmp/data6" --daemonize yes --pidfile "$tmp/d2.pid" \
  >"$tmp/stdout6" 2>&1 || fail "daemonize yes without a logfile: the launcher failed"
wait_until 100 test -s "$tmp/d2.pid" || fail "the daemon wrote no pidfile"
dpid=$(cat "$tmp/d2.pid" 2>/dev/null)
pids+=("$dpid")
wait_until 100 answers || fail "the daemon without a logfile does not answer"
[ "$(readlink "/proc/$dpid/fd/2")" = /dev/null ] || fail "its stderr is not /dev/null"
cli shutdown >/dev/null
wait_until 100 gone "$dpid" || fail "SHUTDOWN did not stop the daemon"

exit_on_failures
echo "all service file checks passed"
