#!/usr/bin/env bash
# Benchmarks the collection types of dynakv-server against redis-server 7 in one run, with the
# settings of bench.sh (both log every write with appendfsync everysec, Redis: AOF only; servers
# pinned to CPU 0, the client to CPU 1 when taskset exists; each test runs against dynakv, then
# redis, once neither has background disk work left).
#
#   bench/types.sh [--record] [--quick] [-n REQUESTS] [-r KEYSPACE] [-s SECONDS]
#                  [--baseline DYNAKV_SERVER] [--only LABEL,...] [--log-checkpoint-bytes SIZE]
#                  [BUILD_DIR]
#
# redis-benchmark -c 50 -r KEYSPACE -n REQUESTS -P P, P in 1 and 16 (default 200000 requests,
# keyspace 100000: the range of __rand_int__, so the most members SADD, HSET and ZADD make):
#   -t hset, lpush, rpush, lpop, rpop, sadd, spop, zadd, zpopmin, one test a run, in that order
#   (so each server sees the same sequence: the pops find what the pushes left); then
#   lrange_100, lrange_300, lrange_600 as redis-benchmark runs them ("LRANGE mylist 0 N-1" on a
#   list of 600 three-byte elements, loaded first), given as that command so that the run's CPU
#   time is the LRANGEs' alone (-t lrange_N would time its own LPUSH prelude in the same run).
# dynakv-loadgen -c 50 -P P -s SECONDS (default 5) on data it loads itself into both servers:
#   ZRANGEBYSCORE of 10 members of a 100,000-member sorted set, HGETALL of one of 1,000 hashes of
#   100 fields (10-byte values), BITCOUNT of a 128 KB bitmap.
# Besides throughput and p99, each server's own CPU time per request (user + system, from
# /proc/PID/stat around each run): the machine is shared with other work, which moves
# throughput and latency a lot and CPU per request little, so the CPU column is the fairer
# comparison. --quick: 20000 requests and 2 s per run (a smoke test: too short to compare).
# --baseline: a third server, an older dynakv-server, run the same way (a change must not make
# its numbers worse); its columns follow dynakv's.
# --only: just the tests of those labels (their first word: SADD,SPOP), still in the order above.
# --log-checkpoint-bytes: the dynakv servers' (default 64mb), so that checkpoints of the
# collections under test happen within a short run (in a full run the log of the earlier tests
# brings one into SADD -P 16). Below the table, for each dynakv server: the checkpoints each run
# saw and the longest time one of them held up the event loop (INFO checkpoint_loop_max_us: a
# write waiting for a collection's serialization shows there; "<= N": no checkpoint of the run
# went past the longest of the earlier runs, N).
# Prints a markdown table; --record appends it, with commands, date, machine and load, to
# bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
record=0
requests=200000
keyspace=100000
seconds=5
build="$root/build"
baseline=""
only=""
dynakv_flags=(--appendfsync everysec)
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=1 ;;
    --quick) requests=20000 seconds=2 ;;
    -n) requests=$2; shift ;;
    -r) keyspace=$2; shift ;;
    -s) seconds=$2; shift ;;
    --baseline) baseline=$2; shift ;;
    --only) only=",$2,"; shift ;;
    --log-checkpoint-bytes) dynakv_flags+=(--log-checkpoint-bytes "$2"); shift ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) build=$1 ;;
  esac
  shift
done
[[ "$requests" =~ ^[0-9]+$ ]] || { echo "-n takes a number" >&2; exit 1; }
[[ "$keyspace" =~ ^[0-9]+$ ]] || { echo "-r takes a number" >&2; exit 1; }
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "-s takes a whole number of seconds" >&2; exit 1; }
dynakv=${DYNAKV_SERVER:-$build/server/dynakv-server}
loadgen=${DYNAKV_LOADGEN:-$build/bench/dynakv-loadgen}
require_servers "$dynakv"
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "no baseline server at $baseline" >&2; exit 1; }
[ -x "$loadgen" ] || { echo "no dynakv-loadgen at $loadgen (cmake --build build --target dynakv-loadgen)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed" >&2; exit 1; }
redis=$(command -v redis-server)

