#include "cluster_key_watches.h"

#include <utility>
#include <vector>

#include "clock.h"
#include "cluster/collection_state.h"
#include "cluster/versioned_value.h"
#include "types/value_type.h"

namespace dynakv::server {

namespace {

// Whether an encoded sibling set reads as a list or sorted set: its last-write-wins winner is a
// live typed value tagged so (collections are never stored empty), or a live convergent sorted
// set. Cheap: the tag is the value's first bytes, nothing is decoded past them.
bool HoldsPoppable(std::string_view encoded) {
  cluster::SiblingSet set;
  if (encoded.empty() || !cluster::SiblingSet::Decode(encoded, &set)) return false;
  const cluster::Version* winner = set.Resolve();
  if (winner == nullptr || !winner->IsLive(NowMs()) || winner->value.empty()) return false;
  if (winner->collection) {  // a convergent list or sorted set (cluster_lists.h, cluster_zsets.h)
    cluster::CollectionState::Kind kind;
    return cluster::CollectionState::PeekKind(winner->value, &kind) &&
           (kind == cluster::CollectionState::Kind::kList ||
            kind == cluster::CollectionState::Kind::kZset);
  }
  if (!winner->typed) return false;
  const auto type = static_cast<types::ValueType>(winner->value.front());
  return type == types::ValueType::kList || type == types::ValueType::kSortedSet;
}

}  // namespace

KeyWatches::KeyWatches(uv_loop_t* loop, cluster::ClusterNode& node,
                       std::function<void(const std::string& key)> on_ready)
    : loop_(loop), node_(node), on_ready_(std::move(on_ready)) {
  timer_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
}

KeyWatches::~KeyWatches() = default;

void KeyWatches::Acquire(const std::string& key) {
  Mine& mine = mine_[key];
  if (mine.refs++ > 0) return;
  mine.renewed_ms = uv_now(loop_);
  Send(key, cluster::KeyEvent::Kind::kWatch);
}

void KeyWatches::Release(const std::string& key) {
  auto it = mine_.find(key);
  if (it == mine_.end() || --it->second.refs > 0) return;
  mine_.erase(it);
  Send(key, cluster::KeyEvent::Kind::kUnwatch);
}

void KeyWatches::RenewDue(std::uint64_t now_ms) {
  for (auto& [key, mine] : mine_) {
    if (now_ms - mine.renewed_ms < kRenewMs) continue;
    mine.renewed_ms = now_ms;
    // To the key's replicas now: after a ring change they are not the ones first asked.
    Send(key, cluster::KeyEvent::Kind::kWatch);
  }
  // Leases that ran out: their nodes died or forgot to unwatch.
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    std::erase_if(it->second, [&](const auto& entry) { return entry.second <= now_ms; });
    it = it->second.empty() ? watchers_.erase(it) : std::next(it);
  }
}

void KeyWatches::Send(const std::string& key, cluster::KeyEvent::Kind kind) {
  cluster::KeyEvent event;
  event.kind = kind;
  event.lease_ms = kind == cluster::KeyEvent::Kind::kWatch ? kLeaseMs : 0;
  event.keys.push_back(key);
  const std::string payload = cluster::EncodeKeyEvent(event);
  for (const std::string& replica : node_.ReplicaIds(key)) {
    if (replica == node_.self_id()) {
      OnKeyEvent(replica, payload);
    } else {
      node_.SendKeyEvent(replica, payload);
    }
  }
}

void KeyWatches::OnKeyEvent(std::string_view from, std::string_view payload) {
  cluster::KeyEvent event;
  if (!cluster::DecodeKeyEvent(payload, &event)) return;  // best effort: dropped
  const std::uint64_t now = uv_now(loop_);
  for (const std::string& key : event.keys) {
    switch (event.kind) {
      case cluster::KeyEvent::Kind::kWatch:
        watchers_[key][std::string(from)] = now + event.lease_ms;
        break;
      case cluster::KeyEvent::Kind::kUnwatch: {
        auto it = watchers_.find(key);
        if (it == watchers_.end()) break;
        if (auto w = it->second.find(from); w != it->second.end()) it->second.erase(w);
        if (it->second.empty()) watchers_.erase(it);
        break;
      }
      case cluster::KeyEvent::Kind::kReady:
        if (mine_.count(key) != 0) QueueLocalReady(key);
        break;
    }
  }
}

void KeyWatches::OnKeyChanged(std::string_view key, std::string_view encoded) {
  if (watchers_.empty()) return;  // every write of the node passes here
  auto it = watchers_.find(std::string(key));
  if (it == watchers_.end() || !HoldsPoppable(encoded)) return;
  const std::uint64_t now = uv_now(loop_);
  cluster::KeyEvent event;
  event.kind = cluster::KeyEvent::Kind::kReady;
  event.keys.emplace_back(key);
  const std::string payload = cluster::EncodeKeyEvent(event);
  for (const auto& [watcher, lease_end] : it->second) {
    if (lease_end <= now) continue;  // RenewDue drops it
    if (watcher == node_.self_id()) {
      QueueLocalReady(std::string(key));
    } else {
      node_.SendKeyEvent(watcher, payload);
    }
  }
}

void KeyWatches::QueueLocalReady(const std::string& key) {
  local_ready_.insert(key);
  if (timer_) uv_timer_start(timer_.get(), OnTimer, 0, 0);
}

void KeyWatches::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<KeyWatches*>(timer->data);
  std::set<std::string> ready;
  ready.swap(self->local_ready_);
  for (const std::string& key : ready) {
    if (self->mine_.count(key) != 0) self->on_ready_(key);
  }
}

}  // namespace dynakv::server
