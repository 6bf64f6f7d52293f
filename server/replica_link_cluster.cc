// ReplicaLink in cluster mode (replica_link.h): the full sync written through the ring as
// IMPORT-RDB in cluster mode writes a file, and the command stream applied one command at a time
// through the coordinator, each after the one before it met its write level.
#include <algorithm>
#include <string>
#include <vector>

#include "ascii.h"
#include "client.h"
#include "command_call.h"
#include "command_table.h"
#include "cross_slot.h"
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

std::string ReplicaLink::TakeReply(Client& client) {
  std::string reply = std::move(*client.reply().buffer());
  client.reply().buffer()->clear();
  return reply;
}

void ReplicaLink::EnsureLanes() {
  if (!lanes_.empty()) return;
  lanes_.resize(kLanes);
  for (std::size_t i = 0; i < kLanes; ++i) {
    lanes_[i].client = NewMasterClient();
    lanes_[i].client->set_async_done([this, i] { OnLaneDone(i); });
  }
}

void ReplicaLink::OnLaneDone(std::size_t index) {
  Lane& lane = lanes_[index];
  const std::string reply = TakeReply(*lane.client);
  Unit* unit = lane.unit;
  lane.unit = nullptr;
  --in_flight_;
  if (flushing_ && index == 0 && unit == nullptr) {
    FlushDone(reply);
    return;
  }
  if (unit == nullptr) return;  // a FLUSHALL of a sync since dropped
  unit->running = false;
  for (const std::string& key : unit->keys) {
    if (--busy_keys_[key] == 0) busy_keys_.erase(key);
  }
  CommandDone(unit, reply);
  AdvanceOffset();
  Pump();
}

bool ReplicaLink::StartClusterFullSync() {
  // The whole cluster is emptied first, as a Redis replica empties its dataset: a key the master
  // no longer has must not survive the sync on any member.
  flushing_ = true;
  load_done_ = false;
  held_payload_.clear();
  units_.clear();
  units_bytes_ = 0;
  in_multi_ = false;
  EnsureLanes();
  Client& client = *lanes_[0].client;
  TakeReply(client);
  server_.commands().Dispatch(server_, client, {"FLUSHALL"}, client.reply(), CallOrigin::kMaster);
  if (client.command_in_flight()) {
    ++in_flight_;
    return true;
  }
  return FlushDone(TakeReply(client));
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
         " keys were not written at the write level (first error: " + load_->first_error() + ")");
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
    if (!argv.empty() && EqualsIgnoreCase(argv[0], "multi") && !in_multi_) {
      in_multi_ = true;
      multi_ = Unit{};
      multi_.barrier = true;
      multi_.bytes = consumed;
      continue;
    }
    if (in_multi_) {
      multi_.bytes += consumed;
      const bool exec = !argv.empty() && EqualsIgnoreCase(argv[0], "exec");
      const bool discard = !argv.empty() && EqualsIgnoreCase(argv[0], "discard");
      if (exec || discard) {
        in_multi_ = false;
        if (discard) multi_.commands.clear();
        multi_.end = end;
        PushUnit(std::move(multi_));
        multi_ = Unit{};
      } else if (!argv.empty()) {
        multi_.commands.push_back(std::move(command));
      }
      continue;
    }
    Unit unit;
    unit.end = end;
    unit.bytes = consumed;
    unit.barrier = true;
    if (argv.size() >= 2 && EqualsIgnoreCase(argv[0], "replconf") &&
        EqualsIgnoreCase(argv[1], "getack")) {
      unit.getack = true;
    } else if (!argv.empty()) {
      // A command with keys runs beside others; one without (SELECT, FLUSHALL, PING, a
      // script) or unknown here runs alone.
      ResolvedCommand cmd;
      std::string error;
      if (ResolveCommand(server_, argv, &cmd, &error) && ArityMatches(*cmd.spec, argv.size())) {
        unit.keys = CommandKeys(*cmd.spec, argv);
        unit.barrier = unit.keys.empty() || (cmd.spec->flags & kCmdNoScript) != 0;
        if (unit.barrier) unit.keys.clear();
      }
      unit.commands.push_back(std::move(command));
    }
    PushUnit(std::move(unit));
  }
  stream_.erase(0, pos);
  Pump();
  if (units_bytes_ + stream_.size() >= kMaxPendingBytes) PauseReading();
  return connection_ != nullptr;
}

