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
};

}  // namespace dynakv::server
