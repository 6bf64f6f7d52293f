// One anti-entropy exchange that this node starts with one peer, over the keys the two share:
//
//   1. AE_HASHES, level by level from the root, only into subtrees whose hashes differ
//      (MerkleWalk), until the differing leaves are known; equal trees end here.
//   2. AE_KEYS for those leaves: the peer's (key, digest) lists, compared with this node's own
//      (read from the engine, which also corrects the local leaves).
//   3. AE_FETCH the keys the peer has and this node lacks or holds differently, merging each
//      into the local copy the way a REPLICA_PUT would (vector clocks reconcile).
//   4. AE_PUSH this node's copy of the keys the peer lacks or holds differently, after the
//      fetches, so a key both sides changed goes back merged and the two copies end equal
//      (a key whose merged copy already equals the peer's is not sent back).
//
// Steps run one request at a time; any failure (timeout, partition, a bad reply) ends the
// exchange with an error, and whatever it repaired so far stays repaired.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "cluster/merkle_tree.h"
#include "peer_pool.h"
#include "replica_service.h"
#include "replica_trees.h"

namespace dynakv::cluster {

class AntiEntropyExchange : public std::enable_shared_from_this<AntiEntropyExchange> {
 public:
  // Batch sizes: enough to amortize round trips, small enough to bound one frame.
  static constexpr std::size_t kLeavesPerRequest = 64;
  static constexpr std::size_t kKeysPerFetch = 256;
  static constexpr std::size_t kKeysPerPush = 256;
  static constexpr std::size_t kPushBudgetBytes = std::size_t{4} << 20;

  // What an exchange works with; every reference outlives it.
  struct Env {
    PeerPool& peers;
    ReplicaTrees& trees;
    ReplicaService& replica;
    ClusterStats& stats;
    // Merges `set` into the local copy of `key`; *changed tells whether the stored copy changed.
    std::function<storage::Status(std::string_view key, const SiblingSet& set, bool* changed)>
        apply;
  };
  using Done = std::function<void(AntiEntropyRound)>;

  // Starts an exchange with `peer`; `done` runs exactly once, possibly inside this call (when
  // the first request cannot even be sent).
  static void Start(const Env& env, std::string peer, Done done);

  AntiEntropyExchange(const Env& env, std::string peer, Done done);

 private:
  using Handler = void (AntiEntropyExchange::*)(std::string_view payload);

  void Send(bus::FrameType type, std::string payload, Handler handler);
  void AskHashes();
  void OnHashes(std::string_view payload);
  void AskKeys();
  void OnKeys(std::string_view payload);
  // Sorts the peer's and this node's keys of one leaf into the fetch and push queues; false on
  // a key that is not in the leaf.
  bool Compare(std::uint32_t leaf, std::vector<ae::KeyDigest> theirs);
  void Fetch();
  void OnFetched(std::string_view payload);
  void Push();
  void OnPushed(std::string_view payload);
  void ProtocolError(const char* what);
  void Finish(std::string error);

  Env env_;
  const std::string peer_;
  Done done_;
  AntiEntropyRound result_;
  MerkleWalk walk_;
  std::vector<std::uint32_t> leaves_;  // differing leaves; [0, next_leaf_) are compared
  std::size_t next_leaf_ = 0;
  std::vector<std::uint32_t> asked_leaves_;
  std::deque<std::string> to_fetch_;
  std::vector<std::string> fetching_;
  std::deque<std::string> to_push_;
  // Keys whose copy here, once the peer's was merged in, is the peer's exact copy: pushing it
  // back would change nothing there (the common case: only the peer had the newer version).
  std::unordered_set<std::string> settled_;
  std::size_t pushing_ = 0;
  bool finished_ = false;
};

}  // namespace dynakv::cluster
