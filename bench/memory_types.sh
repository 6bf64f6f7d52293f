#!/usr/bin/env bash
# Memory per element of the collection types, dynakv vs redis-server 7 in one run: each case is
# loaded into a fresh server of each kind with `redis-cli --pipe`, then the growth of resident
# memory (VmRSS) and of the server's own used_memory (INFO memory) is divided by the elements.
# Both log writes (appendfsync everysec; Redis: AOF only, no RDB), as bench/memory.sh does for
# strings. Cases (N = -n, default 1,000,000):
#   set     one set of N members "member:%07d" (14 bytes)             SADD, 100 members a command
#   hash    one hash of N fields "field:%07d" -> "value:%07d" (13 B)  HSET, 100 pairs a command
#   zset    one sorted set of N members "member:%07d", score i * 0.5  ZADD, 100 members a command
#   hashes  N hashes "hash:%07d" of 10 fields "field0".."field9" -> "value-%07d"; per hash
#
#   bench/memory_types.sh [--record] [-n N] [--cases "set hash zset hashes"] [BUILD_DIR]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
cases="set hash zset hashes"
bench_option() { [ "$1" = --cases ] && cases=$2 bench_took=2; }
bench_args 1000000 "$@"
n=$requests
[ "$n" -ge 100 ] || { echo "-n takes a number >= 100" >&2; exit 1; }
require_servers "$dynakv"
redis=$(command -v redis-server)

start_scratch memtypes
pin_cpus

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
used_memory() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}'; }

# gen CASE: the load file of CASE (RESP commands) on stdout; its command count in $tmp/CASE.cmds.
gen() {
  python3 - "$1" "$n" "$tmp/$1.cmds" <<'PY'
import sys
case, n, cmds_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = sys.stdout.buffer
count = 0
def cmd(args):
    global count
    count += 1
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
if case == "hashes":
    fields = [b"field%d" % j for j in range(10)]
    for i in range(n):
        args = [b"HSET", b"hash:%07d" % i]
        v = b"value-%07d" % i
        for f in fields:
            args += [f, v]
        cmd(args)
else:
    for start in range(0, n, 100):
        r = range(start, min(n, start + 100))
        if case == "set":
            cmd([b"SADD", b"s"] + [b"member:%07d" % i for i in r])
        elif case == "hash":
            args = [b"HSET", b"h"]
            for i in r:
                args += [b"field:%07d" % i, b"value:%07d" % i]
            cmd(args)
        elif case == "zset":
            args = [b"ZADD", b"z"]
            for i in r:
                args += [repr(i * 0.5).encode(), b"member:%07d" % i]
            cmd(args)
        else:
            sys.exit("unknown case " + case)
open(cmds_file, "w").write(str(count))
PY
}

# check NAME PORT CASE: the server holds what CASE loaded.
check() {
  local got want=$n
  case "$3" in
    set) got=$(redis-cli -p "$2" scard s) ;;
    hash) got=$(redis-cli -p "$2" hlen h) ;;
    zset) got=$(redis-cli -p "$2" zcard z) ;;
    hashes) got=$(redis-cli -p "$2" dbsize)
      [ "$(redis-cli -p "$2" hlen "hash:$(printf %07d $((n - 1)))")" = 10 ] || got="wrong hlen" ;;
  esac
  [ "$got" = "$want" ] || { echo "$1 after $3 holds $got, expected $want" >&2; exit 1; }
}

# settle PID: until the process's resident memory stops shrinking (three readings a second apart
# within 0.5% of each other; 40 s at most): memory an allocator frees in a burst (dynakv's
# checkpoint buffers) goes back to the system over its decay time, and both servers get it.
settle() {
  local prev cur stable=0
  prev=$(rss_kb "$1")
  for _ in $(seq 40); do
    sleep 1
    cur=$(rss_kb "$1")
    if [ $((prev - cur)) -le $((prev / 200)) ]; then stable=$((stable + 1)); else stable=0; fi
    prev=$cur
    [ "$stable" -ge 3 ] && return 0
  done
}

