// Hinted handoff's delivery half: hands the hints this node holds (hint_store.h) back to their
// intended owners once those are reachable again, then forgets them.
//
// Every hint_handoff_interval_ms, and as soon as a probed owner answers, a round runs: it walks
// the store for hints of owners the bus can reach now and sends them as plain REPLICA_PUTs (the
// owner merges them like any replica write), at most hint_handoff_batch at a time; owners that
// are not reachable get a PING, whose answer starts the next round without waiting for the
// timer. A hint is deleted only after its owner acked it, and only if it did not change while
// in flight. A round that delivered something is followed by another at once, so a backlog
// streams out batch after batch without holding the loop.
//
// A hint whose owner is no longer a ring member (it left, or was replaced under another id)
// cannot reach it: it is re-homed instead, written to every current replica of its key (this
// node's own copy through `apply_local`), and deleted once all of them acked, so a write that
// was acked with the hint's help is not lost with the owner.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/ring.h"
#include "deferrer.h"
#include "hint_store.h"
#include "peer_pool.h"
#include "net/uv_handle.h"

namespace dynakv::cluster {

class HintedHandoff {
 public:
  // Merges an encoded sibling set into this node's own copy of a key; true when stored.
  using LocalApply = std::function<bool(std::string_view key, std::string_view encoded)>;

  // Every reference must outlive this object; `self` is this node's entry in `ring`.
  HintedHandoff(uv_loop_t* loop, const NodeInfo& self, const Ring& ring,
                const ClusterOptions& options, HintStore& store, PeerPool& peers,
                Deferrer& deferrer, ClusterStats& stats, LocalApply apply_local)
      : loop_(loop),
        self_(self),
        ring_(ring),
        options_(options),
        store_(store),
        peers_(peers),
        deferrer_(deferrer),
        stats_(stats),
        apply_local_(std::move(apply_local)) {}
  HintedHandoff(const HintedHandoff&) = delete;
  HintedHandoff& operator=(const HintedHandoff&) = delete;

  // Starts the timer (a libuv error code on failure).
  int Start();
  // Stops for good: no new round starts; deliveries in flight end with the bus.
  void Close(std::shared_ptr<void> token);

 private:
  static void OnTimer(uv_timer_t* timer);
  void Round();
  // Owners worth delivering to now; the others reachable only later are probed.
  std::set<std::string, std::less<>> ReachableOwners();
  void Probe(const std::string& owner);
  // Fills `batch` with hints of `owners` from where the last round stopped, ending the pass
  // (and pruning the store's owner list) when the walk wraps around.
  void Collect(const std::set<std::string, std::less<>>& owners,
               std::vector<HintStore::Hint>* batch);
  void Deliver(HintStore::Hint hint);
  // A hint of a former member: to every current replica of its key instead.
  void Rehome(HintStore::Hint hint);
  bool IsFormerMember(std::string_view owner) const;
  void OnDelivered(const HintStore::Hint& hint, bool acked);
  // One delivery of the round is over; the last one ends the round.
  void Settle();

  uv_loop_t* const loop_;
  const NodeInfo& self_;
  const Ring& ring_;
  const ClusterOptions& options_;
  HintStore& store_;
  PeerPool& peers_;
  Deferrer& deferrer_;
  ClusterStats& stats_;
  const LocalApply apply_local_;
  net::UvHandle<uv_timer_t> timer_;
  bool closed_ = false;

  std::size_t in_flight_ = 0;
  bool round_delivered_ = false;  // some hint of the current round was acked
  std::uint64_t cursor_ = 0;      // where the walk over the store resumes
  bool pass_running_ = false;
  std::uint64_t pass_start_ = 0;  // the store's put_sequence() when the pass began
  std::set<std::string, std::less<>> pass_owners_;  // owners seen so far in this pass
  std::set<std::string, std::less<>> probing_;      // PINGs in flight
  std::set<std::string, std::less<>> warned_;       // owners reported as undeliverable
};

}  // namespace dynakv::cluster
