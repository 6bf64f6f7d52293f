#!/usr/bin/env bash
# Cluster throughput, same run, same machine: redis-benchmark SET/GET (-c 50, -P 1) against
#   1. a 3-node dynakv cluster (N=3, R=W=2 quorum), clients all on node 1 (it coordinates),
#   2. the same cluster with the 50 clients spread over the three nodes (17/17/16),
#   3. a single dynakv node, and 4. a real redis-server (AOF everysec, no RDB),
# and prints ops/s with each one's ratio to single-node Redis (the issue's target: cluster
# SET/GET >= 0.5x). On a 2-core box the three nodes and the benchmark share the cores.
#
# With --tls-cluster the cluster's bus runs over mutual TLS (a CA and node certificate made here).
#
#   bench/cluster.sh [--record] [--tls-cluster] [-n REQUESTS] [BUILD_DIR]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
tls_cluster=0
bench_option() { [ "$1" = --tls-cluster ] && tls_cluster=1 bench_took=1; }
bench_args 100000 "$@"
require_servers "$dynakv"

start_scratch cbench

# ops/s of one redis-benchmark run: port clients test
rps() {
  redis-benchmark -p "$1" -c "$2" -n "$3" -t "$4" -r 100000 --csv 2>/dev/null |
    awk -F'"' 'NR==2 {print $4}'
}

# Ports: clients 7401-7403 (buses +10000), single node 7410, redis 7411.
base=7400
nodes="n1@127.0.0.1:$((base + 1)),n2@127.0.0.1:$((base + 2)),n3@127.0.0.1:$((base + 3))"
# The bus authenticates every frame with the cluster secret, as in production.
od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' > "$tmp/secret"
tls_flags=()
if [ "$tls_cluster" = 1 ]; then
  ssl() { openssl "$@" >/dev/null 2>&1; }
  ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=bench-ca -keyout "$tmp/ca.key" -out "$tmp/ca.crt"
  ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=node \
    -keyout "$tmp/node.key" -out "$tmp/node.csr"
  ssl x509 -req -days 2 -in "$tmp/node.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
    -CAcreateserial -out "$tmp/node.crt"
  tls_flags=(--tls-cluster yes --tls-cert-file "$tmp/node.crt" --tls-key-file "$tmp/node.key"
             --tls-ca-cert-file "$tmp/ca.crt")
fi
for i in 1 2 3; do
  mkdir -p "$tmp/n$i"
  "$dynakv" --port $((base + i)) --dir "$tmp/n$i" --cluster-enabled yes --cluster-node-id "n$i" \
    --cluster-secret-file "$tmp/secret" \
    --cluster-nodes "$nodes" --cluster-replication-factor 3 --cluster-read-consistency quorum \
    --cluster-write-consistency quorum "${tls_flags[@]}" > "$tmp/n$i.log" 2>&1 &
  pids+=($!)
done
mkdir -p "$tmp/single" "$tmp/redis"
"$dynakv" --port $((base + 10)) --dir "$tmp/single" > "$tmp/single.log" 2>&1 &
pids+=($!)
redis-server --port $((base + 11)) --dir "$tmp/redis" --save '' --appendonly yes \
  --appendfsync everysec > "$tmp/redis.log" 2>&1 &
pids+=($!)
for p in $((base + 1)) $((base + 2)) $((base + 3)) $((base + 10)) $((base + 11)); do wait_ready "$p"; done

declare -A result
for test in set get; do
  result[redis_$test]=$(rps $((base + 11)) 50 "$requests" "$test")
  result[single_$test]=$(rps $((base + 10)) 50 "$requests" "$test")
  result[cluster1_$test]=$(rps $((base + 1)) 50 "$requests" "$test")
  # Spread: three benchmarks at once, one per node; their rates add up.
  share=$((requests / 3))
  rps $((base + 1)) 17 "$share" "$test" > "$tmp/s1" & s1=$!
  rps $((base + 2)) 17 "$share" "$test" > "$tmp/s2" & s2=$!
  rps $((base + 3)) 16 "$share" "$test" > "$tmp/s3" & s3=$!
  # Wait only for the three benchmarks; the servers started above are jobs too.
  wait "$s1" "$s2" "$s3"
  result[spread_$test]=$(cat "$tmp/s1" "$tmp/s2" "$tmp/s3" | awk '{s += $1} END {printf "%.0f", s}')
done

table=$(
  echo "| target | SET ops/s | SET vs redis | GET ops/s | GET vs redis |"
  echo "|---|---|---|---|---|"
  for row in redis single cluster1 spread; do
    case $row in
      redis) name="redis-server (1 node)" ;;
      single) name="dynakv single node" ;;
      cluster1) name="dynakv 3-node cluster, N=3 R=W=2, clients on node 1" ;;
      spread) name="dynakv 3-node cluster, N=3 R=W=2, clients spread over 3 nodes" ;;
    esac
    awk -v n="$name" -v s="${result[${row}_set]}" -v g="${result[${row}_get]}" \
      -v rs="${result[redis_set]}" -v rg="${result[redis_get]}" \
      'BEGIN {printf "| %s | %.0f | %.2f | %.0f | %.2f |\n", n, s, s / rs, g, g / rg}'
  done
)
echo "$table"
if [ "$record" = 1 ]; then
  {
    echo
    echo "## Cluster vs single node vs Redis, $(date -u +%Y-%m-%d)"
    echo
    tls_arg=$([ "$tls_cluster" = 1 ] && echo " --tls-cluster" || true)
    echo "Command: \`bench/cluster.sh --record$tls_arg -n $requests\` (redis-benchmark -c 50 -P 1 -r 100000)" \
      "on $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); the three" \
      "cluster nodes, the benchmark and the other servers share those cores."
    echo
    echo "$table"
  } >> "$root/bench/RESULTS.md"
fi
