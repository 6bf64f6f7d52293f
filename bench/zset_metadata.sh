#!/usr/bin/env bash
# Merge metadata of a convergent sorted set as a cluster stores it (README: cluster mode, sorted
# sets and HyperLogLogs): a 3-node cluster (N=3) gets -n members (default 1,000,000) `member:I`
# with score I by ZADDs of 50,000 members each, sent round robin through the three nodes (three
# actors, as clients spread over a cluster), at CONSISTENCY ONE; once anti-entropy has made every
# replica's copy byte-identical, the copy's size (DEBUG LOCALRAW: the key's encoded version set,
# as the log and the segments hold it before compression) is set against the data: the members'
# bytes and an 8-byte score each.
#
#   bench/zset_metadata.sh [--record] [-n MEMBERS] [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 1000000 "$@"
redis=redis-server
require_servers "$dynakv"
start_scratch zset-metadata
members=$requests
batch=50000

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_cluster m_ 3
start=$(date +%s)
# One RESP stream per node: CONSISTENCY ONE, then that node's share of the batches.
python3 - "$members" "$batch" "$tmp" <<'EOF'
import sys
members, batch, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)
files = [open(f"{tmp}/node{i}.resp", "wb") for i in range(3)]
for f in files:
    f.write(resp(["CONSISTENCY", "ONE"]))
for b, first in enumerate(range(0, members, batch)):
    args = ["ZADD", "z"]
    for i in range(first, min(first + batch, members)):
        args += [str(i), f"member:{i}"]
    files[b % 3].write(resp(args))
EOF
loaders=()
for i in 0 1 2; do
  redis-cli -p "${cports[$i]}" --pipe --pipe-timeout 600 < "$tmp/node$i.resp" > "$tmp/pipe$i" &
  loaders+=($!)
done
wait "${loaders[@]}"
grep -h "errors" "$tmp"/pipe* | grep -v "errors: 0" && { echo "ZADDs failed" >&2; exit 1; }
# Anti-entropy until the three copies are byte-identical.
size=""
for _ in $(seq 120); do
  sums=()
  for p in "${cports[@]}"; do
    sums+=("$(redis-cli -p "$p" debug localraw z | md5sum | cut -d' ' -f1)")
  done
  if [ "${sums[0]}" = "${sums[1]}" ] && [ "${sums[1]}" = "${sums[2]}" ]; then
    size=$(redis-cli -p "${cports[0]}" debug localraw z | head -c -1 | wc -c)
    break
  fi
  for p in "${cports[@]}"; do
    for n in n1 n2 n3; do redis-cli -p "$p" debug antientropy "$n" > /dev/null 2>&1 || true; done
  done
  sleep 1
done
[ -n "$size" ] || { echo "the replicas did not converge" >&2; exit 1; }
took=$(( $(date +%s) - start ))
card=$(redis-cli -p "${cports[1]}" zcard z)
[ "$card" = "$members" ] || { echo "ZCARD $card, expected $members" >&2; exit 1; }
data=$(python3 -c "import sys; n=int(sys.argv[1]); print(sum(len(f'member:{i}') for i in range(n)) + 8 * n)" "$members")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(
  echo "| members | copy as stored (B) | members + 8-byte scores (B) | metadata / member (B) | load + converge (s) |"
  echo "|---|---|---|---|---|"
  awk -v n="$members" -v s="$size" -v d="$data" -v t="$took" \
    'BEGIN {printf "| %d | %d | %d | %.2f | %d |\n", n, s, d, (s - d) / n, t}'
)
echo "$table"
echo "load average before: $load_before, after: $load_after"
if [ "$record" = 1 ]; then
  {
    record_header "merge metadata of a 1,000,000-member sorted set as a 3-node cluster stores it (bench/zset_metadata.sh)"
    echo "- command: \`bench/zset_metadata.sh --record -n $members\`: ZADDs of $batch members" \
      "round robin through the 3 nodes (3 actors), N=3, CONSISTENCY ONE, then anti-entropy until" \
      "the three copies (DEBUG LOCALRAW: the key's version set, before the storage's" \
      "compression) are byte-identical. Metadata = copy - members' bytes - 8 bytes per score" \
      "(so it includes the members' length prefixes)."
    echo
    echo "$table"
  } >> "$root/bench/RESULTS.md"
fi
