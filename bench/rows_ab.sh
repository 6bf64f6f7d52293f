#!/usr/bin/env bash
# A/B of chosen bench/bench.sh rows on a loaded machine: dynakv-server, a baseline dynakv-server
# (an older build) and redis-server, each row run against all three in turn, the whole set
# repeated ROUNDS times; the table shows per server the median ops/s, p99 and server CPU per
# request (user + system ticks of the server / its commands processed) over the rounds, and the
# ratios of the medians to Redis's. Taking turns within each round (in an order that rotates
# each round) means all three see the same neighbours' load; the medians drop the rounds a
# neighbour's build spoiled.
#
#   bench/rows_ab.sh --baseline OLD_DYNAKV_SERVER [--record] [--rounds N] [--perf ROW] [-s SECONDS]
#                    [BUILD_DIR] ROW...
#
# ROW: `rb:SIZE:P:TESTS` runs `redis-benchmark -c 50 -n N -r K -d SIZE -P P -t TESTS` (N and K as
# bench/bench.sh's --quick picks them for SIZE and P: -n 12000 for 16 KB -P 1, ...; each listed
# test is a row of the table, but the CPU column is then per command of all of them: give
# `rb:16384:1:set rb:16384:1:get` as two ROWs, set first so GET finds values);
# `lg:SIZE:P:TEST:KIND` runs `dynakv-loadgen -c 50 -P P -d SIZE -s SECONDS -r K -t TEST -v KIND`.
# Same settings as bench/bench.sh (appendfsync everysec, servers on CPU 0, client on CPU 1).
# --perf ROW records `perf record -g` of the new dynakv during that ROW's runs into $PERF_DIR
# (default /tmp/dynakv-rows-perf), a `perf report --no-children` text next to each.
# --record appends the table, the commands and the load averages to bench/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
record=0 rounds=3 seconds=3 baseline="" perf_row="" build="$root/build" rows=()
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=1 ;;
    --baseline) baseline=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --perf) perf_row=$2; shift ;;
    -s) seconds=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    rb:*|lg:*) rows+=("$1") ;;
    *) build=$1 ;;
  esac
  shift
done
[[ "$rounds" =~ ^[0-9]+$ && "$seconds" =~ ^[0-9]+$ ]] || { echo "--rounds and -s take numbers" >&2; exit 1; }
[ "${#rows[@]}" -gt 0 ] || { echo "no ROW given (-h for help)" >&2; exit 1; }
[ -x "$baseline" ] || { echo "--baseline OLD_DYNAKV_SERVER is required" >&2; exit 1; }
dynakv=${DYNAKV_SERVER:-$build/server/dynakv-server}
loadgen=${DYNAKV_LOADGEN:-$build/bench/dynakv-loadgen}
redis=$(command -v redis-server || true)
require_servers "$dynakv"
perf_dir=${PERF_DIR:-/tmp/dynakv-rows-perf}
[ -z "$perf_row" ] || mkdir -p "$perf_dir"

start_scratch rows
pin_cpus
servers=(new base redis)
declare -A ports spids
start_server new "$dynakv" --appendfsync everysec
ports[new]=$port spids[new]=$pid
start_server base "$baseline" --appendfsync everysec
ports[base]=$port spids[base]=$pid
start_server redis "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
ports[redis]=$port spids[redis]=$pid
clk=$(getconf CLK_TCK)

