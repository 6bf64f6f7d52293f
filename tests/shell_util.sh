# Shared by the shell tests (integration/test_*.sh, install/test_install.sh): sourced, not run.
# Failures are counted rather than fatal, so one run reports every broken check; `finish`
# turns the count into the exit status ctest reads.

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local port
  while :; do
    # Below the kernel's ephemeral range (32768-60999), where no outgoing connection of a busy
    # machine holds the port as its own.
    port=$((10000 + RANDOM % 22000))
    port_in_use "$port" || { echo "$port"; return; }
  done
}

wait_until() {  # wait_until <tenths of a second> <command...>
  local n=$1
  shift
  for _ in $(seq "$n"); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# Exits 1 with the failure count when a check failed; returns otherwise.
exit_on_failures() {
  [ "$failures" -eq 0 ] && return 0
  echo "$failures failure(s)"
  exit 1
}