start_scratch types
pin_cpus
declare -A port_of pid_of
start_server dynakv "$dynakv" "${dynakv_flags[@]}"
port_of[dynakv]=$port pid_of[dynakv]=$pid
servers=(dynakv)
if [ -n "$baseline" ]; then
  start_server baseline "$baseline" "${dynakv_flags[@]}"
  port_of[baseline]=$port pid_of[baseline]=$pid
  servers+=(baseline)
fi
start_server redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
port_of[redis]=$port pid_of[redis]=$pid
servers+=(redis)
ticks_per_second=$(getconf CLK_TCK)

# Each test: its label, then how it runs: "t NAME" (redis-benchmark -t NAME), "c COMMAND..."
# (redis-benchmark with that command) or "g TEST ARGS..." (dynakv-loadgen -t TEST ARGS).
tests=(
  "HSET|t hset" "LPUSH|t lpush" "RPUSH|t rpush" "LPOP|t lpop" "RPOP|t rpop" "SADD|t sadd"
  "SPOP|t spop" "ZADD|t zadd" "ZPOPMIN|t zpopmin"
  "LRANGE_100 (first 100 of 600)|c LRANGE mylist 0 99"
  "LRANGE_300 (first 300 of 600)|c LRANGE mylist 0 299"
  "LRANGE_600 (all 600)|c LRANGE mylist 0 599"
  "ZRANGEBYSCORE (10 of 100,000)|g zrangebyscore -r 100000 -i 10"
  "HGETALL (100 fields)|g hgetall -r 1000 -i 100 -d 10"
  "BITCOUNT (128 KB)|g bitcount -d 131072"
)
if [ -n "$only" ]; then
  chosen=()
  for t in "${tests[@]}"; do
    label=${t%%|*}
    [[ "$only" == *",${label%% *},"* ]] && chosen+=("$t")
  done
  [ ${#chosen[@]} -gt 0 ] || { echo "--only matches no test" >&2; exit 1; }
  tests=("${chosen[@]}")
fi
command_of() {  # command_of SPEC P: the client command line of test SPEC at pipeline P (no -p)
  local kind rest
  read -r kind rest <<<"${1#*|}"
  case "$kind" in
    t) echo "redis-benchmark -c 50 -r $keyspace -n $requests -P $2 --csv -t $rest" ;;
    c) echo "redis-benchmark -c 50 -r $keyspace -n $requests -P $2 --csv $rest" ;;
    g) echo "dynakv-loadgen -c 50 -P $2 -s $seconds --csv -t $rest" ;;
  esac
}