# measure NAME CASE BINARY ARGS...: a fresh server, loaded with CASE, then stopped; sets $result
# to "rss_before rss_after used_before used_after encoding" (kB, kB, bytes, bytes). Not run in
# a subshell, so that the scratch trap stops the server if the script stops half-way.
measure() {
  local name=$1 case=$2 bin=$3 rss0 used0 rss1 used1 enc key
  shift 3
  start_server "$name-$case" "$bin" "$@"
  rss0=$(rss_kb "$pid")
  used0=$(used_memory "$port")
  "${client_cpu[@]}" timeout 1200 redis-cli -p "$port" --pipe <"$tmp/$case.resp" >"$tmp/$name.pipe" 2>&1
  grep -q "errors: 0, replies: $(cat "$tmp/$case.cmds")" "$tmp/$name.pipe" ||
    { cat "$tmp/$name.pipe" >&2; exit 1; }
  check "$name" "$port" "$case"
  sleep 1  # background work the load started (a checkpoint) settles
  quiesce "$port"
  settle "$pid"
  rss1=$(rss_kb "$pid")
  used1=$(used_memory "$port")
  case "$case" in set) key=s ;; hash) key=h ;; zset) key=z ;; hashes) key=hash:0000000 ;; esac
  enc=$(redis-cli -p "$port" object encoding "$key")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  result="$rss0 $rss1 $used0 $used1 $enc"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=""
for c in $cases; do
  echo "  $c: generating $n elements ..." >&2
  gen "$c" >"$tmp/$c.resp"
  echo "  $c: dynakv ..." >&2
  measure dynakv "$c" "$dynakv" --appendfsync everysec
  d=$result
  echo "  $c: redis ..." >&2
  measure redis "$c" "$redis" --save "" --appendonly yes --appendfsync everysec --daemonize no
  r=$result
  rows+="$c $d $r"$'\n'
  rm -f "$tmp/$c.resp"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(python3 - "$n" "$rows" <<'PY'
import sys
n = int(sys.argv[1])
what = {"set": "1 set, N members", "hash": "1 hash, N fields", "zset": "1 sorted set, N members",
        "hashes": "N hashes of 10 fields (per hash)"}
print("| case | dynakv encoding | dynakv RSS B/elem | redis RSS B/elem | RSS ratio "
      "| dynakv used_memory B/elem | redis used_memory B/elem | used_memory ratio |")
print("|---|---|---|---|---|---|---|---|")
for line in sys.argv[2].strip().splitlines():
    f = line.split()
    case, d, r = f[0], f[1:6], f[6:11]
    drss = (int(d[1]) - int(d[0])) * 1024 / n
    rrss = (int(r[1]) - int(r[0])) * 1024 / n
    dused = (int(d[3]) - int(d[2])) / n
    rused = (int(r[3]) - int(r[2])) / n
    print(f"| {what[case]} | {d[4]} (redis: {r[4]}) | {drss:.1f} | {rrss:.1f} | {drss / rrss:.2f} "
          f"| {dused:.1f} | {rused:.1f} | {dused / rused:.2f} |")
PY
)
echo "$table"
if [ "$record" = 1 ]; then
  {
    record_header "memory per element of sets, hashes and sorted sets (bench/memory_types.sh)"
    echo "- command: \`bench/memory_types.sh -n $n --cases \"$cases\"\`; N = $n; data: see the script's"
    echo "  header (members and fields of 13-14 bytes, loaded by \`redis-cli --pipe\`, 100 elements"
    echo "  a command; both servers log with appendfsync everysec, Redis AOF only)"
    echo "- B/elem: growth of VmRSS and of INFO memory used_memory over the load, / N; RSS read once"
    echo "  it stopped shrinking (settle in the script)"
    echo
    echo "$table"
  } >>"$root/bench/RESULTS.md"
fi
