#include "hinted_handoff.h"

#include <algorithm>
#include <utility>

#include "cluster/bus_protocol.h"
#include "placement.h"

namespace dynakv::cluster {

namespace {

// Hints read from the store per Scan call while filling a batch.
constexpr std::size_t kScanStep = 64;

}  // namespace

int HintedHandoff::Start() {
  const auto interval = static_cast<std::uint64_t>(std::max(options_.hint_handoff_interval_ms, 1));
  int rc = timer_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
  if (rc == 0) rc = uv_timer_start(timer_.get(), OnTimer, interval, interval);
  return rc;
}

void HintedHandoff::Close(std::shared_ptr<void> token) {
  closed_ = true;
  timer_.Close(std::move(token));
}

void HintedHandoff::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<HintedHandoff*>(timer->data);
  self->store_.Tick();
  self->Round();
}

std::set<std::string, std::less<>> HintedHandoff::ReachableOwners() {
  std::set<std::string, std::less<>> reachable;
  for (const std::string& owner : store_.owners()) {
    if (owner == self_.id) {
      // Only a node renamed to this one's id leaves such hints: nobody can take them.
      if (warned_.insert(owner).second && options_.log_warning) {
        options_.log_warning("Hinted handoff: holding hints for '" + owner.substr(0, 64) +
                             "', which is this node's own id");
      }
      continue;
    }
    if (IsFormerMember(owner)) {
      reachable.insert(owner);  // re-homed to the key's current replicas
      continue;
    }
    if (peers_.Reachable(owner)) {
      reachable.insert(owner);
    } else {
      Probe(owner);
    }
  }
  return reachable;
}

void HintedHandoff::Probe(const std::string& owner) {
  if (!probing_.insert(owner).second) return;
  auto on_pong = [this, owner](PeerClient::Response response) {
    probing_.erase(owner);
    if (response.ok && !closed_) deferrer_.Defer([this] { Round(); });
  };
  std::string error;
  // Refused at once while the peer's reconnect backoff runs: the next tick tries again.
  if (!peers_.Send(owner, bus::FrameType::kPing, nullptr, std::move(on_pong), &error)) {
    probing_.erase(owner);
  }
}

void HintedHandoff::Round() {
  if (closed_ || in_flight_ > 0) return;
  const auto owners = ReachableOwners();
  if (owners.empty()) return;
  std::vector<HintStore::Hint> batch;
  Collect(owners, &batch);
  round_delivered_ = false;
  // One count more than the batch, released below, so a delivery refused inside Deliver cannot
  // end the round while the batch is still going out.
  in_flight_ = batch.size() + 1;
  for (HintStore::Hint& hint : batch) Deliver(std::move(hint));
  Settle();
}

void HintedHandoff::Collect(const std::set<std::string, std::less<>>& owners,
                            std::vector<HintStore::Hint>* batch) {
  const auto limit = static_cast<std::size_t>(std::max(options_.hint_handoff_batch, 1));
  std::set<std::string, std::less<>> in_batch;  // a pass may return a hint twice
  std::vector<HintStore::Hint> found;
  while (batch->size() < limit) {
    if (!pass_running_) {
      pass_running_ = true;
      pass_start_ = store_.put_sequence();
      pass_owners_.clear();
      cursor_ = 0;
    }
    found.clear();
    std::uint64_t bad = 0;
    cursor_ = store_.Scan(cursor_, kScanStep, &found, &bad);
    if (bad > 0) {
      stats_.undecodable_values += bad;
      if (options_.log_warning) {
        options_.log_warning("Hinted handoff: dropped " + std::to_string(bad) +
                             " stored hints that were not valid");
      }
    }
    for (HintStore::Hint& hint : found) {
      pass_owners_.insert(hint.owner);
      if (owners.count(hint.owner) == 0) continue;
      if (!in_batch.insert(HintStore::StoreKey(hint.owner, hint.key)).second) continue;
      batch->push_back(std::move(hint));
    }
    if (cursor_ == 0) {
      pass_running_ = false;
      store_.ForgetOwners(pass_owners_, pass_start_);
      return;
    }
  }
}

bool HintedHandoff::IsFormerMember(std::string_view owner) const {
  return owner != self_.id && ring_.Find(owner) == nullptr && !ring_.empty();
}

void HintedHandoff::Deliver(HintStore::Hint hint) {
  if (IsFormerMember(hint.owner)) {
    Rehome(std::move(hint));
    return;
  }
  auto payload = std::make_shared<const std::string>(bus::EncodeReplicaPut(hint.key, hint.encoded));
  const std::string owner = hint.owner;
  auto on_reply = [this, hint = std::move(hint)](PeerClient::Response response) {
    OnDelivered(hint, IsWriteAck(response));
  };
  std::string error;
  // A refused send drops the callback: the hint simply stays for a later round.
  if (!peers_.Send(owner, bus::FrameType::kReplicaPut, payload, std::move(on_reply), &error)) {
    Settle();
  }
}

void HintedHandoff::Rehome(HintStore::Hint hint) {
  const std::vector<const NodeInfo*> replicas = ReplicasOf(ring_, hint.key, options_);
  // Every replica must take it before the hint may go; one refusal keeps it for a later round
  // (replicas that did take it merge the repeat harmlessly).
  struct Pending {
    std::size_t waiting = 0;
    bool all_acked = true;
  };
  auto pending = std::make_shared<Pending>();
  auto shared_hint = std::make_shared<const HintStore::Hint>(std::move(hint));
  auto finish_one = [this, pending, shared_hint](bool acked) {
    pending->all_acked = pending->all_acked && acked;
    if (--pending->waiting == 0) OnDelivered(*shared_hint, pending->all_acked);
  };
  pending->waiting = replicas.size() + 1;  // released at the end, so no reply ends it early
  auto payload = std::make_shared<const std::string>(
      bus::EncodeReplicaPut(shared_hint->key, shared_hint->encoded));
  for (const NodeInfo* replica : replicas) {
    if (replica->id == self_.id) {
      finish_one(apply_local_ && apply_local_(shared_hint->key, shared_hint->encoded));
      continue;
    }
    auto on_reply = [finish_one](PeerClient::Response response) {
      finish_one(IsWriteAck(response));
    };
    std::string error;
    // A refused send drops its callback: count the replica as not acked.
    if (!peers_.Send(replica->id, bus::FrameType::kReplicaPut, payload, on_reply, &error)) {
      pending->all_acked = false;
      --pending->waiting;
    }
  }
  finish_one(true);
}

void HintedHandoff::OnDelivered(const HintStore::Hint& hint, bool acked) {
  if (acked && store_.DeleteIfUnchanged(hint.owner, hint.key, hint.encoded)) {
    ++stats_.hints_delivered;
    round_delivered_ = true;
  }
  Settle();
}

void HintedHandoff::Settle() {
  if (--in_flight_ > 0) return;
  const storage::Status flushed = store_.FlushLog();
  if (!flushed.ok() && options_.log_warning) {
    options_.log_warning("Hinted handoff: hint log write failed: " + flushed.ToString());
  }
  // Progress: go on with the next batch on a later turn of the loop. Otherwise (nothing to
  // deliver, or the owners stopped answering) the timer or a probe's answer starts the next.
  if (round_delivered_ && !closed_) deferrer_.Defer([this] { Round(); });
}

}  // namespace dynakv::cluster
