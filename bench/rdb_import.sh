#!/usr/bin/env bash
# RDB import (issue 17): a Redis 7 RDB of N keys of mixed types (60% strings of 20-100 bytes, 10%
# hashes of 10 fields, 10% lists of 10 elements, 10% sets of 10 members, 10% sorted sets of 10
# members; 5% of all keys with a TTL) is written by redis-server, then loaded by redis-server at
# start and by dynakv-server --import-rdb at start. Reports keys per second of each load (Redis:
# its "DB loaded from disk" time; dynakv: its import log line) and each process's peak RSS
# (VmHWM) once loaded.
#
#   bench/rdb_import.sh [-n KEYS] [--record] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
keys=1000000
record=0
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) keys=$2; shift ;;
    --record) record=1 ;;
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
python3 - "$keys" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import random, sys
n = int(sys.argv[1]); rnd = random.Random(17); out = sys.stdout
def cmd(*args):
    parts = ["*%d\r\n" % len(args)]
    for a in args:
        a = str(a); parts.append("$%d\r\n%s\r\n" % (len(a.encode()), a))
    out.write("".join(parts))
for i in range(n):
    k = "key:%d" % i; r = i % 10
    if r < 6: cmd("SET", k, "v" * rnd.randint(20, 100))
    elif r == 6: cmd("HSET", k, *[x for j in range(10) for x in ("f%d" % j, "value-%d" % j)])
    elif r == 7: cmd("RPUSH", k, *["element-%d" % j for j in range(10)])
    elif r == 8: cmd("SADD", k, *["member-%d" % j for j in range(10)])
    else: cmd("ZADD", k, *[x for j in range(10) for x in (j * 1.5, "m%d" % j)])
    if i % 20 == 0: cmd("EXPIRE", k, 100000)
PY
redis-cli -p "$port" SAVE >/dev/null
rdb="$tmp/source/dump.rdb"
rdb_bytes=$(stat -c %s "$rdb")
redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
sleep 0.5

peak_rss_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

# redis-server loading the file at start.
mkdir -p "$tmp/redis"
cp "$rdb" "$tmp/redis/dump.rdb"
start_server redis redis-server --save '' --appendonly no --dbfilename dump.rdb
redis_secs=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$tmp/redis.log" | grep -o '[0-9.]*' | head -1)
redis_rss=$(peak_rss_kb "$pid")
redis_keys=$(redis-cli -p "$port" DBSIZE)
redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true

# dynakv-server importing it at start (the same write path IMPORT-RDB takes).
# The import runs before the port opens, so it may take longer than start_server waits.
port=$(free_port)
mkdir -p "$tmp/dynakv"
"${server_cpu[@]}" "$dynakv" --port "$port" --bind 127.0.0.1 --dir "$tmp/dynakv" \
  --import-rdb "$rdb" >"$tmp/dynakv.log" 2>&1 &
pid=$!
pids+=("$pid")
for _ in $(seq 3000); do
  [ "$(timeout 2 redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] && break
  kill -0 "$pid" 2>/dev/null || { tail -c 2000 "$tmp/dynakv.log" >&2; exit 1; }
  sleep 0.2
done
dynakv_secs=$(grep -o 'done in [0-9.]* seconds' "$tmp/dynakv.log" | grep -o '[0-9.]*' | head -1)
dynakv_rss=$(peak_rss_kb "$pid")
dynakv_keys=$(redis-cli -p "$port" DBSIZE)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(python3 - "$keys" "$rdb_bytes" "$redis_secs" "$redis_rss" "$redis_keys" "$dynakv_secs" \
  "$dynakv_rss" "$dynakv_keys" <<'PY'
import sys
n, size, rs, rr, rk, ds, dr, dk = sys.argv[1:]
n = int(n); rs = float(rs); ds = float(ds)
print("| server | keys loaded | load seconds | keys/s | peak RSS (MB) |")
print("|---|---|---|---|---|")
print("| redis-server (load at start) | %s | %.2f | %.0f | %.0f |" % (rk, rs, int(rk) / rs, int(rr) / 1024))
print("| dynakv --import-rdb | %s | %.2f | %.0f | %.0f |" % (dk, ds, int(dk) / ds, int(dr) / 1024))
print()
print("RDB file: %d keys, %.1f MB. dynakv/redis load speed: %.2f" % (n, int(size) / 1e6, rs / ds))
PY
)
echo "$table"
if [ "$record" = 1 ]; then
  {
    echo
    record_header "RDB import, $keys keys of mixed types (bench/rdb_import.sh -n $keys)"
    echo
    echo "$table"
  } >>"$root/bench/RESULTS.md"
fi
