#!/usr/bin/env bash
# The installable service, end to end, without touching the machine:
#  1. `cmake --install` into a scratch DESTDIR: the server and dynakv-check-log, the default
#     config in etc/dynakv/, the systemd unit and the logrotate snippet, with the prefix's paths;
#     the installed server started on the installed config (moved to a scratch dir and port)
#     answers PING and logs to its logfile; the logrotate snippet run by logrotate. (What the
#     unit's Type=notify expects from the server is tests/integration/test_service_notify.cc.)
#  2. cpack's .deb inspected with dpkg-deb (contents, unit, dependencies, maintainer scripts,
#     conffiles); the unit checked by systemd-analyze verify; the package unpacked with dpkg -x
#     into a scratch root and its server started from there.
#  3. As root: dpkg -i inside a private mount namespace whose /etc, /usr and /var are overlays
#     thrown away at the end, so the maintainer scripts really run (user, directories, enabled
#     unit) and the service binary runs as the dynakv user on the packaged config; then remove
#     and purge. Skipped without root (exit 77 if nothing else failed), required under CI.
# Usage: test_install.sh <build dir> <source dir>. Bounded: every step has a timeout.
set -uo pipefail

build=$(cd "${1:?build dir}" && pwd)
source=$(cd "${2:?source dir}" && pwd)
tmp=$(mktemp -d /tmp/dynakv-install-XXXXXX)
pids=()
cleanup() {
  [ -n "${DYNAKV_ITEST_KEEP:-}" ] && { echo "kept $tmp"; return; }
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

source "$(dirname "$0")/../shell_util.sh"
answers() { [ "$(timeout 5 redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }
wait_answers() {
  for _ in $(seq 100); do
    answers "$1" && return 0
    sleep 0.1
  done
  return 1
}

# A copy of an installed config for a scratch run: its data dir, logfile and port moved.
scratch_config() {  # scratch_config <installed toml> <out toml> <dir> <port>
  sed -e "s|^dir = .*|dir = \"$3/data\"|" -e "s|^logfile = .*|logfile = \"$3/dynakv.log\"|" \
    -e "s|^port = 6379|port = $4|" "$1" >"$2"
  grep -q "^port = $4" "$2" || fail "could not move the config's port: $(grep '^port' "$2")"
}

# Starts `binary` on `config` (scratch_config'd), checks PING and the logfile, stops it.
run_installed() {  # run_installed <label> <binary> <installed toml>
  local label=$1 binary=$2 installed=$3 dir port pid
  dir=$(mktemp -d "$tmp/run-XXXXXX")
  port=$(free_port)
  scratch_config "$installed" "$dir/node.toml" "$dir" "$port"
  timeout 60 "$binary" "$dir/node.toml" >"$dir/stdout" 2>&1 &
  pid=$!
  pids+=("$pid")
  if wait_answers "$port"; then
    [ "$(timeout 5 redis-cli -p "$port" set k v)" = OK ] || fail "$label: SET failed"
    grep -q "Configuration loaded from $dir/node.toml" "$dir/dynakv.log" ||
      fail "$label: the logfile lacks the start lines"
    timeout 5 redis-cli -p "$port" shutdown >/dev/null 2>&1
    wait "$pid" || fail "$label: exit status $? after SHUTDOWN"
    [ -n "$(ls "$dir/data")" ] || fail "$label: nothing written to the data dir"
  else
    fail "$label: the installed server does not answer PING: $(tail -n 5 "$dir/dynakv.log" "$dir/stdout")"
  fi
}

# --- 1. cmake --install ---------------------------------------------------------------------
root="$tmp/root"
if ! DESTDIR="$root" timeout 120 cmake --install "$build" --prefix /opt/dynakv >"$tmp/install.log" 2>&1; then
  fail "cmake --install failed: $(tail -n 5 "$tmp/install.log")"
fi
for f in bin/dynakv-server bin/dynakv-check-log etc/dynakv/dynakv.toml \
  lib/systemd/system/dynakv.service etc/logrotate.d/dynakv; do
  [ -f "$root/opt/dynakv/$f" ] || fail "cmake --install did not install $f"
done
[ -x "$root/opt/dynakv/bin/dynakv-server" ] || fail "the server is not executable"
unit="$root/opt/dynakv/lib/systemd/system/dynakv.service"
grep -qx "ExecStart=/opt/dynakv/bin/dynakv-server /opt/dynakv/etc/dynakv/dynakv.toml --daemonize no" \
  "$unit" || fail "the unit's ExecStart has not the prefix's paths: $(grep ExecStart "$unit")"
for line in Type=notify Restart=on-failure LimitNOFILE=65536 ProtectSystem=strict \
  "ReadWritePaths=/var/lib/dynakv /var/log/dynakv" NoNewPrivileges=yes PrivateTmp=yes \
  User=dynakv WantedBy=multi-user.target; do
  grep -qx "$line" "$unit" || fail "the unit lacks '$line'"
done
conf="$root/opt/dynakv/etc/dynakv/dynakv.toml"
grep -qE '^dir = "/var/lib/dynakv"( |$)' "$conf" || fail "the installed config's dir is not /var/lib/dynakv"
grep -q '^logfile = "/var/log/dynakv/dynakv.log"' "$conf" || fail "the installed config logs nowhere"
# Everything else is conf/node.toml's.
diff <(grep -v -e '^dir = ' -e '^logfile = ' "$source/conf/node.toml") \
  <(grep -v -e '^dir = ' -e '^logfile = ' "$conf") >/dev/null ||
  fail "the installed config differs from conf/node.toml beyond dir and logfile"
grep -q "^/var/log/dynakv/\*.log {" "$root/opt/dynakv/etc/logrotate.d/dynakv" ||
  fail "the logrotate snippet does not cover the config's logfile"
# A second install keeps an edited config (an operator's changes survive a reinstall).
echo "# edited" >>"$conf"
DESTDIR="$root" timeout 120 cmake --install "$build" --prefix /opt/dynakv >/dev/null 2>&1
grep -q "^# edited" "$conf" || fail "a reinstall overwrote the edited config"
"$root/opt/dynakv/bin/dynakv-check-log" --help >/dev/null 2>&1 ||
  fail "the installed dynakv-check-log does not run"
run_installed "cmake --install" "$root/opt/dynakv/bin/dynakv-server" "$conf"

# The logrotate snippet, run for real by logrotate on a scratch copy: the log moved away, the
# node told to reopen it (the snippet's postrotate, here a SIGHUP to the scratch node's pid),
# older ones compressed.
if command -v logrotate >/dev/null; then
  dir=$(mktemp -d "$tmp/logrotate-XXXXXX")
  port=$(free_port)
  scratch_config "$conf" "$dir/node.toml" "$dir" "$port"
  # Not under timeout(1): the signals must reach the node itself (cleanup kills it).
  "$root/opt/dynakv/bin/dynakv-server" "$dir/node.toml" >/dev/null 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_answers "$port" || fail "logrotate: the node does not answer"
  snippet="$root/opt/dynakv/etc/logrotate.d/dynakv"
  reload='systemctl reload dynakv.service >/dev/null 2>&1 || true'
  grep -qF "$reload" "$snippet" || fail "logrotate: the snippet's postrotate is not '$reload'"
  sed -e "s|^/var/log/dynakv/\*.log {|$dir/*.log {|" -e '/^\tsu dynakv dynakv$/d' \
    -e "s#$reload#kill -HUP $pid#" "$snippet" >"$dir/logrotate.conf"
  grep -q "kill -HUP $pid" "$dir/logrotate.conf" || fail "logrotate: could not adapt the snippet"
  for round in 1 2; do
    timeout 5 redis-cli -p "$port" config set loglevel notice >/dev/null  # a line to rotate
    timeout 60 logrotate -f -s "$dir/state" "$dir/logrotate.conf" ||
      fail "logrotate round $round failed"
    for _ in $(seq 50); do
      grep -q "log file reopened" "$dir/dynakv.log" 2>/dev/null && break
      sleep 0.1
    done
    grep -q "log file reopened" "$dir/dynakv.log" 2>/dev/null ||
      fail "logrotate round $round: the node did not reopen its log"
  done
  [ -s "$dir/dynakv.log.1" ] || fail "logrotate: no dynakv.log.1 (delaycompress keeps it plain)"
  [ -s "$dir/dynakv.log.2.gz" ] || fail "logrotate: no compressed dynakv.log.2.gz"
  zgrep -q "Ready to accept connections" "$dir/dynakv.log.2.gz" ||
    fail "logrotate: the first log's lines are not in dynakv.log.2.gz"
  timeout 5 redis-cli -p "$port" shutdown >/dev/null 2>&1
  wait "$pid" || fail "logrotate: exit status $? after SHUTDOWN"
  grep -q "ready to exit" "$dir/dynakv.log" || fail "logrotate: the last lines missed the new log"
else
  [ "${CI:-}" = true ] && fail "CI must have logrotate (scripts/deps.sh) for the snippet's test"
  echo "note: logrotate not installed, the snippet was not run"
fi

# --- 2. the .deb ----------------------------------------------------------------------------
mkdir -p "$tmp/pkg"
if ! (cd "$tmp/pkg" && timeout 300 cpack --config "$build/CPackConfig.cmake" -B "$tmp/pkg" \
  >"$tmp/cpack.log" 2>&1); then
  fail "cpack failed: $(tail -n 5 "$tmp/cpack.log")"
fi
deb=$(ls "$tmp"/pkg/dynakv_*.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
  fail "cpack made no .deb"
else
  contents=$(dpkg-deb -c "$deb")
  for f in ./usr/bin/dynakv-server ./usr/bin/dynakv-check-log ./etc/dynakv/dynakv.toml \
    ./usr/lib/systemd/system/dynakv.service ./etc/logrotate.d/dynakv; do
    grep -q " $f\$" <<<"$contents" || fail "the .deb lacks $f"
  done
  grep -q "/usr/local\|/opt/" <<<"$contents" && fail "the .deb installs outside /usr and /etc"
  [ "$(dpkg-deb -f "$deb" Package)" = dynakv ] || fail "package name"
  depends=$(dpkg-deb -f "$deb" Depends)
  # From the shared libraries the server links (dpkg-shlibdeps), and the maintainer scripts'.
  for dep in libuv1 libsystemd0 libjemalloc2 liblz4-1 libssl3 libtomlplusplus3 libstdc++6 \
    libc6 adduser init-system-helpers; do
    grep -q "\(^\|, \)$dep\( \|,\|$\)" <<<"$depends" || fail "Depends lacks $dep: $depends"
  done
  mkdir -p "$tmp/control"
  dpkg-deb -e "$deb" "$tmp/control"
  for script in postinst prerm postrm; do
    [ -x "$tmp/control/$script" ] || fail "maintainer script $script missing or not executable"
    sh -n "$tmp/control/$script" || fail "maintainer script $script has a syntax error"
  done
  grep -q "adduser --system" "$tmp/control/postinst" || fail "postinst creates no system user"
  grep -q "deb-systemd-helper enable dynakv.service" "$tmp/control/postinst" ||
    fail "postinst does not enable the unit"
  grep -q "deb-systemd-invoke stop dynakv.service" "$tmp/control/prerm" ||
    fail "prerm does not stop the service"
  [ "$(cat "$tmp/control/conffiles")" = "$(printf '/etc/dynakv/dynakv.toml\n/etc/logrotate.d/dynakv')" ] ||
    fail "conffiles: $(cat "$tmp/control/conffiles")"

  # dpkg -x: the packaged server, run from a scratch root.
  xroot="$tmp/xroot"
  dpkg -x "$deb" "$xroot" || fail "dpkg -x failed"
  grep -qx "ExecStart=/usr/bin/dynakv-server /etc/dynakv/dynakv.toml --daemonize no" \
    "$xroot/usr/lib/systemd/system/dynakv.service" || fail "the packaged unit's ExecStart"
  run_installed "dpkg -x" "$xroot/usr/bin/dynakv-server" "$xroot/etc/dynakv/dynakv.toml"

  # The unit as systemd parses it (any warning fails), with ExecStart on the unpacked binary.
  if command -v systemd-analyze >/dev/null; then
    mkdir -p "$tmp/verify"
    sed "s|/usr/bin/dynakv-server|$xroot/usr/bin/dynakv-server|" \
      "$xroot/usr/lib/systemd/system/dynakv.service" >"$tmp/verify/dynakv.service"
    out=$(timeout 60 systemd-analyze verify "$tmp/verify/dynakv.service" 2>&1)
    [ $? -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify: $out"
  else
    echo "note: systemd-analyze not installed, unit not verified"
  fi
fi

# --- 3. dpkg -i in a throwaway overlay of /etc, /usr and /var ------------------------------------
skipped=0
if [ -n "${deb:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
  command -v setpriv >/dev/null; then
  port=$(free_port)
  timeout 120 unshare --mount --propagation private bash -s "$deb" "$tmp/ov" "$port" \
    >"$tmp/dpkg.log" 2>&1 <<'INNER'
set -uo pipefail
deb=$1 ov=$2 port=$3
bad=0
check() { if ! eval "$1"; then echo "FAIL: dpkg -i: $2"; bad=1; fi; }
for d in etc usr var; do
  mkdir -p "$ov/$d/up" "$ov/$d/work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$ov/$d/up,workdir=$ov/$d/work" "/$d" ||
    { echo "SKIP: no overlayfs"; exit 77; }
done
dpkg -i "$deb" || { echo "FAIL: dpkg -i exited $?"; exit 1; }
check 'getent passwd dynakv >/dev/null' "no dynakv user"
check '[ "$(stat -c %U:%a /var/lib/dynakv)" = dynakv:750 ]' "data dir $(stat -c %U:%a /var/lib/dynakv)"
check '[ "$(stat -c %U /var/log/dynakv)" = dynakv ]' "log dir not the user's"
check '[ "$(stat -c %U:%G:%a /etc/dynakv/dynakv.toml)" = root:dynakv:640 ]' "config $(stat -c %U:%G:%a /etc/dynakv/dynakv.toml)"
check '[ -L /etc/systemd/system/multi-user.target.wants/dynakv.service ]' "the unit is not enabled"
# The service's command line, as the unit runs it: user dynakv, the packaged config (another
# port: 6379 may be taken on this machine).
setpriv --reuid dynakv --regid dynakv --init-groups --no-new-privs \
  /usr/bin/dynakv-server /etc/dynakv/dynakv.toml --daemonize no --port "$port" &
pid=$!
for _ in $(seq 100); do
  [ "$(timeout 5 redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
check '[ "$(timeout 5 redis-cli -p "$port" set k v)" = OK ]' \
  "the service binary does not serve; its log: $(tail -n 5 /var/log/dynakv/dynakv.log 2>&1)"
kill "$pid"
wait "$pid"
check '[ $? -eq 0 ]' "the service binary did not exit cleanly"
check 'grep -q "Ready to accept connections" /var/log/dynakv/dynakv.log' "no log in /var/log/dynakv"
check '[ -n "$(ls /var/lib/dynakv)" ]' "no data in /var/lib/dynakv"
check '[ "$(stat -c %U "$(ls -d /var/lib/dynakv/* | head -1)")" = dynakv ]' "data not owned by dynakv"
dpkg --remove dynakv || { echo "FAIL: dpkg --remove exited $?"; bad=1; }
check '[ ! -e /usr/bin/dynakv-server ]' "remove left the binary"
check '[ -e /etc/dynakv/dynakv.toml ]' "remove deleted the conffile (only purge may)"
dpkg --purge dynakv || { echo "FAIL: dpkg --purge exited $?"; bad=1; }
check '[ ! -e /etc/dynakv/dynakv.toml ]' "purge left the config"
check '[ ! -e /etc/systemd/system/multi-user.target.wants/dynakv.service ]' "purge left the unit enabled"
check '[ ! -e /var/log/dynakv ]' "purge left the logs"
check '[ -n "$(ls /var/lib/dynakv)" ]' "purge deleted the data"
exit $bad
INNER
  status=$?
  if [ "$status" -eq 77 ]; then
    skipped=1
  elif [ "$status" -ne 0 ]; then
    fail "dpkg -i in an overlay (status $status): $(grep -e FAIL -e SKIP "$tmp/dpkg.log" | head -20) $(tail -n 3 "$tmp/dpkg.log")"
  fi
  # Nothing leaked out of the namespace.
  [ -e /usr/bin/dynakv-server ] && ! dpkg -s dynakv >/dev/null 2>&1 &&
    fail "the overlay leaked /usr/bin/dynakv-server onto the machine"
else
  skipped=1
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
if [ "$skipped" -eq 1 ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: CI must run the dpkg -i part (root, unshare, overlayfs)"
    exit 1
  fi
  echo "passed, except dpkg -i (needs root, unshare and overlayfs): skipped"
  exit 77
fi
echo "all install checks passed"