# The sizes of bench/bench.sh --quick.
keyspace() { if [ "$1" -ge 1048576 ]; then echo 64; elif [ "$1" -ge 16384 ]; then echo 10000; else echo 100000; fi; }
requests() {
  case "$1:$2" in
    3:1) echo 200000 ;; 3:16) echo 600000 ;; 1024:1) echo 30000 ;; 1024:16) echo 60000 ;;
    16384:1) echo 12000 ;; 16384:16) echo 30000 ;; *) echo 400 ;;
  esac
}
# row_cmd ROW: the command of ROW, without -p.
row_cmd() {
  local kind size p t v
  IFS=: read -r kind size p t v <<<"$1"
  if [ "$kind" = rb ]; then
    echo "redis-benchmark -c 50 -n $(requests "$size" "$p") -r $(keyspace "$size") -d $size -P $p --csv -t $t"
  else
    echo "$loadgen -c 50 -P $p -d $size -s $seconds -r $(keyspace "$size") -t $t -v $v --csv"
  fi
}
commands() { redis-cli -p "$1" info commandstats | tr -d '\r' | awk -F'[=,:]' -v t="$2" \
  '{ for (i = 1; i <= split(t, ts, ","); i++) if ($1 == "cmdstat_" ts[i]) s += $3 } END { print s + 0 }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$rounds"); do
  for row in "${rows[@]}"; do
    tests=$(cut -d: -f4 <<<"$row")
    # The order rotates each round: a server's place in it (first after the quiesce, or right
    # after another's run) is not the same one's every time.
    for i in 0 1 2; do
      s=${servers[$(((i + round - 1) % 3))]}
      echo "  round $round: $row against $s ..." >&2
      quiesce "${ports[new]}" "${ports[base]}" "${ports[redis]}"
      ticks0=$(cpu_ticks "${spids[$s]}") cmds0=$(commands "${ports[$s]}" "$tests") perf_pid=""
      if [ "$row" = "$perf_row" ] && [ "$s" = new ]; then
        perf record -g -o "$perf_dir/round$round.perf.data" -p "${spids[new]}" >/dev/null 2>&1 &
        perf_pid=$!
      fi
      # shellcheck disable=SC2046
      "${client_cpu[@]}" timeout 600 $(row_cmd "$row") -p "${ports[$s]}" >"$tmp/out" 2>"$tmp/err" || {
        echo "$row against $s failed:" >&2; cat "$tmp/err" >&2; exit 1; }
      if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"; wait "$perf_pid" || true
        perf report -i "$perf_dir/round$round.perf.data" --no-children --percent-limit 0.5 --stdio \
          >"$perf_dir/round$round.txt" 2>/dev/null || true
      fi
      us=$(awk -v t=$(($(cpu_ticks "${spids[$s]}") - ticks0)) \
        -v c=$(($(commands "${ports[$s]}" "$tests") - cmds0)) -v hz="$clk" \
        'BEGIN { printf "%.2f", (c > 0 ? t / hz * 1e6 / c : 0) }')
      # One line per test: ROW|TEST s ops p99 cpu (redis-benchmark CSV: "test","rps","avg",
      # "min","p50","p95","p99","max"; loadgen: test,rps,p50,p99; CPU is per command of the run).
      awk -F'","|,' -v row="$row" -v s="$s" -v us="$us" '
        { gsub(/^"|"$/, "") } $1 == "test" { next }
        { p99 = NF >= 8 ? $7 : $4; gsub(/ /, "_", $1); print row "|" $1, s, $2, p99, us }' "$tmp/out" >>"$tmp/results"
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table() {
  echo "| row | test | new / base / redis ops/s | new / base ops ratio to redis | new / base / redis p99 ms | new / base p99 ratio | CPU us/request new / base / redis |"
  echo "|---|---|---|---|---|---|---|"
  awk '
    function med(key,   n, i, j, t, a) {
      n = split(vals[key], a, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n == 0 ? 0 : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    { if (!($1 in seen)) { seen[$1] = 1; order[++rows] = $1 }
      vals[$1 SUBSEP $2 SUBSEP "ops"] = vals[$1 SUBSEP $2 SUBSEP "ops"] " " $3
      vals[$1 SUBSEP $2 SUBSEP "p99"] = vals[$1 SUBSEP $2 SUBSEP "p99"] " " $4
      vals[$1 SUBSEP $2 SUBSEP "cpu"] = vals[$1 SUBSEP $2 SUBSEP "cpu"] " " $5 }
    END {
      for (r = 1; r <= rows; r++) {
        k = order[r]; split(k, parts, "|")
        for (m = 1; m <= 3; m++) {
          w = m == 1 ? "ops" : m == 2 ? "p99" : "cpu"
          n[w] = med(k SUBSEP "new" SUBSEP w); b[w] = med(k SUBSEP "base" SUBSEP w); x[w] = med(k SUBSEP "redis" SUBSEP w)
        }
        printf "| %s | %s | %.0f / %.0f / %.0f | %.2f / %.2f | %.3f / %.3f / %.3f | %.2f / %.2f | %.2f / %.2f / %.2f |\n",
          parts[1], parts[2], n["ops"], b["ops"], x["ops"], n["ops"] / x["ops"], b["ops"] / x["ops"],
          n["p99"], b["p99"], x["p99"], n["p99"] / x["p99"], b["p99"] / x["p99"], n["cpu"], b["cpu"], x["cpu"]
      }
    }' "$tmp/results"
}
result=$(table)
echo "$result"

if [ "$record" -eq 1 ]; then
  {
    record_header "A/B of bench.sh rows, medians of $rounds rounds (bench/rows_ab.sh)"
    echo "- baseline: $baseline ($("$baseline" --version 2>/dev/null | head -1 || true))"
    echo "- command: \`bench/rows_ab.sh --baseline $baseline --rounds $rounds -s $seconds ${rows[*]}\`, that is:"
    for row in "${rows[@]}"; do echo "  \`$(row_cmd "$row" | sed "s|$loadgen|dynakv-loadgen|")\`"; done
    echo "- server CPU: user + system ticks of the server over the run / the calls of the row's commands (INFO commandstats)"
    echo
    echo "$result"
  } >>"$root/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md" >&2
fi
