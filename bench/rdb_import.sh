#!/usr/bin/env bash
# RDB import (issue 17): a Redis 7 RDB of N keys of mixed types (60% strings of 20-100 bytes, 10%
# hashes of 10 fields, 10% lists of 10 elements, 10% sets of 10 members, 10% sorted sets of 10
# members; 5% of all keys with a TTL) is written by redis-server, then loaded by redis-server at
# start and by dynakv-server --import-rdb at start. Reports keys per second of each load (Redis:
# its "DB loaded from disk" time; dynakv: its import log line) and each process's peak RSS
# (VmHWM) once loaded, and the CPU time (user + system) each process used up to then: the
# machine is shared, so CPU seconds are steadier than wall seconds.
#
# --value-bytes MIN-MAX sets the strings' sizes; --random-values makes them random letters
# (incompressible: LZF leaves them alone) instead of one repeated letter. The issue's 1 GB /
# 10 M key file: -n 10000000 --value-bytes 50-180 --random-values.
#
# A completed import is done before its first checkpoint (the file is its durable copy until
# then): the script also waits for the log's "saved by a checkpoint" and reports the CPU seconds
# and peak RSS at that point, the import's whole cost. --baseline BIN imports the same file with
# another dynakv-server too (an A/B in one run; a build that checkpoints before "done" has no
# such line: its saved point is its done point).
#
# --cluster also imports the file through one node of a 3-node cluster (N=3, W=QUORUM, all three
# nodes pinned like the servers): IMPORT-RDB at run time, timed by its own rdb_import_seconds;
# its CPU time is the three nodes' together (each stores a copy).
#
#   bench/rdb_import.sh [-n KEYS] [--value-bytes MIN-MAX] [--random-values] [--cluster] [--record]
#                       [--baseline BIN] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
keys=1000000
value_bytes=20-100
random_values=0
cluster=0
record=0
baseline=""
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) keys=$2; shift ;;
    --value-bytes) value_bytes=$2; shift ;;
    --random-values) random_values=1 ;;
    --cluster) cluster=1 ;;
    --record) record=1 ;;
    --baseline) baseline=$2; shift ;;
    *) build=$1 ;;
  esac
  shift
done
dynakv="$build/server/dynakv-server"
redis=redis-server
require_servers "$dynakv"
start_scratch rdbimport
pin_cpus
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# The dataset, written by redis-server itself (its own encodings), through redis-cli --pipe.
start_server source redis-server --save '' --appendonly no
python3 - "$keys" "$value_bytes" "$random_values" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import random, sys
n = int(sys.argv[1]); rnd = random.Random(17); out = sys.stdout
lo, hi = map(int, sys.argv[2].split("-")); random_values = sys.argv[3] == "1"
letters = bytes(range(97, 123))
def value(size):
    if not random_values: return "v" * size
    return rnd.randbytes(size).translate(bytes(letters[b % 26] for b in range(256))).decode()
def cmd(*args):
    parts = ["*%d\r\n" % len(args)]
    for a in args:
        a = str(a); parts.append("$%d\r\n%s\r\n" % (len(a.encode()), a))
    out.write("".join(parts))
for i in range(n):
    k = "key:%d" % i; r = i % 10
    if r < 6: cmd("SET", k, value(rnd.randint(lo, hi)))
    elif r == 6: cmd("HSET", k, *[x for j in range(10) for x in ("f%d" % j, "value-%d" % j)])
    elif r == 7: cmd("RPUSH", k, *["element-%d" % j for j in range(10)])
    elif r == 8: cmd("SADD", k, *["member-%d" % j for j in range(10)])
    else: cmd("ZADD", k, *[x for j in range(10) for x in (j * 1.5, "m%d" % j)])
    if i % 20 == 0: cmd("EXPIRE", k, 100000)
PY
timeout 600 redis-cli -p "$port" SAVE >/dev/null
rdb="$tmp/source/dump.rdb"
rdb_bytes=$(stat -c %s "$rdb")
redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
sleep 0.5

peak_rss_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

