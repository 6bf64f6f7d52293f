#include "rebalancer.h"

#include <algorithm>
#include <utility>

#include "cluster/bus_protocol.h"
#include "storage/engine.h"

namespace dynakv::cluster {

namespace {

bool Contains(const std::vector<const NodeInfo*>& nodes, std::string_view id) {
  return std::any_of(nodes.begin(), nodes.end(),
                     [id](const NodeInfo* node) { return node->id == id; });
}

}  // namespace

KeyMove PlanKeyMove(std::string_view key, const std::vector<Ring>& history,
                    std::string_view self_id, const ClusterOptions& options) {
  KeyMove move;
  if (history.empty()) return move;
  const std::vector<const NodeInfo*> latest = ReplicasOf(history.back(), key, options);
  move.keep = Contains(latest, self_id);
  std::vector<std::vector<const NodeInfo*>> earlier;
  earlier.reserve(history.size() - 1);
  for (std::size_t i = 0; i + 1 < history.size(); ++i) {
    earlier.push_back(ReplicasOf(history[i], key, options));
  }
  for (const NodeInfo* node : latest) {
    if (node->id == self_id) continue;
    // A copy about to be dropped goes to every replica; otherwise only to those that have not
    // been replicas of the key all along.
    bool stable = move.keep;
    for (std::size_t i = 0; stable && i < earlier.size(); ++i) {
      stable = Contains(earlier[i], node->id);
    }
    if (!stable) move.targets.push_back(node->id);
  }
  return move;
}

bool SamePlacement(const Ring& a, const Ring& b) {
  if (a.size() != b.size() || a.options().vnodes_per_weight != b.options().vnodes_per_weight) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const NodeInfo& x = a.nodes()[i];
    const NodeInfo& y = b.nodes()[i];
    if (x.id != y.id || x.dc != y.dc || x.rack != y.rack || x.weight != y.weight) return false;
  }
  return true;
}

struct Rebalancer::Push {
  std::string key;
  std::string encoded;  // the copy sent: dropped only if still this
  std::uint64_t generation = 0;
  std::size_t waiting = 0;  // targets not answered yet (+1 while sending)
  std::size_t payload_bytes = 0;
  bool keep = true;
  bool failed = false;
};

Rebalancer::Rebalancer(uv_loop_t* loop, storage::Engine& engine, const NodeInfo& self,
                       const ClusterOptions& options, ReplicaService& replica, PeerPool& peers,
                       Deferrer& deferrer, ClusterStats& stats)
    : loop_(loop),
      engine_(engine),
      self_(self),
      options_(options),
      replica_(replica),
      peers_(peers),
      deferrer_(deferrer),
      stats_(stats) {}

