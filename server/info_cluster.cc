// INFO cluster's own part in cluster mode ("# Dynakv", after Redis's "# Cluster"): the ring, the
// failure detector's verdicts, the coordinator's and the bus's counters, anti-entropy, hinted
// handoff, range streaming and SERIAL requests.
#include <string>

#include "cluster/cluster_node.h"
#include "cluster_blocking.h"
#include "cluster_config.h"
#include "cluster_counters.h"
#include "cluster_executor.h"
#include "cluster_keys.h"
#include "command_util.h"
#include "config.h"
#include "format.h"
#include "info_sections.h"
#include "server.h"

namespace dynakv::server {

void DynakvSection(Server& server, std::string* out) {
  cluster::ClusterNode* node = server.cluster_node();
  if (node == nullptr) return;
  *out += "# Dynakv\r\n";
  const cluster::ClusterOptions& options = node->options();
  std::size_t reachable = 0;
  for (const cluster::NodeInfo& member : node->ring().nodes()) {
    if (member.id == node->self_id() || node->PeerReachable(member.id)) ++reachable;
  }
  // The failure detector's verdicts (this node counts itself up); members that are leaving
  // or left are in none of the three.
  std::size_t up = 0, suspect = 0, down = 0;
  for (const cluster::MemberStatus& member : node->Members()) {
    up += member.state == cluster::MemberState::kUp ? 1 : 0;
    suspect += member.state == cluster::MemberState::kSuspect ? 1 : 0;
    down += member.state == cluster::MemberState::kDown ? 1 : 0;
  }
  const cluster::ClusterStats stats = node->stats();
  // Range streaming after ring changes and LEAVE: state idle / streaming / leaving / left, the
  // current pass's progress (percent of hash space scanned) and what it moved so far.
  const cluster::RebalanceStatus rebalance = node->Rebalance();
  const Config& config = server.config();
  std::string node_local;  // as the rows say, in the order the families define them
  for (const CommandSpec* spec : server.commands().defined()) {
    if (!NodeLocalInCluster(*spec)) continue;
    if (!node_local.empty()) node_local += ',';
    node_local += spec->name;
  }
  AppendPrintf(out,
               "cluster_mode:enabled\r\n"
               "cluster_node_id:%s\r\n"
               "cluster_bus_port:%d\r\n"
               "cluster_members:%zu\r\n"
               "cluster_members_reachable:%zu\r\n"
               "cluster_members_up:%zu\r\n"
               "cluster_members_suspect:%zu\r\n"
               "cluster_members_down:%zu\r\n"
               "cluster_seeds:%zu\r\n"
               "cluster_gossip_interval_ms:%d\r\n"
               "cluster_phi_threshold:%.2f\r\n"
               "cluster_down_after_ms:%d\r\n"
               "cluster_sloppy_quorum:%d\r\n"
               "cluster_hint_handoff_interval_ms:%d\r\n"
               "cluster_replication_factor:%d\r\n"
               "cluster_replicas_per_dc:%s\r\n"
               "cluster_read_consistency:%s\r\n"
               "cluster_write_consistency:%s\r\n"
               "cluster_request_timeout_ms:%d\r\n"
               "cluster_read_repair_chance:%.2f\r\n"
               "cluster_node_local_commands:%s\r\n"
               "cluster_commands_in_flight:%zu\r\n"
               "cluster_reads:%llu\r\n"
               "cluster_writes:%llu\r\n"
               "cluster_read_failures:%llu\r\n"
               "cluster_write_failures:%llu\r\n"
               "cluster_read_repairs:%llu\r\n"
               "cluster_read_repair_checks:%llu\r\n"
               "cluster_read_retries:%llu\r\n"
               "cluster_replica_requests_served:%llu\r\n"
               "cluster_peer_timeouts:%llu\r\n"
               "cluster_peer_connect_failures:%llu\r\n"
               "cluster_undecodable_values:%llu\r\n"
               "cluster_bus_protocol_errors:%llu\r\n"
               "cluster_bus_connections:%llu\r\n"
               "cluster_bus_connections_handshaking:%llu\r\n"
               "cluster_bus_handshake_timeouts:%llu\r\n"
               "cluster_bus_rejected_connections:%llu\r\n"
               "cluster_bus_auth:%s\r\n"
               "cluster_bus_auth_failures:%llu\r\n"
               "cluster_bus_frame_mac_failures:%llu\r\n"
               "cluster_bus_tls:%s\r\n"
               "cluster_bus_tls_failures:%llu\r\n"
               "cluster_handshake_timeout_ms:%d\r\n"
               "cluster_anti_entropy_rounds:%llu\r\n"
               "cluster_anti_entropy_round_failures:%llu\r\n"
               "cluster_anti_entropy_keys_repaired:%llu\r\n"
               "cluster_anti_entropy_keys_sent:%llu\r\n"
               "cluster_anti_entropy_bytes_sent:%llu\r\n"
               "cluster_anti_entropy_bytes_received:%llu\r\n"
               "cluster_anti_entropy_tree_builds:%llu\r\n"
               "cluster_anti_entropy_last_round_keys:%llu\r\n"
               "cluster_hinted_writes:%llu\r\n"
               "cluster_hints_stored:%llu\r\n"
               "cluster_hints_delivered:%llu\r\n"
               "cluster_hints_pending:%llu\r\n"
               "cluster_rebalance_state:%s\r\n"
               "cluster_rebalance_scan_progress:%.2f\r\n"
               "cluster_rebalance_keys_queued:%llu\r\n"
               "cluster_rebalance_pushes_in_flight:%llu\r\n"
               "cluster_rebalance_passes:%llu\r\n"
               "cluster_rebalance_restarts:%llu\r\n"
               "cluster_rebalance_keys_streamed:%llu\r\n"
               "cluster_rebalance_bytes_streamed:%llu\r\n"
               "cluster_rebalance_keys_dropped:%llu\r\n"
               "cluster_rebalance_push_failures:%llu\r\n",
               node->self_id().c_str(), node->bus_port(), node->ring().size(), reachable, up,
               suspect, down, options.seeds.size(), options.gossip_interval_ms,
               options.phi_threshold, options.down_after_ms, options.sloppy_quorum ? 1 : 0,
               options.hint_handoff_interval_ms, EffectiveReplicationFactor(config),
               FormatReplicasPerDc(config).c_str(),
               cluster::ToString(config.cluster_read_consistency).c_str(),
               cluster::ToString(config.cluster_write_consistency).c_str(),
               options.request_timeout_ms, options.read_repair_chance, node_local.c_str(),
               server.cluster_executor()->in_flight(),
               static_cast<unsigned long long>(stats.reads),
               static_cast<unsigned long long>(stats.writes),
               static_cast<unsigned long long>(stats.read_failures),
               static_cast<unsigned long long>(stats.write_failures),
               static_cast<unsigned long long>(stats.read_repairs),
               static_cast<unsigned long long>(stats.read_repair_checks),
               static_cast<unsigned long long>(stats.read_retries),
               static_cast<unsigned long long>(stats.replica_requests_served),
               static_cast<unsigned long long>(stats.peer_timeouts),
               static_cast<unsigned long long>(stats.peer_connect_failures),
               static_cast<unsigned long long>(stats.undecodable_values),
               static_cast<unsigned long long>(stats.bus_protocol_errors),
               static_cast<unsigned long long>(stats.bus_connections),
               static_cast<unsigned long long>(stats.bus_connections_handshaking),
               static_cast<unsigned long long>(stats.bus_handshake_timeouts),
               static_cast<unsigned long long>(stats.bus_rejected_connections),
               options.secret.empty() ? "insecure" : "hmac-sha256",
               static_cast<unsigned long long>(stats.bus_auth_failures),
               static_cast<unsigned long long>(stats.bus_frame_mac_failures),
               options.tls ? "yes" : "no",
               static_cast<unsigned long long>(stats.bus_tls_failures),
               options.handshake_timeout_ms,
               static_cast<unsigned long long>(stats.anti_entropy_rounds),
               static_cast<unsigned long long>(stats.anti_entropy_round_failures),
               static_cast<unsigned long long>(stats.anti_entropy_keys_repaired),
               static_cast<unsigned long long>(stats.anti_entropy_keys_sent),
               static_cast<unsigned long long>(stats.anti_entropy_bytes_sent),
               static_cast<unsigned long long>(stats.anti_entropy_bytes_received),
               static_cast<unsigned long long>(stats.anti_entropy_tree_builds),
               static_cast<unsigned long long>(stats.anti_entropy_last_round_keys),
               static_cast<unsigned long long>(stats.hinted_writes),
               static_cast<unsigned long long>(stats.hints_stored),
               static_cast<unsigned long long>(stats.hints_delivered),
               static_cast<unsigned long long>(stats.hints_pending), rebalance.state.c_str(),
               rebalance.scan_progress * 100,
               static_cast<unsigned long long>(rebalance.keys_queued),
               static_cast<unsigned long long>(rebalance.pushes_in_flight),
               static_cast<unsigned long long>(stats.rebalance_passes),
               static_cast<unsigned long long>(stats.rebalance_restarts),
               static_cast<unsigned long long>(stats.rebalance_keys_streamed),
               static_cast<unsigned long long>(stats.rebalance_bytes_streamed),
               static_cast<unsigned long long>(stats.rebalance_keys_dropped),
               static_cast<unsigned long long>(stats.rebalance_push_failures));
  // What peers announced that cannot be true (cluster-max-clock-skew-ms).
  AppendPrintf(out,
               "cluster_clock_skew_rejections:%llu\r\n"
               "cluster_gossip_rejected_entries:%llu\r\n",
               static_cast<unsigned long long>(stats.clock_skew_rejections),
               static_cast<unsigned long long>(stats.gossip_rejected_entries));
  // SERIAL / LOCAL_SERIAL requests this node coordinated (Paxos rounds).
  AppendPrintf(out,
               "cluster_serial_requests:%llu\r\n"
               "cluster_serial_rounds:%llu\r\n"
               "cluster_serial_contention:%llu\r\n"
               "cluster_serial_completed:%llu\r\n"
               "cluster_serial_failures:%llu\r\n",
               static_cast<unsigned long long>(stats.serial_requests),
               static_cast<unsigned long long>(stats.serial_rounds),
               static_cast<unsigned long long>(stats.serial_contention),
               static_cast<unsigned long long>(stats.serial_completed),
               static_cast<unsigned long long>(stats.serial_failures));
  server.cluster_blocking()->AppendInfo(out);
  server.cluster_counters()->AppendInfo(out);
}

}  // namespace dynakv::server
