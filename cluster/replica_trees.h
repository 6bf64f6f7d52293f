// This node's Merkle trees for anti-entropy: one per peer, over exactly the keys both nodes
// replicate (those whose preference list holds both). Two replicas compare the trees they keep
// for each other, so each tree covers the same key set on both sides, whatever else either one
// holds. With vnodes that set is a union of many ring arcs; a tree over the whole hash space,
// filled only with the shared keys, covers it without tracking the arcs (and without trees for
// arcs a pair does not share). Trees are created when a shared key first appears: a peer with
// no tree is compared against an empty one.
//
// The trees follow every stored change (OnChange, from ReplicaService). Data also changes
// without a write (expiry, eviction, FLUSHALL), so the trees are rebuilt by scanning the engine
// in bounded steps: at start, periodically, and on request. Writes during a rebuild reach the
// new trees too when they fall in the part of hash space already scanned (the scan sees the
// rest), so the new trees are exact when they replace the old ones. A leaf that an exchange
// reads from the engine (LeafKeys) is also corrected on the spot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anti_entropy_messages.h"
#include "cluster/cluster_node.h"
#include "cluster/merkle_tree.h"
#include "cluster/ring.h"
#include "replica_service.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

class ReplicaTrees {
 public:
  // 4,096 leaves per tree: ~100 KB per peer, and even 10 million keys per pair of nodes leave
  // a few thousand keys (tens of KB of digests) per differing leaf.
  static constexpr int kDepth = 3;

  // Every reference must outlive the trees.
  ReplicaTrees(storage::Engine& engine, ReplicaService& replica, const Ring& ring,
               const NodeInfo& self, const ClusterOptions& options, ClusterStats& stats)
      : engine_(engine),
        replica_(replica),
        ring_(ring),
        self_(self),
        options_(options),
        stats_(stats) {}
  ReplicaTrees(const ReplicaTrees&) = delete;
  ReplicaTrees& operator=(const ReplicaTrees&) = delete;

  // The other replicas of `key` when this node is one of them (empty when it is not).
  std::vector<const NodeInfo*> PeersSharing(std::string_view key) const;
  bool Shares(std::string_view key, std::string_view peer) const;

  // A stored change of `key` (encoded sets, "" for none).
  void OnChange(std::string_view key, std::string_view old_encoded, std::string_view new_encoded);

  // Starts a full rebuild (restarting one in progress).
  void StartRebuild();
  bool rebuilding() const { return rebuilding_; }
  // Scans about `max_keys` more keys of the rebuild; true when it finished (the new trees are
  // in use). Does nothing and returns true when no rebuild is running.
  bool RebuildStep(std::size_t max_keys);
  // False until the first build finished: trees that are not yet built would look like
  // missing data.
  bool ready() const { return ready_; }

  // The tree shared with `peer` (an empty one when no key is shared yet).
  const MerkleTree& TreeFor(std::string_view peer) const;
  // The keys of `leaf` of the tree shared with `peer`, as stored now, sorted by key; the
  // tree's leaf is corrected to match them.
  std::vector<ae::KeyDigest> LeafKeys(std::string_view peer, std::uint32_t leaf);

 private:
  using Trees = std::map<std::string, std::unique_ptr<MerkleTree>, std::less<>>;
  static MerkleTree* TreeIn(Trees& trees, std::string_view peer, bool create);
  static std::unique_ptr<MerkleTree> NewTree();

  storage::Engine& engine_;
  ReplicaService& replica_;
  const Ring& ring_;
  const NodeInfo& self_;
  const ClusterOptions& options_;
  ClusterStats& stats_;
  const MerkleTree empty_{0, 0, kDepth};
  Trees trees_;  // in use
  Trees next_;   // being rebuilt
  bool ready_ = false;
  bool rebuilding_ = false;
  // Rebuild progress: every key hashing below `scanned_` has been read into next_. Meaningful
  // only while rebuilding (0 at the start: nothing scanned).
  std::uint64_t scanned_ = 0;
};

}  // namespace dynakv::cluster
