// ReplicaLink's ROLE state names and INFO replication fields (replica_link.h).
#include "format.h"
#include "replica_link.h"
#include "replica_load.h"
#include "server.h"

namespace dynakv::server {

const char* ReplicaLink::StateName(State state) {
  switch (state) {
    case State::kNone:
      return "none";
    case State::kConnect:
      return "connect";
    case State::kConnecting:
      return "connecting";
    case State::kHandshake:
      return "handshake";
    case State::kTransfer:
      return "sync";
    case State::kConnected:
      return "connected";
  }
  return "none";
}

void ReplicaLink::AppendInfo(std::string* out) const {
  const std::uint64_t now = uv_now(server_.loop());
  const bool up = state_ == State::kConnected;
  AppendPrintf(out,
               "master_host:%s\r\n"
               "master_port:%d\r\n"
               "master_link_status:%s\r\n"
               "master_last_io_seconds_ago:%lld\r\n"
               "master_sync_in_progress:%d\r\n"
               "slave_read_repl_offset:%lld\r\n"
               "slave_repl_offset:%lld\r\n",
               host_.c_str(), port_, up ? "up" : "down",
               up ? static_cast<long long>((now - last_io_ms_) / 1000) : -1LL,
               state_ == State::kTransfer ? 1 : 0, read_offset_, offset_);
  if (Clustered()) {
    AppendPrintf(out,
                 "master_sync_keys_in_flight:%llu\r\n"
                 "master_sync_failed_keys:%llu\r\n"
                 "master_stream_commands_pending:%zu\r\n"
                 "master_stream_write_retries:%llu\r\n",
                 static_cast<unsigned long long>(load_ ? load_->keys_in_flight() : 0),
                 static_cast<unsigned long long>(load_ ? load_->failed_keys() : 0), units_.size(),
                 static_cast<unsigned long long>(write_retries_));
  }
  if (state_ == State::kTransfer && load_) {
    const long long total = load_->total_bytes();
    const unsigned long long read = load_->received_bytes();
    AppendPrintf(out,
                 "master_sync_total_bytes:%lld\r\n"
                 "master_sync_read_bytes:%llu\r\n"
                 "master_sync_left_bytes:%lld\r\n"
                 "master_sync_perc:%.2f\r\n"
                 "master_sync_last_io_seconds_ago:%lld\r\n"
                 "master_sync_keys:%llu\r\n",
                 total, read, total < 0 ? -1LL : total - static_cast<long long>(read),
                 total > 0 ? 100.0 * static_cast<double>(read) / static_cast<double>(total) : 0.0,
                 static_cast<long long>((now - last_io_ms_) / 1000),
                 static_cast<unsigned long long>(load_->keys()));
  }
  if (!up) {
    AppendPrintf(out, "master_link_down_since_seconds:%lld\r\n",
                 link_down_since_ms_ == 0
                     ? -1LL
                     : static_cast<long long>((now - link_down_since_ms_) / 1000));
  }
  AppendPrintf(
      out,
      "slave_priority:100\r\n"
      "slave_read_only:%d\r\n"
      "replica_announced:1\r\n"
      "master_full_syncs:%llu\r\n"
      "master_partial_syncs:%llu\r\n"
      "master_last_sync_keys:%llu\r\n"
      "master_link_last_error:%s\r\n"
      "master_command_errors:%llu\r\n",
      server_.config().replica_read_only ? 1 : 0, static_cast<unsigned long long>(full_syncs_),
      static_cast<unsigned long long>(partial_syncs_), static_cast<unsigned long long>(sync_keys_),
      last_error_.c_str(), static_cast<unsigned long long>(command_errors_));
}

}  // namespace dynakv::server