void ReplicaLink::PushUnit(Unit unit) {
  if (resume_skip_ > 0 && units_.empty() && in_flight_ == 0) {
    // The first unit after a restart: its first commands were applied before it (SaveState).
    unit.next = std::min(resume_skip_, unit.commands.size());
    resume_skip_ = 0;
  }
  units_bytes_ += unit.bytes;
  units_.push_back(std::move(unit));
}

void ReplicaLink::AdvanceOffset() {
  bool moved = false;
  while (!units_.empty() && !units_.front().running &&
         units_.front().next == units_.front().commands.size()) {
    Unit& unit = units_.front();
    if (unit.getack) {
      // The offset before it, as Redis's replica acknowledges.
      SendCommand({"REPLCONF", "ACK", std::to_string(offset_)});
    }
    offset_ = unit.end;
    units_bytes_ -= unit.bytes;
    units_.pop_front();
    moved = true;
  }
  // What offset_ covers met its write level; a MULTI at the front may be partly applied.
  if (moved || (!units_.empty() && units_.front().next > 0)) SaveState();
}

void ReplicaLink::Pump() {
  if (pumping_) return;
  EnsureLanes();
  pumping_ = true;
  // Again after a barrier that completed at once: what follows it may start now.
  for (bool again = true; again && !retry_pending_;) {
    again = false;
    std::size_t free_lane = 0;
    for (Unit& unit : units_) {
      if (retry_pending_) break;
      if (unit.running) {
        if (unit.barrier) break;  // nothing beside it
        continue;
      }
      if (unit.next == unit.commands.size()) continue;  // applied out of order, or a GETACK
      if (unit.barrier && (in_flight_ > 0 || &unit != &units_.front())) break;
      bool conflict = false;
      for (const std::string& key : unit.keys) conflict = conflict || busy_keys_.contains(key);
      if (conflict) break;  // in order: what follows waits too
      while (free_lane < lanes_.size() && lanes_[free_lane].unit != nullptr) ++free_lane;
      if (free_lane == lanes_.size()) break;
      if (!unit.barrier) {
        RunOnLane(free_lane, &unit);
        continue;
      }
      // A barrier's commands one after the other, until one goes in flight.
      while (unit.next < unit.commands.size() && RunOnLane(free_lane, &unit)) {
      }
      again = unit.next == unit.commands.size();
      break;
    }
    AdvanceOffset();
  }
  pumping_ = false;
  if (units_bytes_ + stream_.size() < kMaxPendingBytes / 2) MaybeResumeReading();
}

bool ReplicaLink::RunOnLane(std::size_t index, Unit* unit) {
  Lane& lane = lanes_[index];
  const std::vector<std::string>& command = unit->commands[unit->next];
  const std::vector<std::string_view> argv(command.begin(), command.end());
  TakeReply(*lane.client);
  server_.commands().Dispatch(server_, *lane.client, argv, lane.client->reply(),
                              CallOrigin::kMaster);
  if (lane.client->command_in_flight()) {
    lane.unit = unit;
    unit->running = true;
    ++in_flight_;
    for (const std::string& key : unit->keys) ++busy_keys_[key];
    return false;
  }
  return CommandDone(unit, TakeReply(*lane.client));
}

bool ReplicaLink::CommandDone(Unit* unit, const std::string& reply) {
  const std::string& name = unit->commands[unit->next].front();
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
  ++unit->next;
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