# persistence_field PORT FIELD: a number of INFO persistence.
persistence_field() {
  redis-cli -p "$1" info persistence | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

# run NAME I P: test I at pipeline P against server NAME; CSV row in $tmp/NAME.I.P.csv as
# "test","rps","p50","p99","requests"; CPU ticks in .cpu; for a dynakv server, the checkpoints
# and checkpoint_loop_max_us before and after in .ckpt.
run() {
  local name=$1 out="$tmp/$1.$2.$3" spec=${tests[$2]} before after cmd
  echo "  $name: ${spec%%|*}, pipeline $3 ..." >&2
  # shellcheck disable=SC2046
  quiesce $(for s in "${servers[@]}"; do echo "${port_of[$s]}"; done)
  cmd=$(command_of "$spec" "$3")
  if [ "$name" != redis ]; then
    ckpt_before="$(persistence_field "${port_of[$name]}" checkpoints)"
    ckpt_before+=" $(persistence_field "${port_of[$name]}" checkpoint_loop_max_us)"
  fi
  if [[ "$cmd" == dynakv-loadgen* ]]; then
    # The data is loaded by a first call (with a one-second run, thrown away); the measured one
    # only reads (--loaded), so that the CPU time counted is the requests'.
    # shellcheck disable=SC2086
    "${client_cpu[@]}" timeout 600 "$loadgen" -p "${port_of[$name]}" ${cmd#dynakv-loadgen} -s 1 \
      >/dev/null 2>"$tmp/$name.err" || { cat "$tmp/$name.err" >&2; exit 1; }
    # shellcheck disable=SC2046
    quiesce $(for s in "${servers[@]}"; do echo "${port_of[$s]}"; done)  # the load's checkpoint
  fi
  before=$(cpu_ticks "${pid_of[$name]}")
  if [[ "$cmd" == dynakv-loadgen* ]]; then
    # shellcheck disable=SC2086
    "${client_cpu[@]}" timeout 600 "$loadgen" -p "${port_of[$name]}" ${cmd#dynakv-loadgen} --loaded \
      >"$out.raw" 2>"$tmp/$name.err" || { cat "$tmp/$name.err" >&2; exit 1; }
    # "name","rps","p50","p99","count" already
    cp "$out.raw" "$out.csv"
  else
    # shellcheck disable=SC2086
    "${client_cpu[@]}" timeout 600 ${cmd/redis-benchmark/redis-benchmark -p ${port_of[$name]}} \
      >"$out.raw" 2>"$tmp/$name.err" || { cat "$tmp/$name.err" >&2; exit 1; }
    # "test","rps","avg","min","p50","p95","p99","max": the last row is the test's own.
    awk -F'","' -v n="$requests" '{ gsub(/^"|"$/, "") } $1 != "test" { row = $1 "\",\"" $2 "\",\"" $5 "\",\"" $7 "\",\"" n }
      END { print "\"" row "\"" }' "$out.raw" >"$out.csv"
  fi
  after=$(cpu_ticks "${pid_of[$name]}")
  echo $((after - before)) >"$out.cpu"
  if [ "$name" != redis ]; then
    quiesce "${port_of[$name]}"  # a checkpoint the run started counts for the run
    echo "$ckpt_before $(persistence_field "${port_of[$name]}" checkpoints)" \
      "$(persistence_field "${port_of[$name]}" checkpoint_loop_max_us)" >"$out.ckpt"
  fi
}

# The lists the LRANGE tests read: 600 elements "xxx", as redis-benchmark's own prelude pushes.
prepare_lists() {
  local s
  for s in "${servers[@]}"; do
    redis-cli -p "${port_of[$s]}" DEL mylist >/dev/null
    redis-benchmark -p "${port_of[$s]}" -c 1 -n 600 -t lpush -q >/dev/null
    [ "$(redis-cli -p "${port_of[$s]}" LLEN mylist)" = 600 ] ||
      { echo "mylist on $s is not 600 long" >&2; exit 1; }
  done
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in "${!tests[@]}"; do
  [[ "${tests[$i]}" == LRANGE_* && -z "${lists_ready:-}" ]] && prepare_lists && lists_ready=1
  for pipeline in 1 16; do
    for s in "${servers[@]}"; do run "$s" "$i" "$pipeline"; done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

field() {  # field NAME I P K: the K-th field (1-based) of the CSV row
  awk -F'","' -v k="$4" '{ gsub(/^"|"$/, ""); print $k }' "$tmp/$1.$2.$3.csv"
}
cpu_us() {  # cpu_us NAME I P: server CPU µs per request
  awk -v t="$(cat "$tmp/$1.$2.$3.cpu")" -v hz="$ticks_per_second" -v n="$(field "$1" "$2" "$3" 5)" \
    'BEGIN { printf "%.2f", (n > 0 ? t / hz / n * 1e6 : 0) }'
}
table() {
  echo "| test | P | dynakv ops/s | redis ops/s | ops ratio | dynakv p99 ms | redis p99 ms | p99 ratio | dynakv CPU µs/req | redis CPU µs/req | CPU ratio | target |${baseline:+ baseline ops/s | baseline p99 ms | baseline CPU µs/req |}"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|${baseline:+---|---|---|}"
  local i pipeline line
  for i in "${!tests[@]}"; do
    for pipeline in 1 16; do
      line=$(awk -v label="${tests[$i]%%|*}" -v p="$pipeline" \
        -v dr="$(field dynakv "$i" "$pipeline" 2)" -v rr="$(field redis "$i" "$pipeline" 2)" \
        -v dp="$(field dynakv "$i" "$pipeline" 4)" -v rp="$(field redis "$i" "$pipeline" 4)" \
        -v dc="$(cpu_us dynakv "$i" "$pipeline")" -v rc="$(cpu_us redis "$i" "$pipeline")" '
        BEGIN {
          ops = rr > 0 ? dr / rr : 0; lat = rp > 0 ? dp / rp : 0; cpu = rc > 0 ? dc / rc : 0
          need = p == 1 ? 0.9 : 1.0
          ok = (ops >= need && lat <= 1.2) ? "met" : "missed"
          printf "| %s | %s | %.0f | %.0f | %.2f | %s | %s | %.2f | %s | %s | %.2f | %s |",
                 label, p, dr, rr, ops, dp, rp, lat, dc, rc, cpu, ok
        }')
      if [ -n "$baseline" ]; then
        line+=$(printf " %.0f | %s | %s |" "$(field baseline "$i" "$pipeline" 2)" \
          "$(field baseline "$i" "$pipeline" 4)" "$(cpu_us baseline "$i" "$pipeline")")
      fi
      echo "$line"
    done
  done
}
# checkpoint_table: per run, each dynakv server's checkpoints and longest loop time of one.
checkpoint_table() {
  local s i pipeline header="| test | P |" rule="|---|---|" line
  for s in "${servers[@]}"; do
    [ "$s" = redis ] && continue
    header+=" $s checkpoints | $s checkpoint loop max µs |"
    rule+="---|---|"
  done
  echo "$header"
  echo "$rule"
  for i in "${!tests[@]}"; do
    for pipeline in 1 16; do
      line="| ${tests[$i]%%|*} | $pipeline |"
      for s in "${servers[@]}"; do
        [ "$s" = redis ] && continue
        line+=$(awk '{ n = $3 - $1; printf " %d | %s |", n, (n == 0 ? "-" : ($4 > $2 ? $4 : "<= " $2)) }' \
          "$tmp/$s.$i.$pipeline.ckpt")
      done
      echo "$line"
    done
  done
}

result=$(table)
echo "$result"
checkpoints=$(checkpoint_table)
echo
echo "$checkpoints"

if [ "$record" -eq 1 ]; then
  keyspace_arg=""
  [ "$keyspace" = 100000 ] || keyspace_arg=" -r $keyspace"
  {
    record_header "collection types vs redis-server (bench/types.sh)"
    [ -z "$baseline" ] || echo "- baseline: $baseline (an older dynakv-server: the numbers before this change)"
    echo "- command: \`bench/types.sh -n $requests$keyspace_arg -s $seconds${baseline:+ --baseline $baseline}${only:+ --only ${only:1:-1}}${dynakv_flags[2]:+ --log-checkpoint-bytes ${dynakv_flags[3]}}\`, that is, per test and pipeline P,"
    echo "  (dynakv servers started with \`${dynakv_flags[*]}\`)"
    echo "  against each server in turn (after \`redis-benchmark -c 1 -n 600 -t lpush\` for the LRANGEs):"
    for t in "${tests[@]}"; do echo "  \`$(command_of "$t" P)\`"; done
    echo "- CPU µs/req: the server's user + system CPU time during the run / requests. The machine"
    echo "  is shared with other engineers' builds and tests: ops/s and p99 move with their load,"
    echo "  CPU per request much less, so it is the fairer comparison of the two servers."
    echo "- target (issue 11): ops ratio >= 0.9 at P 1, >= 1.0 at P 16, and p99 ratio <= 1.2"
    echo
    echo "$result"
    echo
    echo "Checkpoints during each run (dynakv servers), and the longest any of them held up the event"
    echo "loop (INFO checkpoint_loop_max_us, which counts a write's wait for a collection's serialization;"
    echo "\"<= N\": none of the run's went past N, the longest of the earlier runs):"
    echo
    echo "$checkpoints"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
