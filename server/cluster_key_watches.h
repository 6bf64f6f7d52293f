// The "key ready" half of blocking pops in cluster mode (cluster_blocking.h): who is told when a
// list or sorted set some node's clients wait on gets something to pop.
//
// Waiting side: while this node has clients blocked on a key it holds a watch with each of the
// key's replicas (a KEY_EVENT watch with a lease, renewed well before it runs out, so a watch
// left behind by a node that died lapses by itself); the last waiter gone, an unwatch is sent,
// best effort.
//
// Replica side: every change to this node's copy of a watched key that leaves it a live list or
// sorted set (which is never empty) sends a KEY_EVENT ready to each watching node whose lease
// holds. Watches of this node's own waiters skip the bus. A lost message costs latency only:
// the waiting node re-polls its keys every kRepollMs anyway.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/cluster_node.h"
#include "cluster/key_messages.h"
#include "net/uv_handle.h"

namespace dynakv::server {

class KeyWatches {
 public:
  // How long a watch holds without renewal, and how often the waiting side renews.
  static constexpr std::uint32_t kLeaseMs = 10000;
  static constexpr std::uint64_t kRenewMs = kLeaseMs / 3;

  // `on_ready` gets each key this node waits on that a replica (this one included) reports
  // ready; it runs from the loop (a timer or a bus frame), never from inside a write.
  KeyWatches(uv_loop_t* loop, cluster::ClusterNode& node,
             std::function<void(const std::string& key)> on_ready);
  ~KeyWatches();
  KeyWatches(const KeyWatches&) = delete;
  KeyWatches& operator=(const KeyWatches&) = delete;

  // Waiting side: one more / one fewer local waiter on `key`. The first registers the watch with
  // the key's replicas (the frames leave before any pop the caller starts next, on the same
  // connections), the last removes it.
  void Acquire(const std::string& key);
  void Release(const std::string& key);
  // Re-sends every watch whose renewal is due (the owner's periodic tick).
  void RenewDue(std::uint64_t now_ms);

  // Replica side: a KEY_EVENT from `from`.
  void OnKeyEvent(std::string_view from, std::string_view payload);
  // This node's copy of `key` changed to `encoded` (a SiblingSet).
  void OnKeyChanged(std::string_view key, std::string_view encoded);

  std::size_t watched_keys() const { return mine_.size(); }
  std::size_t watchers() const { return watchers_.size(); }

 private:
  struct Mine {
    int refs = 0;
    std::uint64_t renewed_ms = 0;
  };
  static void OnTimer(uv_timer_t* timer);
  void Send(const std::string& key, cluster::KeyEvent::Kind kind);
  // Ready keys of this node's own waiters wait for the timer: the change that made them ready
  // is still on the stack.
  void QueueLocalReady(const std::string& key);

  uv_loop_t* const loop_;
  cluster::ClusterNode& node_;
  std::function<void(const std::string& key)> on_ready_;
  std::unordered_map<std::string, Mine> mine_;
  // key -> watching node -> lease end (uv_now ms)
  std::unordered_map<std::string, std::map<std::string, std::uint64_t, std::less<>>> watchers_;
  std::set<std::string> local_ready_;
  net::UvHandle<uv_timer_t> timer_;
};

}  // namespace dynakv::server