int Rebalancer::Init(const Ring& initial) {
  history_.assign(1, initial);
  for (net::UvHandle<uv_timer_t>* timer : {&step_timer_, &retry_timer_}) {
    const int rc = timer->Init([this](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
    if (rc != 0) return rc;
  }
  return 0;
}

void Rebalancer::Stop(std::shared_ptr<void> token) {
  stopped_ = true;
  waiters_.clear();
  step_timer_.Close(token);
  retry_timer_.Close(token);
}

void Rebalancer::Retarget(const Ring& ring, bool force) {
  if (stopped_) return;
  const bool same = SamePlacement(ring, history_.back());
  if (same && !force) return;
  if (pass_running_) ++stats_.rebalance_restarts;
  if (same) {
    history_.back() = ring;
  } else {
    history_.push_back(ring);
    // Forgetting a middle ring only makes fewer nodes look like they held a key all along
    // (the oldest and newest still decide), so at worst more is sent.
    if (history_.size() > kMaxHistory) history_.erase(history_.begin() + 1);
  }
  ++generation_;
  // The new pass reads every key afresh: what was queued, or waits for a retry, is among them.
  scanning_ = true;
  cursor_ = 0;
  queue_.clear();
  queued_.clear();
  retry_.clear();
  uv_timer_stop(retry_timer_.get());
  retry_delay_ms_ = kRetryInitialMs;
  pass_running_ = true;
  ScheduleStep();
}

void Rebalancer::OnChange(std::string_view key) {
  if (stopped_) return;
  // The scan has yet to read it (the cursor is the engine's, in storage::HashKey order).
  if (scanning_ && storage::HashKey(key) >= cursor_) return;
  if (history_.size() == 1 && !scanning_ &&
      Contains(ReplicasOf(history_.back(), key, options_), self_.id)) {
    return;  // settled, and the key is this node's own: nothing moves
  }
  Enqueue(std::string(key));
  ScheduleStep();
}

bool Rebalancer::settled() const {
  return !scanning_ && queue_.empty() && retry_.empty() && in_flight_ == 0;
}

void Rebalancer::WhenSettled(std::function<void()> done) {
  if (stopped_) return;
  if (settled()) {
    deferrer_.Defer(std::move(done));
    return;
  }
  waiters_.push_back(std::move(done));
}

double Rebalancer::scan_progress() const {
  if (!scanning_) return 1.0;
  return static_cast<double>(cursor_) / 18446744073709551616.0;  // 2^64
}

void Rebalancer::OnStepTimer(uv_timer_t* timer) { static_cast<Rebalancer*>(timer->data)->Step(); }

void Rebalancer::OnRetryTimer(uv_timer_t* timer) {
  auto* self = static_cast<Rebalancer*>(timer->data);
  if (self->stopped_) return;
  std::set<std::string, std::less<>> keys = std::move(self->retry_);
  self->retry_.clear();
  for (const std::string& key : keys) self->Enqueue(key);
  self->retry_delay_ms_ = std::min(self->retry_delay_ms_ * 2, kRetryMaxMs);
  self->ScheduleStep();
}

void Rebalancer::ScheduleStep() {
  if (stopped_ || step_scheduled_) return;
  step_scheduled_ = true;
  // A zero timeout runs the step on the next loop turn, after the I/O that is ready now.
  uv_timer_start(step_timer_.get(), OnStepTimer, 0, 0);
}

void Rebalancer::Enqueue(std::string key) {
  if (queued_.insert(key).second) queue_.push_back(std::move(key));
}

void Rebalancer::Step() {
  step_scheduled_ = false;
  if (stopped_) return;
  std::size_t budget = kStepKeys;
  while (budget > 0 && HasRoom() && !queue_.empty()) {
    std::string key = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase(key);
    Process(key);
    --budget;
  }
  if (scanning_ && budget > 0 && queue_.size() < kStepKeys) {
    std::vector<std::string> keys;
    const std::uint64_t next = engine_.Scan(cursor_, budget, &keys);
    for (std::string& key : keys) Enqueue(std::move(key));
    if (next == 0) {
      scanning_ = false;
    } else {
      cursor_ = next;
    }
  }
  // Full pipeline: the acks that free it schedule the next step.
  if (HasWork() && HasRoom()) ScheduleStep();
  MaybeSettle();
}

void Rebalancer::Process(const std::string& key) {
  std::string encoded = replica_.GetEncoded(key);
  if (encoded.empty()) return;  // deleted, expired or already dropped since it was queued
  KeyMove move = PlanKeyMove(key, history_, self_.id, options_);
  if (move.targets.empty()) return;
  auto payload = std::make_shared<const std::string>(bus::EncodeReplicaPut(key, encoded));
  auto push = std::make_shared<Push>();
  push->key = key;
  push->encoded = std::move(encoded);
  push->generation = generation_;
  push->payload_bytes = payload->size();
  push->keep = move.keep;
  push->waiting = move.targets.size();
  for (const std::string& target : move.targets) {
    auto on_reply = [this, push](PeerClient::Response response) {
      OnPushed(push, IsWriteAck(response));
    };
    std::string error;
    // Replies never run inside Send, so `waiting` cannot reach zero before the loop is over.
    if (peers_.Send(target, bus::FrameType::kReplicaPut, payload, std::move(on_reply), &error)) {
      ++in_flight_;
      bytes_in_flight_ += push->payload_bytes;
    } else {
      // Refused at once (reconnect backoff, partition): the callback was dropped.
      ++stats_.rebalance_push_failures;
      push->failed = true;
      --push->waiting;
    }
  }
  if (push->waiting == 0) Finish(push);
}

void Rebalancer::OnPushed(const std::shared_ptr<Push>& push, bool ok) {
  --in_flight_;
  bytes_in_flight_ -= push->payload_bytes;
  if (ok) {
    ++stats_.rebalance_keys_streamed;
    stats_.rebalance_bytes_streamed += push->payload_bytes;
  } else {
    ++stats_.rebalance_push_failures;
    push->failed = true;
  }
  if (--push->waiting == 0) {
    Finish(push);
  } else if (HasWork() && HasRoom()) {
    ScheduleStep();
  }
}

void Rebalancer::Finish(const std::shared_ptr<Push>& push) {
  if (stopped_) return;
  // Older generations: the pass that replaced them reads the key again.
  if (push->generation == generation_) {
    if (push->failed) {
      Retry(push->key);
    } else if (!push->keep && drop_allowed_ && replica_.GetEncoded(push->key) == push->encoded) {
      // Every replica acked this very copy: this node's is no longer needed. A copy that
      // changed in flight was queued again by OnChange instead.
      if (engine_.Delete(push->key)) ++stats_.rebalance_keys_dropped;
    }
  }
  if (HasWork() && HasRoom()) ScheduleStep();
  MaybeSettle();
}

void Rebalancer::Retry(const std::string& key) {
  const bool was_empty = retry_.empty();
  retry_.insert(key);
  if (was_empty) uv_timer_start(retry_timer_.get(), OnRetryTimer, retry_delay_ms_, 0);
}

void Rebalancer::MaybeSettle() {
  if (stopped_ || !settled()) return;
  if (pass_running_) {
    pass_running_ = false;
    ++stats_.rebalance_passes;
  }
  // Everything is where the target ring wants it: the target is the new starting point.
  if (history_.size() > 1) history_.erase(history_.begin(), history_.end() - 1);
  retry_delay_ms_ = kRetryInitialMs;
  std::vector<std::function<void()>> waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& done : waiters) deferrer_.Defer(std::move(done));
}

}  // namespace dynakv::cluster
