#!/usr/bin/env bash
# Merge metadata per element of the convergent collections as a cluster node stores them (issue
# 13: <= 16 bytes per element on average for 1,000,000-member sets), on the wired encoding: a
# 3-node cluster (N=3) is given a set of MEMBERS members `member:N` (SADD) and a hash of as many
# fields `member:N -> value:N` (HSET), 50,000 per command at CONSISTENCY ONE, the commands spread
# over the three nodes (three actors); then each node's own stored copy (DEBUG LOCALRAW: the
# key's encoded version set, version header included, byte for byte what the replica stores) is
# measured once the replicas agree. "metadata" = stored bytes - the members' (and values')
# bytes, so it counts the length prefixes any encoding needs, as bench/crdt_metadata.cc (crdt/
# alone) does.
#
#   bench/collection_metadata.sh [--record] [-n MEMBERS] [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
bench_args 1000000 "$@"
redis=redis-server
require_servers "$dynakv"
start_scratch collection-metadata

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_cluster m 3
table=$(python3 - "$requests" "${cports[@]}" <<'EOF'
import socket, sys, time

members = int(sys.argv[1])
ports = [int(p) for p in sys.argv[2:5]]

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
    def command(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self.reply()
    def reply(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+": return rest.decode()
        if kind == b"-": raise RuntimeError(rest.decode())
        if kind == b":": return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0: return None
            data = self.f.read(n + 2)
            return data[:-2]
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError("bad reply %r" % line)

conns = [Conn(p) for p in ports]
for c in conns:  # acknowledged by the node written through: a replica's join of a large set
    c.command("CONSISTENCY", "ONE")  # can take longer than the request timeout on a busy machine
batch = 50000
plain = {"set": 0, "hash": 0}
started = time.time()
for n, base in enumerate(range(0, members, batch)):
    c = conns[n % 3]
    names = ["member:%d" % i for i in range(base, min(base + batch, members))]
    fields = []
    for i, m in enumerate(names):
        fields += [m, "value:%d" % (base + i)]
    plain["set"] += sum(len(m) for m in names)
    plain["hash"] += sum(len(x) for x in fields)
    for attempt in range(5):  # a write past the request timeout is retried (same members)
        try:
            c.command("SADD", "set", *names)
            c.command("HSET", "hash", *fields)
            break
        except RuntimeError as e:
            print("retrying batch %d: %s" % (n, e), file=sys.stderr)
            time.sleep(1)
build = time.time() - started

def copies(key):
    return [len(c.command("DEBUG", "LOCALRAW", key) or b"") for c in conns]

rows = []
for kind, key in (("set (SADD)", "set"), ("hash (HSET)", "hash")):
    deadline = time.time() + 120
    sizes = copies(key)
    while len(set(sizes)) > 1 and time.time() < deadline:
        for i, c in enumerate(conns):
            for j in range(3):
                if i != j:
                    try: c.command("DEBUG", "ANTIENTROPY", "n%d" % (j + 1))
                    except RuntimeError: pass
        sizes = copies(key)
    card = conns[0].command("SCARD" if key == "set" else "HLEN", key)
    meta = (sizes[0] - plain[key]) / members
    rows.append("| %s | %d | %s | %s | %.2f B |" % (
        kind, card, "{:,} B".format(sizes[0]),
        "yes" if len(set(sizes)) == 1 else "NO: " + ", ".join(map(str, sizes)), meta))
print("| type | elements | stored copy (DEBUG LOCALRAW) | replicas identical | metadata / element |")
print("|---|---|---|---|---|")
print("\n".join(rows))
print("built in %.1f s (%d commands of %d elements per key)" % (build, -(-members // batch), batch))
EOF
)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$table"
echo "load average before: $load_before, after: $load_after"
if [ "$record" = 1 ]; then
  {
    record_header "merge metadata per element as a cluster node stores a collection (bench/collection_metadata.sh)"
    echo "- command: \`bench/collection_metadata.sh --record -n $requests\`: a set and a hash of" \
      "$requests elements built through a 3-node cluster (N=3, W=ONE; 50,000 per command, spread" \
      "over the nodes: 3 actors); metadata = a node's stored copy (DEBUG LOCALRAW, version header" \
      "included) - the members' (and values') bytes, per element. Machine shared and loaded."
    echo
    echo "$table"
  } >> "$root/bench/RESULTS.md"
fi
