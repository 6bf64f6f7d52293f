#include "info.h"

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <vector>

#include "clock.h"
#include "cluster/cluster_node.h"
#include "cluster_blocking.h"
#include "cluster_counters.h"
#include "cluster_config.h"
#include "cluster_executor.h"
#include "cluster_keys.h"
#include "command_util.h"
#include "config.h"
#include "format.h"
#include "info_command_stats.h"
#include "script_runner.h"
#include "rdb_import.h"
#include "rdb_save.h"
#include "replica_link.h"
#include "server.h"
#include "storage/engine.h"

// jemalloc's control interface. Weak, so the server library also links without jemalloc (unit
// tests); the executable links jemalloc and then this resolves.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace dynakv::server {
namespace {

// Redis 7.0's default sections; "all" adds commandstats and latencystats ("everything" also
// modules' sections, of which there are none).
constexpr std::string_view kDefaultSections[] = {
    "server", "clients", "memory",  "persistence", "stats",   "replication",
    "cpu",    "modules", "errorstats", "cluster",  "keyspace"};
constexpr std::string_view kAllOnlySections[] = {"commandstats", "latencystats"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string ExecutablePath() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

std::string Field(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ':';
  out += value;
  out += "\r\n";
  return out;
}

void ServerSection(Server& server, std::string* out) {
  utsname uts{};
  uname(&uts);
  timeval tv{};
  gettimeofday(&tv, nullptr);
  const long long now_us = static_cast<long long>(tv.tv_sec) * 1000000 + tv.tv_usec;
  const std::int64_t now_ms = now_us / 1000;
  const std::int64_t uptime = (now_ms - server.start_time_ms()) / 1000;
  *out += "# Server\r\n";
  AppendPrintf(out,
               "redis_version:%s\r\n"
               "dynakv_version:%s\r\n"
               "redis_mode:standalone\r\n"
               "os:%s %s %s\r\n"
               "arch_bits:%d\r\n"
               "gcc_version:%d.%d.%d\r\n"
               "process_id:%d\r\n"
               "run_id:%s\r\n"
               "tcp_port:%d\r\n"
               "server_time_usec:%lld\r\n"
               "uptime_in_seconds:%lld\r\n"
               "uptime_in_days:%lld\r\n"
               "hz:%d\r\n"
               "configured_hz:%d\r\n",
               std::string(kRedisCompatVersion).c_str(), DYNAKV_VERSION, uts.sysname, uts.release, uts.machine,
               static_cast<int>(sizeof(void*) * 8), __GNUC__, __GNUC_MINOR__,
               __GNUC_PATCHLEVEL__, static_cast<int>(getpid()), server.run_id().c_str(),
               server.port(), now_us,
               static_cast<long long>(uptime), static_cast<long long>(uptime / 86400),
               server.config().hz, server.config().hz);
  *out += Field("executable", ExecutablePath());
  *out += Field("config_file", server.config().config_file);
}

void ClientsSection(Server& server, std::string* out) {
  AppendPrintf(
      out,
      "# Clients\r\n"
      "connected_clients:%zu\r\n"
      "maxclients:%d\r\n"
      "blocked_clients:%zu\r\n"
      "tracking_clients:%zu\r\n",
      server.connected_clients(), server.config().maxclients,
      server.blocked_lists().blocked_clients() +
          (server.cluster_blocking() ? server.cluster_blocking()->blocked_clients() : 0) +
          (server.cluster_executor() ? server.cluster_executor()->waits().blocked_clients() : 0),
      server.tracking().clients());
}

// allkeys-tinylfu's bytes a key (0 without keys).
double PerKey(std::uint64_t bytes, std::uint64_t keys) {
  return keys == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(keys);
}

void MemorySection(Server& server, const storage::EngineStats& engine, std::string* out) {
  const std::uint64_t used = UsedMemoryBytes();
  const std::uint64_t rss = RssBytes();
  server.NoteUsedMemory(used);
  const Config& config = server.config();
  AppendPrintf(out,
               "# Memory\r\n"
               "used_memory:%llu\r\n"
               "used_memory_human:%s\r\n"
               "used_memory_rss:%llu\r\n"
               "used_memory_rss_human:%s\r\n"
               "used_memory_peak:%llu\r\n"
               "used_memory_peak_human:%s\r\n"
               "maxmemory:%llu\r\n"
               "maxmemory_human:%s\r\n"
               "maxmemory_policy:%s\r\n"
               "mem_allocator:%s\r\n"
               "memtable_bytes:%llu\r\n"
               "memtable_entries:%llu\r\n"
               "compressed_values:%llu\r\n"
               "tinylfu_policy_bytes:%llu\r\n"
               "tinylfu_policy_bytes_per_key:%.2f\r\n"
               "hot_values_decompressed:%llu\r\n"
               "tinylfu_sketch_bytes:%llu\r\n"
               "tinylfu_sketch_bytes_per_key:%.2f\r\n"
               "tinylfu_window_bytes:%llu\r\n"
               "tinylfu_probation_bytes:%llu\r\n"
               "tinylfu_protected_bytes:%llu\r\n"
               "tinylfu_admitted_keys:%llu\r\n"
               "tinylfu_rejected_keys:%llu\r\n",
               static_cast<unsigned long long>(used), BytesToHuman(used).c_str(),
               static_cast<unsigned long long>(rss), BytesToHuman(rss).c_str(),
               static_cast<unsigned long long>(server.used_memory_peak()),
               BytesToHuman(server.used_memory_peak()).c_str(),
               static_cast<unsigned long long>(config.maxmemory),
               BytesToHuman(config.maxmemory).c_str(),
               std::string(EvictionPolicyName(config.maxmemory_policy)).c_str(),
               UsingJemalloc() ? "jemalloc" : "libc",
               static_cast<unsigned long long>(engine.memtable_bytes),
               static_cast<unsigned long long>(engine.memtable_entries),
               static_cast<unsigned long long>(engine.compressed_values),
               static_cast<unsigned long long>(engine.policy_bytes),
               PerKey(engine.policy_bytes, engine.memtable_entries),
               static_cast<unsigned long long>(engine.hot_values_decompressed),
               static_cast<unsigned long long>(engine.sketch_bytes),
               PerKey(engine.sketch_bytes, engine.memtable_entries),
               static_cast<unsigned long long>(engine.window_bytes),
               static_cast<unsigned long long>(engine.probation_bytes),
               static_cast<unsigned long long>(engine.protected_bytes),
               static_cast<unsigned long long>(engine.admitted_keys),
               static_cast<unsigned long long>(engine.rejected_keys));
  // Redis's script and function figures. One Lua state serves both here, so its heap is
  // used_memory_lua and used_memory_vm_functions alike.
  const scripting::Engine& lua = server.scripts().engine();
  const std::uint64_t lua_heap = lua.lua_memory_bytes();
  const std::uint64_t scripts = lua.scripts_memory_bytes();
  AppendPrintf(out,
               "used_memory_lua:%llu\r\n"
               "used_memory_lua_human:%s\r\n"
               "used_memory_scripts_eval:%llu\r\n"
               "number_of_cached_scripts:%llu\r\n"
               "number_of_functions:%llu\r\n"
               "used_memory_vm_functions:%llu\r\n",
               static_cast<unsigned long long>(lua_heap), BytesToHuman(lua_heap).c_str(),
               static_cast<unsigned long long>(scripts),
               static_cast<unsigned long long>(lua.script_count()),
               static_cast<unsigned long long>(lua.function_count()),
               static_cast<unsigned long long>(lua_heap));
}

void PersistenceSection(Server& server, const storage::EngineStats& engine, std::string* out) {
  AppendPrintf(out,
               "# Persistence\r\n"
               "loading:0\r\n"
               "aof_enabled:1\r\n"
               "appendfsync:%s\r\n"
               "rdb_last_save_time:%lld\r\n"
               "commit_log_bytes:%llu\r\n"
               "segments:%llu\r\n"
               "segment_bytes:%llu\r\n"
               "checkpoints:%llu\r\n"
               "checkpoint_in_progress:%d\r\n"
               "write_stalls:%llu\r\n"
               "compactions:%llu\r\n"
               "compaction_in_progress:%d\r\n"
               "recovered_records:%llu\r\n"
               "truncated_log_bytes:%llu\r\n"
               "corrupt_logs_repaired:%llu\r\n"
               "corrupt_log_bytes_dropped:%llu\r\n"
               "corrupt_log_records_dropped:%llu\r\n"
               "aof_last_write_status:%s\r\n"
               "aof_write_errors:%llu\r\n"
               "segment_read_errors:%llu\r\n",
               std::string(FsyncPolicyName(server.config().appendfsync)).c_str(),
               static_cast<long long>(server.last_save_unix()),
               static_cast<unsigned long long>(engine.log_bytes),
               static_cast<unsigned long long>(engine.segments),
               static_cast<unsigned long long>(engine.segment_bytes),
               static_cast<unsigned long long>(engine.checkpoints),
               engine.checkpoint_running ? 1 : 0,
               static_cast<unsigned long long>(engine.write_stalls),
               static_cast<unsigned long long>(engine.compactions),
               engine.compaction_running ? 1 : 0,
               static_cast<unsigned long long>(engine.recovered_records),
               static_cast<unsigned long long>(engine.truncated_log_bytes),
               static_cast<unsigned long long>(engine.corrupt_logs_repaired),
               static_cast<unsigned long long>(engine.corrupt_log_bytes_dropped),
               static_cast<unsigned long long>(engine.corrupt_log_records_dropped),
               engine.log_error.empty() ? "ok" : "err",
               static_cast<unsigned long long>(engine.log_write_errors),
               static_cast<unsigned long long>(engine.segment_read_errors));
  // Not Redis fields: how long background checkpoints held up the event loop (EngineStats).
  AppendPrintf(out, "checkpoint_loop_last_us:%llu\r\ncheckpoint_loop_max_us:%llu\r\n",
               static_cast<unsigned long long>(engine.checkpoint_loop_last_us),
               static_cast<unsigned long long>(engine.checkpoint_loop_max_us));
  // Not Redis fields: how long writes waited for the disk, slowed (paced) or stopped (stalls).
  AppendPrintf(out, "write_stall_us:%llu\r\nwrite_delays:%llu\r\nwrite_delay_us:%llu\r\n",
               static_cast<unsigned long long>(engine.write_stall_us),
               static_cast<unsigned long long>(engine.write_delays),
               static_cast<unsigned long long>(engine.write_delay_us));
  // Not a Redis field: operators need the cause, Redis only logs it.
  if (!engine.log_error.empty()) {
    AppendPrintf(out, "aof_last_write_error:%s\r\n", engine.log_error.c_str());
  }
  if (!engine.segment_read_error.empty()) {
    AppendPrintf(out, "segment_last_read_error:%s\r\n", engine.segment_read_error.c_str());
  }
  AppendRdbSaveInfo(server.rdb_saver(), out);
  AppendRdbImportInfo(server.rdb_import().progress(), out);
}

void StatsSection(Server& server, const storage::EngineStats& engine, std::string* out) {
  const ServerStats& stats = server.stats();
  AppendPrintf(out,
               "# Stats\r\n"
               "total_connections_received:%llu\r\n"
               "total_commands_processed:%llu\r\n"
               "instantaneous_ops_per_sec:%lld\r\n"
               "total_net_input_bytes:%llu\r\n"
               "total_net_output_bytes:%llu\r\n"
               "instantaneous_input_kbps:%.2f\r\n"
               "instantaneous_output_kbps:%.2f\r\n"
               "rejected_connections:%llu\r\n"
               "expired_keys:%llu\r\n"
               "evicted_keys:%llu\r\n"
               "offloaded_keys:%llu\r\n"
               "keyspace_hits:%llu\r\n"
               "keyspace_misses:%llu\r\n"
               "pubsub_channels:%zu\r\n"
               "pubsub_patterns:%zu\r\n"
               "pubsubshard_channels:%zu\r\n"
               "tracking_total_keys:%zu\r\n"
               "tracking_total_items:%zu\r\n"
               "tracking_total_prefixes:%zu\r\n"
               "total_error_replies:%llu\r\n"
               "segment_reads:%llu\r\n"
               "bloom_skips:%llu\r\n",
               static_cast<unsigned long long>(stats.total_connections_received),
               static_cast<unsigned long long>(stats.total_commands_processed),
               server.instantaneous_ops_per_sec(),
               static_cast<unsigned long long>(stats.total_net_input_bytes),
               static_cast<unsigned long long>(stats.total_net_output_bytes),
               static_cast<double>(server.instantaneous_input_bytes_per_sec()) / 1024,
               static_cast<double>(server.instantaneous_output_bytes_per_sec()) / 1024,
               static_cast<unsigned long long>(stats.rejected_connections),
               static_cast<unsigned long long>(engine.expired_keys),
               static_cast<unsigned long long>(engine.evicted_keys),
               static_cast<unsigned long long>(engine.offloaded_keys),
               static_cast<unsigned long long>(stats.keyspace_hits),
               static_cast<unsigned long long>(stats.keyspace_misses),
               server.pubsub().channel_count(PubSub::Kind::kGlobal),
               server.pubsub().pattern_count(), server.pubsub().channel_count(PubSub::Kind::kShard),
               server.tracking().keys(), server.tracking().items(), server.tracking().prefixes(),
               static_cast<unsigned long long>(stats.total_error_replies),
               static_cast<unsigned long long>(engine.segment_reads),
               static_cast<unsigned long long>(engine.bloom_skips));
}

void ReplicationSection(Server& server, std::string* out) {
  // A single node is a master without replicas; clients such as redis-py's Sentinel support
  // and redis-benchmark read the role.
  // As a replica of a Redis master (REPLICAOF): Redis's replica fields, then the master's id
  // and the offset applied.
  const ReplicaLink& link = server.replication();
  if (link.active()) {
    out->append("# Replication\r\nrole:slave\r\n");
    link.AppendInfo(out);
    AppendPrintf(out,
                 "connected_slaves:0\r\n"
                 "master_replid:%s\r\n"
                 "master_repl_offset:%lld\r\n",
                 link.replid().empty() ? server.run_id().c_str() : link.replid().c_str(),
                 link.offset() < 0 ? 0LL : link.offset());
    return;
  }
  AppendPrintf(out,
               "# Replication\r\n"
               "role:master\r\n"
               "connected_slaves:0\r\n"
               "master_replid:%s\r\n"
               "master_repl_offset:0\r\n",
               server.run_id().c_str());
}

void CpuSection(std::string* out) {
  rusage self{};
  rusage children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  // INFO runs on the loop thread: Redis's main thread.
  rusage main_thread{};
  getrusage(RUSAGE_THREAD, &main_thread);
  AppendPrintf(out,
               "# CPU\r\n"
               "used_cpu_sys:%ld.%06ld\r\n"
               "used_cpu_user:%ld.%06ld\r\n"
               "used_cpu_sys_children:%ld.%06ld\r\n"
               "used_cpu_user_children:%ld.%06ld\r\n"
               "used_cpu_sys_main_thread:%ld.%06ld\r\n"
               "used_cpu_user_main_thread:%ld.%06ld\r\n",
               static_cast<long>(self.ru_stime.tv_sec), static_cast<long>(self.ru_stime.tv_usec),
               static_cast<long>(self.ru_utime.tv_sec), static_cast<long>(self.ru_utime.tv_usec),
               static_cast<long>(children.ru_stime.tv_sec),
               static_cast<long>(children.ru_stime.tv_usec),
               static_cast<long>(children.ru_utime.tv_sec),
               static_cast<long>(children.ru_utime.tv_usec),
               static_cast<long>(main_thread.ru_stime.tv_sec),
               static_cast<long>(main_thread.ru_stime.tv_usec),
               static_cast<long>(main_thread.ru_utime.tv_sec),
               static_cast<long>(main_thread.ru_utime.tv_usec));
}

// Counters are this node's as a coordinator (reads, writes, repairs) and as a replica (requests
// served). The keyspace commands listed as node-local answer for this node's replica only.
//
// Redis's own "# Cluster" section says cluster_enabled:0 in cluster mode too: dynakv is not a
// Redis Cluster (no slots, no MOVED; every node serves every key), and a Redis Cluster client
// seeing 1 would switch to slot routing and fail on the CLUSTER commands it then sends. The
// cluster's own fields follow under "# Dynakv" (INFO dynakv; INFO cluster shows both).
void ClusterSection(Server& server, std::string* out) {
  *out += "# Cluster\r\n";
  *out += "cluster_enabled:0\r\n";
}

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
    if (!NodeLocalInCluster(*spec) || CoversWholeCluster(spec->name)) continue;
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

// One line per non-empty database, as Redis. avg_ttl is 0: Redis's is an estimate its expire
// cycle samples, which this node does not keep.
void KeyspaceSection(Server& server, std::string* out) {
  *out += "# Keyspace\r\n";
  storage::Engine& engine = server.engine();
  for (std::uint32_t db = 0; db < server.databases(); ++db) {
    const std::uint64_t keys = engine.KeyCount(db);
    if (keys == 0) continue;
    AppendPrintf(out, "db%u:keys=%llu,expires=%llu,avg_ttl=0\r\n", db,
                 static_cast<unsigned long long>(keys),
                 static_cast<unsigned long long>(engine.KeysWithExpiry(db)));
  }
}

}  // namespace

std::uint64_t RssBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0;
  unsigned long long resident = 0;
  const int fields = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (fields != 2) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

bool UsingJemalloc() { return mallctl != nullptr; }

std::uint64_t UsedMemoryBytes() {
  if (mallctl != nullptr) {
    // jemalloc's statistics are snapshots refreshed by advancing the epoch.
    std::uint64_t epoch = 1;
    std::size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len);
    std::size_t allocated = 0;
    len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0) return allocated;
  }
  return RssBytes();
}

