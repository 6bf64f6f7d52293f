// ReplicaLink in cluster mode (replica_link.h): the full sync written through the ring as
// IMPORT-RDB in cluster mode writes a file, and the command stream applied one command at a time
// through the coordinator, each after the one before it met its write level.
#include <string>
#include <vector>

#include "ascii.h"
#include "client.h"
#include "command_call.h"
#include "command_table.h"
#include "log.h"
#include "replica_link.h"
#include "replica_load.h"
#include "replica_state.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {
namespace {

// Stream bytes parsed and not yet applied past which the link stops reading the master (the
// master's output buffer for this replica, and its backlog, hold the rest).
constexpr std::size_t kMaxPendingBytes = 32 << 20;

// What the cluster refused to take (not the command's own error): tried again.
bool IsClusterFailure(std::string_view error) {
  return error.starts_with("UNAVAILABLE") || error.starts_with("TIMEOUT");
}

}  // namespace

bool ReplicaLink::Clustered() const { return server_.cluster_executor() != nullptr; }

std::string ReplicaLink::TakeReply() {
  std::string reply = std::move(*master_client_->reply().buffer());
  master_client_->reply().buffer()->clear();
  return reply;
}

void ReplicaLink::OnCommandDone() {
  command_in_flight_ = false;
  if (!master_client_) return;
  const std::string reply = TakeReply();
  if (flushing_) {
    FlushDone(reply);
    return;
  }
  if (state_ == State::kTransfer) return;  // a FLUSHALL of a sync since dropped
  if (!CommandDone(reply)) return;
  if (!pumping_) Pump();
}

bool ReplicaLink::StartClusterFullSync() {
  // The whole cluster is emptied first, as a Redis replica empties its dataset: a key the master
  // no longer has must not survive the sync on any member.
  flushing_ = true;
  load_done_ = false;
  held_payload_.clear();
  units_.clear();
  units_bytes_ = 0;
  next_command_ = 0;
  in_multi_ = false;
  TakeReply();
  server_.commands().Dispatch(server_, *master_client_, {"FLUSHALL"}, master_client_->reply(),
                              CallOrigin::kMaster);
  if (master_client_->command_in_flight()) {
    command_in_flight_ = true;
    return true;
  }
  return FlushDone(TakeReply());
}

bool ReplicaLink::FlushDone(const std::string& reply) {
  flushing_ = false;
  if (state_ != State::kTransfer) return false;  // dropped meanwhile
  if (reply.starts_with("-")) {
    Drop("cannot flush the cluster before the full sync: " +
         reply.substr(1, reply.find("\r\n") - 1));
    return false;
  }
  load_ = std::make_unique<ReplicaLoad>(server_, [this] { LoadProgress(); });
  if (held_payload_.empty()) return true;
  const std::string held = std::move(held_payload_);
  held_payload_.clear();
  return FeedPayloadClustered(held);
}

bool ReplicaLink::FeedPayloadClustered(std::string_view bytes) {
  if (flushing_) {
    held_payload_.append(bytes);
    if (held_payload_.size() >= kMaxPendingBytes) PauseReading();
    return true;
  }
  if (!load_) return false;
  if (load_done_) {
    // The stream, while the RDB's last writes are in flight.
    stream_.append(bytes);
    read_offset_ += static_cast<long long>(bytes.size());
    if (stream_.size() >= kMaxPendingBytes) PauseReading();
    return true;
  }
  const SyncPayload::Status status = load_->Feed(bytes);
  if (status == SyncPayload::Status::kFailed) {
    Drop("MASTER <-> REPLICA sync failed: " + load_->error());
    return false;
  }
  if (status == SyncPayload::Status::kNeedMore) {
    if (load_->Full()) PauseReading();
    return true;
  }
  load_done_ = true;
  stream_ = load_->TakeRest();
  read_offset_ = offset_ + static_cast<long long>(stream_.size());
  if (load_->Idle()) return FinishClusterSync();
  return true;
}

void ReplicaLink::LoadProgress() {
  if (!load_ || state_ != State::kTransfer) return;
  if (load_done_) {
    if (load_->Idle()) FinishClusterSync();
    return;
  }
  if (!load_->Full()) MaybeResumeReading();
}

bool ReplicaLink::FinishClusterSync() {
  const double seconds = static_cast<double>(uv_now(server_.loop()) - sync_start_ms_) / 1000.0;
  if (load_->failed_keys() > 0) {
    // Some keys may be missing: only another full sync makes the data whole.
    Drop("MASTER <-> REPLICA sync failed: " + std::to_string(load_->failed_keys()) +
         " keys were not written at the write level (first error: " + load_->first_error() +
         ")");
    return false;
  }
  sync_keys_ = load_->keys();
  Log(server_.log_level(), LogLevel::kNotice,
      "MASTER <-> REPLICA sync: Finished with success in %.3f seconds (%llu keys written through "
      "the cluster, %llu already expired, %llu stream/module keys skipped)",
      seconds, static_cast<unsigned long long>(load_->keys()),
      static_cast<unsigned long long>(load_->expired_keys()),
      static_cast<unsigned long long>(load_->skipped_keys()));
  retired_load_ = std::move(load_);  // this may run inside its writer's callback
  load_done_ = false;
  synced_ = true;
  state_ = State::kConnected;
  SaveState();
  // Every key met its write level: acknowledged, as after a single node's load.
  SendCommand({"REPLCONF", "ACK", std::to_string(offset_)});
  if (!connection_) return false;
  MaybeResumeReading();
  return ApplyStreamClustered();
}

