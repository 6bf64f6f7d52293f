// The consistent-hash ring: which nodes hold which keys.
//
// Each node owns weight * vnodes_per_weight virtual nodes (tokens) on a 64-bit circle. A key sits
// at HashKey(HashTag(key)) (the storage engine's hash of the key's hash tag, hash_tag.h; for a
// key without a tag that is the key's SCAN coordinate, but a tagged key's SCAN coordinate is
// elsewhere, so code walking the engine by cursor orders keys by storage::HashKey, not by
// Position) and belongs to the first token at or after it, clockwise; its replicas are the
// next distinct nodes further on. Many small vnodes per node spread ownership evenly and make a
// joining node take a little from everyone instead of half of one neighbour.
//
// A Ring is an immutable snapshot: membership changes build a new one (WithNode / WithoutNode),
// so readers can share it (e.g. through shared_ptr<const Ring>) without locking. Tokens depend
// only on node ids and weights, never on the order members were listed, so every process builds
// the same ring from the same membership.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/node_info.h"

namespace dynakv::cluster {

struct RingOptions {
  int vnodes_per_weight = 256;
};

// A node's share of the hash space, for the RING status command.
struct NodeOwnership {
  const NodeInfo* node;
  std::size_t vnodes;
  double fraction;  // of the whole circle where this node is the primary; sums to 1
};

class Ring {
 public:
  static constexpr int kMaxWeight = 1000;
  static constexpr int kMaxVnodesPerWeight = 4096;
  static constexpr std::size_t kMaxVnodes = std::size_t{1} << 20;  // bounds memory per snapshot

  Ring() = default;  // the empty ring: every lookup returns nothing

  // Fails (with a reason in *error) on an empty or duplicate id, a weight outside
  // [1, kMaxWeight], bad options or too many vnodes in total.
  static bool Build(std::vector<NodeInfo> nodes, const RingOptions& options, Ring* ring,
                    std::string* error);
  // New snapshots with one member more or fewer; this one is left unchanged.
  bool WithNode(const NodeInfo& node, Ring* ring, std::string* error) const;
  bool WithoutNode(std::string_view id, Ring* ring, std::string* error) const;

  // The position of a key on the circle: its hash tag's hash.
  static std::uint64_t Position(std::string_view key);

  // Returned pointers refer to this ring's members: valid while this Ring object lives.
  // The first min(n, size()) distinct nodes clockwise from the key; [0] is the primary.
  std::vector<const NodeInfo*> PreferenceList(std::string_view key, int n) const;
  std::vector<const NodeInfo*> PreferenceListAt(std::uint64_t position, int n) const;
  // Multi-DC placement as Cassandra's NetworkTopologyStrategy: walking clockwise, up to
  // replicas[dc] distinct nodes per dc (fewer if the dc is smaller), taking nodes of racks not
  // yet used in that dc first, so one rack failure cannot take out all of a dc's copies. Nodes
  // are listed in the order they were chosen; dcs absent from `replicas` get none.
  std::vector<const NodeInfo*> PreferenceList(std::string_view key,
                                              const ReplicasPerDc& replicas) const;
  std::vector<const NodeInfo*> PreferenceListAt(std::uint64_t position,
                                                const ReplicasPerDc& replicas) const;
  const NodeInfo* Primary(std::string_view key) const;

  std::vector<NodeOwnership> Owners() const;  // in node id order

  const NodeInfo* Find(std::string_view id) const;
  const std::vector<NodeInfo>& nodes() const { return nodes_; }  // sorted by id
  std::size_t size() const { return nodes_.size(); }
  bool empty() const { return nodes_.empty(); }
  std::size_t vnode_count() const { return vnodes_.size(); }
  const RingOptions& options() const { return options_; }

 private:
  struct VNode {
    std::uint64_t token;
    std::uint32_t node;  // index into nodes_
  };

  std::size_t FirstVnodeAt(std::uint64_t position) const;

  RingOptions options_;
  std::vector<NodeInfo> nodes_;
  std::vector<VNode> vnodes_;               // sorted by (token, node)
  std::vector<std::uint32_t> node_dc_;      // per node: index into dc_names_
  std::vector<std::uint32_t> node_rack_;    // per node: index of its (dc, rack) pair
  std::vector<std::string> dc_names_;       // sorted
  std::vector<std::uint32_t> racks_in_dc_;  // per dc: number of distinct racks
};

}  // namespace dynakv::cluster