std::string GenerateInfo(Server& server, std::span<const std::string_view> sections) {
  std::vector<std::string> wanted;
  for (std::string_view section : sections) {
    const std::string name = Lower(section);
    if (name == "all" || name == "everything" || name == "default") {
      wanted.insert(wanted.end(), std::begin(kDefaultSections), std::end(kDefaultSections));
      if (name != "default") {
        wanted.insert(wanted.end(), std::begin(kAllOnlySections), std::end(kAllOnlySections));
      }
    } else {
      wanted.push_back(name);
    }
  }
  if (sections.empty()) {
    wanted.assign(std::begin(kDefaultSections), std::end(kDefaultSections));
  }
  auto wants = [&](std::string_view name) {
    return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
  };

  const storage::EngineStats engine = server.engine().Stats();
  std::string out;
  auto section = [&](std::string_view name, auto&& render) {
    if (!wants(name)) return;
    if (!out.empty()) out += "\r\n";
    render();
  };
  section("server", [&] { ServerSection(server, &out); });
  section("clients", [&] { ClientsSection(server, &out); });
  section("memory", [&] { MemorySection(server, engine, &out); });
  section("persistence", [&] { PersistenceSection(server, engine, &out); });
  section("stats", [&] { StatsSection(server, engine, &out); });
  section("replication", [&] { ReplicationSection(server, &out); });
  section("cpu", [&] { CpuSection(&out); });
  // Redis's module list, "module_list" by its section name: there are no modules.
  if (wants("module_list") && !wants("modules")) wanted.emplace_back("modules");
  section("modules", [&] { out += "# Modules\r\n"; });
  section("commandstats", [&] { CommandStatsSection(server, &out); });
  section("errorstats", [&] { ErrorStatsSection(server, &out); });
  section("latencystats", [&] { LatencyStatsSection(server, &out); });
  section("cluster", [&] { ClusterSection(server, &out); });
  if (server.cluster_node() != nullptr && (wants("cluster") || wants("dynakv"))) {
    if (!out.empty()) out += "\r\n";
    DynakvSection(server, &out);
  }
  section("keyspace", [&] { KeyspaceSection(server, &out); });
  return out;
}

}  // namespace dynakv::server
