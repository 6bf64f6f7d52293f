#!/usr/bin/env bash
# What the cluster bus costs, same run, configurations alternating round by round: for each
# LABEL=BINARY[:tls|:insecure] a 3-node cluster (N=3, R=W=2 quorum, the cluster secret as in
# production; `:tls` adds tls-cluster yes with a CA and certificates made here, `:insecure` runs
# without a secret, cluster-insecure yes: the unauthenticated baseline) is started, redis-benchmark
# runs SET then GET against node 1 (-c 50 -P 1 -r 100000), and the CPU time (utime+stime from
# /proc) the three node processes spent is divided by the requests. CPU per request is the
# measure to trust on a shared, noisy machine; ops/s is printed too.
#
#   bench/cluster_bus.sh [--rounds K] [-n REQUESTS] LABEL=BINARY[:tls|:insecure] ...
#   e.g. bench/cluster_bus.sh --rounds 4 plain=build/server/dynakv-server \
#          tls=build/server/dynakv-server:tls
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
rounds=3
requests=100000
configs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    -n) requests=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *=*) configs+=("$1") ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
  shift
done
[ ${#configs[@]} -ge 1 ] || { sed -n '2,12p' "$0"; exit 1; }
for c in "${configs[@]}"; do
  binary=${c#*=}
  binary=${binary%:tls}
  require_servers "${binary%:insecure}"
done

start_scratch cbus
od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' > "$tmp/secret"
ssl() { openssl "$@" >/dev/null 2>&1; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$tmp/ca.key" -out "$tmp/ca.crt"
ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=node \
  -keyout "$tmp/node.key" -out "$tmp/node.csr"
ssl x509 -req -days 2 -in "$tmp/node.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
  -CAcreateserial -out "$tmp/node.crt"

# Ports: clients 7421-7423, buses +10000.
base=7420
nodes="n1@127.0.0.1:$((base + 1)),n2@127.0.0.1:$((base + 2)),n3@127.0.0.1:$((base + 3))"
ticks=$(getconf CLK_TCK)


# run_config LABEL BINARY[:tls|:insecure]: starts the cluster, benchmarks it, stops it; appends
# "label set_ops get_ops set_us get_us" to $tmp/results.
run_config() {
  local label=$1 spec=$2 binary tls_flags=() auth_flags node_pids=() i before after set_ops
  local get_ops set_us get_us
  binary=${spec%:tls}
  binary=${binary%:insecure}
  auth_flags=(--cluster-secret-file "$tmp/secret")
  case $spec in
    *:tls)
      tls_flags=(--tls-cluster yes --tls-cert-file "$tmp/node.crt" --tls-key-file "$tmp/node.key"
                 --tls-ca-cert-file "$tmp/ca.crt") ;;
    *:insecure) auth_flags=(--cluster-insecure yes) ;;
  esac
  for i in 1 2 3; do
    rm -rf "$tmp/n$i"
    mkdir -p "$tmp/n$i"
    "$binary" --port $((base + i)) --dir "$tmp/n$i" --cluster-enabled yes --cluster-node-id "n$i" \
      "${auth_flags[@]}" --cluster-nodes "$nodes" \
      --cluster-replication-factor 3 --cluster-read-consistency quorum \
      --cluster-write-consistency quorum "${tls_flags[@]}" > "$tmp/$label.n$i.log" 2>&1 &
    node_pids+=($!)
    pids+=($!)
  done
  for i in 1 2 3; do wait_ready $((base + i)); done
  # Until every node's bus reaches the others (a first request must not meet a backoff).
  for _ in $(seq 100); do
    redis-cli -p $((base + 1)) info cluster | grep -q 'cluster_members_reachable:3' && break
    sleep 0.1
  done
  before=$(cpu_ticks "${node_pids[@]}")
  set_ops=$(redis-benchmark -p $((base + 1)) -c 50 -n "$requests" -t set -r 100000 --csv 2>/dev/null |
    awk -F'"' 'NR==2 {print $4}')
  after=$(cpu_ticks "${node_pids[@]}")
  set_us=$(awk -v t=$((after - before)) -v hz="$ticks" -v n="$requests" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
  before=$after
  get_ops=$(redis-benchmark -p $((base + 1)) -c 50 -n "$requests" -t get -r 100000 --csv 2>/dev/null |
    awk -F'"' 'NR==2 {print $4}')
  after=$(cpu_ticks "${node_pids[@]}")
  get_us=$(awk -v t=$((after - before)) -v hz="$ticks" -v n="$requests" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
  if [ ${#tls_flags[@]} -gt 0 ] && ! redis-cli -p $((base + 1)) info cluster | grep -q 'cluster_bus_tls:yes'; then
    echo "$label: the bus is not TLS" >&2
    exit 1
  fi
  for p in "${node_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${node_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "$label $set_ops $get_ops $set_us $get_us" | tee -a "$tmp/results" >&2
}

for round in $(seq "$rounds"); do
  for c in "${configs[@]}"; do run_config "${c%%=*}" "${c#*=}"; done
done

echo "| configuration | SET ops/s | GET ops/s | SET CPU us/req | GET CPU us/req |"
echo "|---|---|---|---|---|"
for c in "${configs[@]}"; do
  awk -v l="${c%%=*}" '$1 == l {n++; s += $2; g += $3; su += $4; gu += $5}
    END {printf "| %s | %.0f | %.0f | %.1f | %.1f |\n", l, s / n, g / n, su / n, gu / n}' "$tmp/results"
done
echo "($rounds rounds alternating, $requests requests each, means)"
