// Node configuration. One table of parameters, named as in Redis where Redis has the knob, feeds
// the TOML file (conf/node.toml), command-line flags (--name value) and CONFIG GET/SET alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/options.h"

namespace dynakv::server {

struct Config {
  // [server]
  std::string bind = "127.0.0.1";
  int port = 6379;
  std::string requirepass;  // empty: no AUTH needed
  int maxclients = 10000;
  int hz = 10;              // cron frequency: active expiry, compaction, stats
  int timeout = 0;          // close clients idle this many seconds; 0 never
  std::string loglevel = "notice";
  // [limits]
  long long proto_max_bulk_len = 512LL * 1024 * 1024;
  long long proto_max_multibulk_len = 2147483647LL;
  std::uint64_t client_query_buffer_limit = 1024ull * 1024 * 1024;
  // Pending output above this makes the server stop reading from the client until it drains
  // (backpressure); above the hard limit the client is disconnected, as Redis does.
  std::uint64_t client_output_buffer_soft_limit = 16ull * 1024 * 1024;
  std::uint64_t client_output_buffer_hard_limit = 512ull * 1024 * 1024;
  // [storage]
  std::string dir = "data";
  std::uint64_t maxmemory = 0;
  storage::EvictionPolicy maxmemory_policy = storage::EvictionPolicy::kOffload;
  storage::FsyncPolicy appendfsync = storage::FsyncPolicy::kEverySec;
  std::size_t compression_threshold = 64;
  std::uint64_t log_checkpoint_bytes = 64ull << 20;

  std::string config_file;  // the file loaded, empty when running on the embedded default
};

}  // namespace dynakv::server
