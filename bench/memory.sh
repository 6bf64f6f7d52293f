#!/usr/bin/env bash
# Memory per key, dynakv vs redis-server: loads the same keys (default 1,000,000 keys with
# 100-byte compressible values, like a cache of short JSON-ish records) into each with
# `redis-cli --pipe`, then compares resident memory (VmRSS) growth per key and each server's own
# used_memory. Both log writes (appendfsync everysec; Redis AOF, no RDB).
#
#   bench/memory.sh [--record] [-n KEYS] [BUILD_DIR]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 1000000 "$@"
require_servers "$dynakv"
keys=$requests

start_scratch mem

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
used_memory() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}'; }

# The load file: SET key:<n> <100 bytes>; values are compressible (a repeated record shape with
# the key number in it), not one repeated byte.
python3 - "$keys" > "$tmp/load.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    key = b"key:%08d" % i
    body = (b'{"id":%08d,"name":"user-%08d","tags":["a","b","c"],"active":true,"score":%04d}' % (i, i, i % 9973))
    val = (body + b" " * 100)[:100]
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(val), val))
PY

measure() {  # name port pid
  local name=$1 port=$2 pid=$3
  wait_ready "$port"
  local before after used
  before=$(rss_kb "$pid")
  redis-cli -p "$port" --pipe < "$tmp/load.resp" > "$tmp/$name.pipe" 2>&1
  grep -q "errors: 0, replies: $keys" "$tmp/$name.pipe" || { cat "$tmp/$name.pipe" >&2; exit 1; }
  sleep 1
  after=$(rss_kb "$pid")
  used=$(used_memory "$port")
  local dbsize
  dbsize=$(redis-cli -p "$port" dbsize)
  [ "$dbsize" = "$keys" ] || { echo "$name holds $dbsize keys, expected $keys" >&2; exit 1; }
  echo "$name $before $after $used"
}

p1=$(free_port)
mkdir -p "$tmp/dynakv" "$tmp/redis"
"$dynakv" --port "$p1" --dir "$tmp/dynakv" --appendfsync everysec > "$tmp/dynakv.log" 2>&1 &
pids+=($!)
d=$(measure dynakv "$p1" "${pids[-1]}")
p2=$(free_port)
redis-server --port "$p2" --dir "$tmp/redis" --save '' --appendonly yes --appendfsync everysec \
  > "$tmp/redis.log" 2>&1 &
pids+=($!)
r=$(measure redis "$p2" "${pids[-1]}")

table=$(python3 - "$keys" "$d" "$r" <<'PY'
import sys
keys = int(sys.argv[1])
rows = [sys.argv[2].split(), sys.argv[3].split()]
per = {}
print("| server | RSS before | RSS after | RSS bytes/key | used_memory bytes/key |")
print("|---|---|---|---|---|")
for name, before, after, used in rows:
    b = (int(after) - int(before)) * 1024 / keys
    per[name] = b
    print(f"| {name} | {int(before)//1024} MB | {int(after)//1024} MB | {b:.1f} | {int(used)/keys:.1f} |")
print()
print(f"dynakv/redis RSS per key: {per['dynakv']/per['redis']:.2f}")
PY
)
echo "$table"
if [ "$record" = 1 ]; then
  {
    echo
    echo "## Memory per key, $(date -u +%Y-%m-%d) — $keys keys x 100-byte compressible values"
    echo
    echo "Command: \`bench/memory.sh --record -n $keys\` on $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))."
    echo
    echo "$table"
  } >> "$root/bench/RESULTS.md"
fi
