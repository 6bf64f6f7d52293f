// Anti-entropy (Dynamo section 4.7): replicas that missed writes (a node down longer than hints
// last, a wiped disk) are brought back in line by comparing Merkle trees with their peers and
// exchanging only the keys that differ.
//
// This service owns the trees (ReplicaTrees), keeps them built (a bounded scan step per loop
// turn while a build runs), starts an exchange with the next peer every
// anti_entropy_interval_ms (one at a time; AntiEntropyExchange), and answers the peers'
// anti-entropy frames on the bus. Repairs go through ReplicaService::Put, the same merge a
// REPLICA_PUT does, so vector clocks reconcile and the trees follow the change.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "anti_entropy_exchange.h"
#include "bus_server.h"
#include "cluster/cluster_node.h"
#include "cluster/ring.h"
#include "deferrer.h"
#include "peer_pool.h"
#include "replica_service.h"
#include "replica_trees.h"
#include "net/uv_handle.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

class AntiEntropy {
 public:
  // Keys read per build step: a few milliseconds of loop time at most.
  static constexpr std::size_t kBuildStepKeys = 1024;

  // Every reference must outlive the service.
  AntiEntropy(uv_loop_t* loop, storage::Engine& engine, const NodeInfo& self, const Ring& ring,
              const ClusterOptions& options, ReplicaService& replica, PeerPool& peers,
              Deferrer& deferrer, ClusterStats& stats);
  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;

  // Creates the timers; a libuv error code on failure.
  int Init();
  // Builds the trees (in the background) and starts the periodic exchanges and rebuilds.
  void Start();
  // Stops the timers (each holding `token` until closed); no exchange starts afterwards. One
  // in flight fails as the peer connections close.
  void Stop(std::shared_ptr<void> token);

  // As ClusterNode::RunAntiEntropy; `done` always runs through the deferrer.
  void RunNow(std::string peer, std::function<void(AntiEntropyRound)> done);
  // As ClusterNode::RebuildAntiEntropyTrees.
  void Rebuild();

  // ReplicaService's change observer.
  void OnChange(std::string_view key, std::string_view old_encoded, std::string_view new_encoded);
  // A peer's anti-entropy request (the kAe* frame types).
  BusServer::ServiceReply Serve(std::string_view node, const bus::Frame& frame);

 private:
  static void OnRoundTimer(uv_timer_t* timer);
  static void OnBuildTimer(uv_timer_t* timer);
  static void OnRebuildTimer(uv_timer_t* timer);
  void ScheduleBuildStep();
  std::string NextPeer();
  storage::Status Apply(std::string_view key, const SiblingSet& set, bool* changed);
  BusServer::ServiceReply Answer(std::string_view node, const bus::Frame& frame);
  BusServer::ServiceReply AnswerHashes(std::string_view node, std::string_view payload);
  BusServer::ServiceReply AnswerKeys(std::string_view node, std::string_view payload);
  BusServer::ServiceReply AnswerFetch(std::string_view payload);
  BusServer::ServiceReply AnswerPush(std::string_view node, std::string_view payload);
  BusServer::ServiceReply Malformed(const char* what);

  uv_loop_t* const loop_;
  const NodeInfo& self_;
  const Ring& ring_;
  const ClusterOptions& options_;
  ReplicaService& replica_;
  Deferrer& deferrer_;
  ClusterStats& stats_;
  ReplicaTrees trees_;
  AntiEntropyExchange::Env env_;
  net::UvHandle<uv_timer_t> round_timer_;
  net::UvHandle<uv_timer_t> build_timer_;
  net::UvHandle<uv_timer_t> rebuild_timer_;
  std::size_t next_peer_ = 0;
  std::uint64_t changes_seen_ = 0;  // stored changes observed, to tell whether a merge changed
  bool running_ = false;            // an exchange this node started is in flight
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace dynakv::cluster