bool ReplicaLink::ApplyStreamClustered() {
  std::size_t pos = 0;
  std::vector<std::string_view> argv;
  const long long base = read_offset_ - static_cast<long long>(stream_.size());
  while (pos < stream_.size()) {
    std::size_t consumed = 0;
    const resp::ParseStatus status =
        parser_.Parse(std::string_view(stream_).substr(pos), &consumed, &argv);
    if (status == resp::ParseStatus::kNeedMore) break;
    if (status == resp::ParseStatus::kError) {
      Drop("protocol error in the master's stream: " + parser_.error());
      return false;
    }
    const long long end = base + static_cast<long long>(pos + consumed);
    pos += consumed;
    std::vector<std::string> command(argv.begin(), argv.end());
    std::size_t bytes = consumed;
    if (!argv.empty() && EqualsIgnoreCase(argv[0], "multi") && !in_multi_) {
      in_multi_ = true;
      multi_ = Unit{};
      multi_.bytes = bytes;
      continue;
    }
    if (in_multi_) {
      multi_.bytes += bytes;
      if (!argv.empty() && EqualsIgnoreCase(argv[0], "exec")) {
        in_multi_ = false;
        multi_.end = end;
        units_bytes_ += multi_.bytes;
        units_.push_back(std::move(multi_));
        multi_ = Unit{};
      } else if (!argv.empty() && EqualsIgnoreCase(argv[0], "discard")) {
        in_multi_ = false;
        multi_.commands.clear();
        multi_.end = end;
        units_bytes_ += multi_.bytes;
        units_.push_back(std::move(multi_));
        multi_ = Unit{};
      } else if (!argv.empty()) {
        multi_.commands.push_back(std::move(command));
      }
      continue;
    }
    Unit unit;
    unit.end = end;
    unit.bytes = bytes;
    if (argv.size() >= 2 && EqualsIgnoreCase(argv[0], "replconf") &&
        EqualsIgnoreCase(argv[1], "getack")) {
      unit.getack = true;
    } else if (!argv.empty()) {
      unit.commands.push_back(std::move(command));
    }
    units_bytes_ += unit.bytes;
    units_.push_back(std::move(unit));
  }
  stream_.erase(0, pos);
  Pump();
  if (units_bytes_ + stream_.size() >= kMaxPendingBytes) PauseReading();
  return connection_ != nullptr;
}

void ReplicaLink::Pump() {
  if (pumping_ || !master_client_) return;
  pumping_ = true;
  while (!command_in_flight_ && !retry_pending_ && !units_.empty()) {
    Unit& unit = units_.front();
    if (next_command_ == unit.commands.size()) {
      if (unit.getack) {
        // The offset before it, as Redis's replica acknowledges.
        SendCommand({"REPLCONF", "ACK", std::to_string(offset_)});
      }
      offset_ = unit.end;
      units_bytes_ -= unit.bytes;
      units_.pop_front();
      next_command_ = 0;
      SaveState();  // each command of it met its write level
      continue;
    }
    const std::vector<std::string>& command = unit.commands[next_command_];
    const std::vector<std::string_view> argv(command.begin(), command.end());
    TakeReply();
    server_.commands().Dispatch(server_, *master_client_, argv, master_client_->reply(),
                                CallOrigin::kMaster);
    if (master_client_->command_in_flight()) {
      command_in_flight_ = true;
      break;
    }
    if (!CommandDone(TakeReply())) break;
  }
  pumping_ = false;
  if (units_bytes_ + stream_.size() < kMaxPendingBytes / 2) MaybeResumeReading();
}

bool ReplicaLink::CommandDone(const std::string& reply) {
  if (units_.empty() || next_command_ >= units_.front().commands.size()) return false;
  const std::string& name = units_.front().commands[next_command_].front();
  if (reply.starts_with("-")) {
    const std::string error = reply.substr(1, reply.find("\r\n") - 1);
    const std::uint64_t now = uv_now(server_.loop());
    if (IsClusterFailure(error)) {
      // Not written at its level: the same command again at the next tick (never skipped; a
      // read-modify-write one may have reached some replicas, as any failed write may).
      retry_pending_ = true;
      ++write_retries_;
      if (now >= last_error_log_ms_ + 1000) {
        Log(server_.log_level(), LogLevel::kWarning,
            "The cluster did not take the master's command '%s' (%s): trying it again",
            name.c_str(), error.c_str());
        last_error_log_ms_ = now;
      }
      return false;
    }
    ++command_errors_;
    if (now >= last_error_log_ms_ + 1000) {
      Log(server_.log_level(), LogLevel::kWarning,
          "== CRITICAL == This replica got an error running the master's command '%s': %s "
          "(%llu such errors so far)",
          name.c_str(), error.c_str(), static_cast<unsigned long long>(command_errors_));
      last_error_log_ms_ = now;
    }
  }
  ++next_command_;
  return true;
}

void ReplicaLink::PauseReading() {
  if (reading_paused_ || !connection_) return;
  connection_->ReadStop();
  reading_paused_ = true;
}

void ReplicaLink::MaybeResumeReading() {
  if (!reading_paused_ || !connection_) return;
  if (flushing_ || (load_ && !load_done_ && load_->Full())) return;
  if (units_bytes_ + stream_.size() >= kMaxPendingBytes / 2) return;
  reading_paused_ = false;
  if (connection_->ReadStart() != 0) Drop("cannot read from the master");
}

}  // namespace dynakv::server