# wait_loaded NAME: until the server just started ($pid, $port) answers PING with PONG (not
# -LOADING), 10 minutes at most: a big file takes longer than start_server waits.
wait_loaded() {
  for _ in $(seq 3000); do
    [ "$(timeout 2 redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] && return 0
    kill -0 "$pid" 2>/dev/null || { tail -c 2000 "$tmp/$1.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "$1 did not finish loading" >&2
  exit 1
}
cpu_seconds() { echo "$(cpu_ticks "$1") $(getconf CLK_TCK)" | awk '{ printf "%.2f", $1 / $2 }'; }

# redis-server loading the file at start.
port=$(free_port)
mkdir -p "$tmp/redis"
mv "$rdb" "$tmp/redis/dump.rdb"
rdb="$tmp/redis/dump.rdb"
"${server_cpu[@]}" redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp/redis" --save '' \
  --appendonly no --dbfilename dump.rdb >"$tmp/redis.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_loaded redis
redis_secs=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$tmp/redis.log" | grep -o '[0-9.]*' | head -1)
redis_rss=$(peak_rss_kb "$pid")
redis_cpu=$(cpu_seconds "$pid")
redis_keys=$(redis-cli -p "$port" DBSIZE)
redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done

# dynakv-server importing it at start (the same write path IMPORT-RDB takes).
# The import runs before the port opens, so it may take longer than start_server waits.
# import_with NAME BINARY: sets row_NAME to "keys secs rss_kb cpu saved_cpu saved_rss_kb".
import_with() {
  port=$(free_port)
  mkdir -p "$tmp/$1"
  "${server_cpu[@]}" "$2" --port "$port" --bind 127.0.0.1 --dir "$tmp/$1" \
    --import-rdb "$rdb" >"$tmp/$1.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_loaded "$1"
  local secs rss cpu keys saved_cpu saved_rss
  secs=$(grep -o 'done in [0-9.]* seconds' "$tmp/$1.log" | grep -o '[0-9.]*' | head -1)
  rss=$(peak_rss_kb "$pid")
  cpu=$(cpu_seconds "$pid")
  keys=$(redis-cli -p "$port" DBSIZE)
  saved_cpu=$cpu saved_rss=$rss
  if grep -q 'durable copy of the imported keys until' "$tmp/$1.log"; then
    for _ in $(seq 6000); do
      grep -q 'saved by a checkpoint' "$tmp/$1.log" && break
      sleep 0.1
    done
    saved_cpu=$(cpu_seconds "$pid")
    saved_rss=$(peak_rss_kb "$pid")
  fi
  redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -rf "${tmp:?}/$1"
  printf -v "row_$1" '%s %s %s %s %s %s' "$keys" "$secs" "$rss" "$cpu" "$saved_cpu" "$saved_rss"
}
import_with dynakv "$dynakv"
row_baseline=""
[ -n "$baseline" ] && import_with baseline "$baseline"

# A 3-node cluster importing it through node 1 (IMPORT-RDB: the nodes must be up first).
cluster_row=""
if [ "$cluster" = 1 ]; then
  while :; do  # client ports p..p+2, bus ports +10000, all free
    base=$((20000 + RANDOM % 20000)) busy=0
    for i in 1 2 3; do
      port_in_use $((base + i)) && busy=1
      port_in_use $((base + i + 10000)) && busy=1
    done
    [ "$busy" = 0 ] && break
  done
  od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/secret"
  members="n1@127.0.0.1:$((base + 1)),n2@127.0.0.1:$((base + 2)),n3@127.0.0.1:$((base + 3))"
  cluster_pids=()
  for i in 1 2 3; do
    mkdir -p "$tmp/n$i"
    "${server_cpu[@]}" "$dynakv" --port $((base + i)) --bind 127.0.0.1 --dir "$tmp/n$i" \
      --cluster-enabled yes --cluster-node-id "n$i" --cluster-secret-file "$tmp/secret" \
      --cluster-nodes "$members" --cluster-replication-factor 3 \
      --cluster-write-consistency quorum >"$tmp/n$i.log" 2>&1 &
    cluster_pids+=($!)
    pids+=($!)
  done
  for i in 1 2 3; do wait_ready $((base + i)); done
  sleep 2  # the bus connections
  cpu_before=$(cpu_ticks "${cluster_pids[@]}")
  redis-cli -p $((base + 1)) IMPORT-RDB "$rdb" >/dev/null
  for _ in $(seq 36000); do
    [ "$(redis-cli -p $((base + 1)) INFO persistence | tr -d '\r' |
      awk -F: '/^rdb_import_in_progress/ { print $2 }')" = 0 ] && break
    sleep 0.1
  done
  cpu_after=$(cpu_ticks "${cluster_pids[@]}")
  field() { redis-cli -p $((base + 1)) INFO persistence | tr -d '\r' | awk -F: -v f="$1" '$1 == f { print $2 }'; }
  cluster_secs=$(field rdb_import_seconds)
  cluster_keys=$(field rdb_import_keys)
  cluster_failed=$(field rdb_import_failed_keys)
  cluster_status=$(field rdb_import_status)
  cluster_cpu=$(echo "$cpu_before $cpu_after $(getconf CLK_TCK)" | awk '{ printf "%.2f", ($2 - $1) / $3 }')
  cluster_rss=0
  for p in "${cluster_pids[@]}"; do
    r=$(peak_rss_kb "$p")
    [ "$r" -gt "$cluster_rss" ] && cluster_rss=$r
  done
  cluster_row="$cluster_keys $cluster_secs $cluster_cpu $cluster_rss $cluster_failed $cluster_status"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(python3 - "$keys" "$rdb_bytes" "$redis_secs" "$redis_rss" "$redis_keys" "$redis_cpu" \
  "$row_dynakv" "$row_baseline" "$cluster_row" <<'PY'
import sys
n, size, rs, rr, rk, rc, dyn, base, cl = sys.argv[1:]
n = int(n); rs = float(rs); rk = int(rk); rc = float(rc)
print("| server | keys loaded | load seconds | keys/s | process CPU s at end of load | keys per CPU s vs Redis | peak RSS (MB) | CPU s / peak RSS (MB) once saved by a checkpoint |")
print("|---|---|---|---|---|---|---|---|")
print("| redis-server (load at start) | %d | %.2f | %.0f | %.2f | 1.00 | %.0f | (writes nothing) |" % (rk, rs, rk / rs, rc, int(rr) / 1024))
def row(name, r):
    k, s, rss, c, sc, srss = r.split()
    k = int(k); s = float(s); c = float(c)
    print("| %s | %d | %.2f | %.0f | %.2f | %.2f | %.0f | %s / %.0f |"
          % (name, k, s, k / s, c, (k / c) / (rk / rc), int(rss) / 1024, sc, int(srss) / 1024))
row("dynakv --import-rdb", dyn)
if base:
    row("dynakv --import-rdb, baseline (--baseline)", base)
if cl:
    ck, cs, cc, cr, cf, cst = cl.split()
    print("| dynakv cluster, IMPORT-RDB through 1 of 3 nodes (N=3, W=QUORUM; CPU: 3 nodes) | %s (%s failed, %s) | %.2f | %.0f | %s | | %.0f (largest node) | |"
          % (ck, cf, cst, float(cs), int(ck) / float(cs), cc, int(cr) / 1024))
print()
dk, ds, _, dc = dyn.split()[:4]
print("RDB file: %d keys, %.1f MB. dynakv/redis load speed: %.2f (wall), %.2f (keys per CPU second)"
      % (n, int(size) / 1e6, rs / float(ds), (int(dk) / float(dc)) / (rk / rc)))
PY
)
echo "$table"
if [ "$record" = 1 ]; then
  {
    echo
    args="-n $keys --value-bytes $value_bytes"
    [ "$random_values" = 1 ] && args="$args --random-values"
    [ "$cluster" = 1 ] && args="$args --cluster"
    [ -n "$baseline" ] && args="$args --baseline $baseline"
    record_header "RDB import, $keys keys of mixed types (bench/rdb_import.sh $args)"
    echo
    echo "$table"
  } >>"$root/bench/RESULTS.md"
fi
