// Streaming ranges after a ring change (incremental scale, Dynamo section 4.9): when a node joins
// or leaves, every node walks its local keys in the background and pushes each key's sibling
// set to the nodes that have just become its replicas. The receiver merges the push as any
// replica write (a plain REPLICA_PUT), so a push racing a client write, or arriving twice from
// several old replicas, is harmless: vector clocks reconcile.
//
// Which nodes get a key (PlanKeyMove): the ring history holds every ring since this node's data
// was last known to be in place (the ring in force when the last pass finished), oldest first;
// the newest is the ring the data must now be placed on. A node that is a replica of the key in
// EVERY ring of the history has received its writes all along; the others in the newest
// preference list have not, and are sent this node's copy. A second ring change mid-pass simply
// appends to the history and restarts the scan, so a member that dropped out and came back in
// between is sent the key too. A key this node no longer replicates is sent to every one of its
// new replicas (not only the new ones: a quorum write may have missed one of them) and then
// dropped here, but only once all of them acked this exact copy and the ring has not changed
// meanwhile; a copy that changed while in flight is pushed again instead. Dropping at once (not
// in a later cleanup) keeps DBSIZE an honest measure of each node's share, and a stale copy
// left behind could resurrect a deleted key the next time the ring moves.
//
// Writes that land here during a pass (coordinators that have not heard of the change yet) are
// pushed on as well: a change to a key the scan has already passed is queued again, and once
// the pass is over a change to a key this node does not replicate is forwarded to its replicas.
// Pushes that fail (timeout, a peer in reconnect backoff) are retried with a growing delay; the
// data is settled only when every push has been acked.
//
// The work runs on the loop in bounded steps (kStepKeys keys read per turn, at most
// kMaxPushesInFlight pushes and kMaxBytesInFlight bytes outstanding), so clients are never held
// up for long and large values do not pile up in memory.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/ring.h"
#include "deferrer.h"
#include "peer_pool.h"
#include "placement.h"
#include "replica_service.h"
#include "net/uv_handle.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

// Where one key's copy must go after the ring moved.
struct KeyMove {
  std::vector<std::string> targets;  // node ids to send this node's copy to (never self)
  bool keep = true;                  // self is still one of the key's replicas
};

// `history` as described above (at least one ring; the last is the target).
KeyMove PlanKeyMove(std::string_view key, const std::vector<Ring>& history,
                    std::string_view self_id, const ClusterOptions& options);
// Whether two rings place keys the same way (same members, dcs, racks and weights).
bool SamePlacement(const Ring& a, const Ring& b);

class Rebalancer {
 public:
  static constexpr std::size_t kStepKeys = 256;           // keys read per loop turn
  static constexpr std::size_t kMaxPushesInFlight = 512;  // REPLICA_PUTs outstanding
  static constexpr std::size_t kMaxBytesInFlight = std::size_t{32} << 20;  // ... and their bytes
  static constexpr std::size_t kMaxHistory = 32;  // rings remembered per pass
  static constexpr std::uint64_t kRetryInitialMs = 200;
  static constexpr std::uint64_t kRetryMaxMs = 10000;

  // Every reference must outlive the rebalancer.
  Rebalancer(uv_loop_t* loop, storage::Engine& engine, const NodeInfo& self,
             const ClusterOptions& options, ReplicaService& replica, PeerPool& peers,
             Deferrer& deferrer, ClusterStats& stats);
  Rebalancer(const Rebalancer&) = delete;
  Rebalancer& operator=(const Rebalancer&) = delete;

  // Creates the timers (a libuv error code on failure); `initial` is where the data is now.
  int Init(const Ring& initial);
  // Stops for good: nothing more is pushed or dropped, and WhenSettled callbacks are dropped.
  void Stop(std::shared_ptr<void> token);

  // The data must now be placed on `ring`: starts (or restarts) a pass over every local key.
  // Ignored when `ring` places keys as the current target does, unless `force` (a pass anyway,
  // e.g. to drop what a leaving node kept).
  void Retarget(const Ring& ring, bool force = false);
  // Whether keys this node no longer replicates may be dropped once their replicas have them
  // (true by default; a leaving node keeps its copies until it has left, so peers that still
  // count it as a replica neither miss them nor keep repairing them back).
  void set_drop_allowed(bool allowed) { drop_allowed_ = allowed; }
  // ReplicaService's change observer: a stored change of `key`.
  void OnChange(std::string_view key);

  // No pass running, nothing queued, in flight or waiting for a retry.
  bool settled() const;
  // `done` runs (through the deferrer) once settled; at once (deferred) when it is now.
  void WhenSettled(std::function<void()> done);

  bool streaming() const { return !settled(); }
  double scan_progress() const;  // of the current pass; 1 when none runs
  std::uint64_t keys_queued() const { return queue_.size() + retry_.size(); }
  std::uint64_t pushes_in_flight() const { return in_flight_; }
  const Ring& target() const { return history_.back(); }

 private:
  struct Push;  // one key's copy on its way to its targets

  static void OnStepTimer(uv_timer_t* timer);
  static void OnRetryTimer(uv_timer_t* timer);
  void ScheduleStep();
  void Step();
  void Enqueue(std::string key);
  // Plans and sends one key (a send refused at once counts as failed: retried later).
  void Process(const std::string& key);
  void OnPushed(const std::shared_ptr<Push>& push, bool ok);
  // Every target answered (or was refused): retry, drop, or nothing more to do.
  void Finish(const std::shared_ptr<Push>& push);
  void Retry(const std::string& key);
  void MaybeSettle();
  // Room for more pushes (the acks that make room schedule the next step).
  bool HasRoom() const {
    return in_flight_ < kMaxPushesInFlight && bytes_in_flight_ < kMaxBytesInFlight;
  }
  bool HasWork() const { return scanning_ || !queue_.empty(); }

  uv_loop_t* const loop_;
  storage::Engine& engine_;
  const NodeInfo& self_;
  const ClusterOptions& options_;
  ReplicaService& replica_;
  PeerPool& peers_;
  Deferrer& deferrer_;
  ClusterStats& stats_;
  net::UvHandle<uv_timer_t> step_timer_;
  net::UvHandle<uv_timer_t> retry_timer_;

  std::vector<Ring> history_;     // oldest first; back(): the target
  std::uint64_t generation_ = 0;  // bumped by every Retarget: older pushes drop nothing
  bool pass_running_ = false;     // a Retarget's pass has not settled yet
  bool scanning_ = false;
  std::uint64_t cursor_ = 0;  // while scanning: every key hashing below it has been queued
  std::deque<std::string> queue_;
  std::set<std::string, std::less<>> queued_;  // what queue_ holds, to queue a key once
  std::set<std::string, std::less<>> retry_;   // failed pushes, queued again by the timer
  std::uint64_t retry_delay_ms_ = kRetryInitialMs;
  std::size_t in_flight_ = 0;        // pushes sent, not answered yet
  std::size_t bytes_in_flight_ = 0;  // their payload bytes
  std::vector<std::function<void()>> waiters_;
  bool step_scheduled_ = false;
  bool drop_allowed_ = true;
  bool stopped_ = false;
};

}  // namespace dynakv::cluster
