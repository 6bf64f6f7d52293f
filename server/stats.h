// Counters the server keeps for INFO stats, named as Redis names them.
#pragma once

#include <cstdint>

namespace dynakv::server {

struct ServerStats {
  std::uint64_t total_connections_received = 0;
  std::uint64_t total_commands_processed = 0;
  std::uint64_t rejected_connections = 0;
  std::uint64_t total_net_input_bytes = 0;
  std::uint64_t total_net_output_bytes = 0;
  std::uint64_t keyspace_hits = 0;
  std::uint64_t keyspace_misses = 0;
  std::uint64_t total_error_replies = 0;
  // Socket reads of client requests and writes of replies (one per call, as Redis counts them).
  std::uint64_t total_reads_processed = 0;
  std::uint64_t total_writes_processed = 0;
  // Reply buffers that grew past what a client keeps between replies, and ones given back.
  std::uint64_t reply_buffer_expands = 0;
  std::uint64_t reply_buffer_shrinks = 0;
  // Replication traffic: read from a REPLICAOF master, written as SYNC / PSYNC payloads; the
  // full resyncs served, and the PSYNCs asking to continue that could not (there is no backlog).
  std::uint64_t total_net_repl_input_bytes = 0;
  std::uint64_t total_net_repl_output_bytes = 0;
  std::uint64_t sync_full = 0;
  std::uint64_t sync_partial_err = 0;
  // Error replies to a REPLICAOF master's commands, which a replica never expects.
  std::uint64_t unexpected_error_replies = 0;
  // RESTORE payloads checked in full (every one here: a value is decoded, never taken as is).
  std::uint64_t dump_payload_sanitizations = 0;
  // Milliseconds the memory used stayed over maxmemory, in the spells that ended.
  std::uint64_t total_eviction_exceeded_ms = 0;
};

}  // namespace dynakv::server
