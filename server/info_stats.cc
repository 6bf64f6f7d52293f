// INFO stats: Redis 7.0's fields in its order, then the storage engine's own.
#include <cstdint>
#include <string>

#include "format.h"
#include "info_sections.h"
#include "pubsub.h"
#include "server.h"
#include "tracking.h"

namespace dynakv::server {

void StatsSection(Server& server, const storage::EngineStats& engine, std::string* out) {
  const ServerStats& stats = server.stats();
  const std::uint64_t exceeded_now = server.current_eviction_exceeded_ms();
  AppendPrintf(out,
               "# Stats\r\n"
               "total_connections_received:%llu\r\n"
               "total_commands_processed:%llu\r\n"
               "instantaneous_ops_per_sec:%lld\r\n"
               "total_net_input_bytes:%llu\r\n"
               "total_net_output_bytes:%llu\r\n"
               "total_net_repl_input_bytes:%llu\r\n"
               "total_net_repl_output_bytes:%llu\r\n"
               "instantaneous_input_kbps:%.2f\r\n"
               "instantaneous_output_kbps:%.2f\r\n"
               "instantaneous_input_repl_kbps:%.2f\r\n"
               "instantaneous_output_repl_kbps:%.2f\r\n"
               "rejected_connections:%llu\r\n"
               "sync_full:%llu\r\n"
               "sync_partial_ok:0\r\n"  // no backlog to continue a stream from
               "sync_partial_err:%llu\r\n",
               static_cast<unsigned long long>(stats.total_connections_received),
               static_cast<unsigned long long>(stats.total_commands_processed),
               server.instantaneous_ops_per_sec(),
               static_cast<unsigned long long>(stats.total_net_input_bytes),
               static_cast<unsigned long long>(stats.total_net_output_bytes),
               static_cast<unsigned long long>(stats.total_net_repl_input_bytes),
               static_cast<unsigned long long>(stats.total_net_repl_output_bytes),
               static_cast<double>(server.instantaneous_input_bytes_per_sec()) / 1024,
               static_cast<double>(server.instantaneous_output_bytes_per_sec()) / 1024,
               static_cast<double>(server.instantaneous_repl_input_bytes_per_sec()) / 1024,
               static_cast<double>(server.instantaneous_repl_output_bytes_per_sec()) / 1024,
               static_cast<unsigned long long>(stats.rejected_connections),
               static_cast<unsigned long long>(stats.sync_full),
               static_cast<unsigned long long>(stats.sync_partial_err));
  // No client eviction (there is no maxmemory-clients), no fork, no MIGRATE (so no cached
  // sockets), a replica takes no writes of its own (no keys with an expiry to track), no active
  // defragmentation: those are 0.
  AppendPrintf(out,
               "expired_keys:%llu\r\n"
               "expired_stale_perc:%.2f\r\n"
               "expired_time_cap_reached_count:%llu\r\n"
               "expire_cycle_cpu_milliseconds:%llu\r\n"
               "evicted_keys:%llu\r\n"
               "evicted_clients:0\r\n"
               "total_eviction_exceeded_time:%llu\r\n"
               "current_eviction_exceeded_time:%llu\r\n"
               "keyspace_hits:%llu\r\n"
               "keyspace_misses:%llu\r\n"
               "pubsub_channels:%zu\r\n"
               "pubsub_patterns:%zu\r\n"
               "pubsubshard_channels:%zu\r\n"
               "latest_fork_usec:0\r\n"
               "total_forks:0\r\n"
               "migrate_cached_sockets:0\r\n"
               "slave_expires_tracked_keys:0\r\n"
               "active_defrag_hits:0\r\n"
               "active_defrag_misses:0\r\n"
               "active_defrag_key_hits:0\r\n"
               "active_defrag_key_misses:0\r\n"
               "total_active_defrag_time:0\r\n"
               "current_active_defrag_time:0\r\n",
               static_cast<unsigned long long>(engine.expired_keys),
               engine.expired_stale_ratio * 100,
               static_cast<unsigned long long>(engine.expire_time_cap_reached),
               static_cast<unsigned long long>(engine.expire_cycle_us / 1000),
               static_cast<unsigned long long>(engine.evicted_keys),
               static_cast<unsigned long long>(stats.total_eviction_exceeded_ms + exceeded_now),
               static_cast<unsigned long long>(exceeded_now),
               static_cast<unsigned long long>(stats.keyspace_hits),
               static_cast<unsigned long long>(stats.keyspace_misses),
               server.pubsub().channel_count(PubSub::Kind::kGlobal),
               server.pubsub().pattern_count(),
               server.pubsub().channel_count(PubSub::Kind::kShard));
  // One thread does all client I/O: nothing is read or written by I/O threads.
  AppendPrintf(out,
               "tracking_total_keys:%zu\r\n"
               "tracking_total_items:%zu\r\n"
               "tracking_total_prefixes:%zu\r\n"
               "unexpected_error_replies:%llu\r\n"
               "total_error_replies:%llu\r\n"
               "dump_payload_sanitizations:%llu\r\n"
               "total_reads_processed:%llu\r\n"
               "total_writes_processed:%llu\r\n"
               "io_threaded_reads_processed:0\r\n"
               "io_threaded_writes_processed:0\r\n"
               "reply_buffer_shrinks:%llu\r\n"
               "reply_buffer_expands:%llu\r\n",
               server.tracking().keys(), server.tracking().items(), server.tracking().prefixes(),
               static_cast<unsigned long long>(stats.unexpected_error_replies),
               static_cast<unsigned long long>(stats.total_error_replies),
               static_cast<unsigned long long>(stats.dump_payload_sanitizations),
               static_cast<unsigned long long>(stats.total_reads_processed),
               static_cast<unsigned long long>(stats.total_writes_processed),
               static_cast<unsigned long long>(stats.reply_buffer_shrinks),
               static_cast<unsigned long long>(stats.reply_buffer_expands));
  // Not Redis fields: the storage engine's.
  AppendPrintf(out,
               "offloaded_keys:%llu\r\n"
               "segment_reads:%llu\r\n"
               "bloom_skips:%llu\r\n",
               static_cast<unsigned long long>(engine.offloaded_keys),
               static_cast<unsigned long long>(engine.segment_reads),
               static_cast<unsigned long long>(engine.bloom_skips));
}

}  // namespace dynakv::server
