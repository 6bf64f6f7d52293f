// A Merkle tree over a range of the 64-bit key hash space, for anti-entropy (Dynamo section 4.7):
// two replicas compare roots, descend only into the subtrees whose hashes differ, and end up
// with the few leaves (sub-ranges of hash space) whose keys must be exchanged.
//
// Shape: a complete 16-ary tree of `depth` levels below the root; leaf i covers the i-th of
// 16^depth equal sub-ranges of [lo, hi). Both replicas build the same shape, so node (level,
// index) names the same range on each and hashes can be compared without sending ranges.
//
// A leaf summarizes its keys by the wrapping 64-bit SUM of EntryHash(key, value) over its keys,
// plus their count. A sum, unlike a hash of the sorted entries, is order-independent and
// invertible: a write replaces one key's term (subtract the old entry, add the new one) in O(1),
// so the tree follows every write instead of being rebuilt (Riak's active anti-entropy keeps
// its trees current in the same spirit). A sum is preferred to XOR because XOR cancels equal
// terms, so a bug that added a key twice would look like the key being absent. Each entry is
// already a 64-bit hash of (key, value), so forging equal sums needs a hash collision.
// Inner nodes hash their 16 children; they are recomputed lazily, when a hash is asked for
// after writes, so a write costs O(1) however deep the tree is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace dynakv::cluster {

// XXH3 of a key's stored bytes (its canonical SiblingSet encoding): equal digests mean equal
// copies, since replicas holding the same set store identical bytes.
std::uint64_t ValueDigest(std::string_view stored_value);
// One key's term in its leaf's sum: a hash of its SCAN coordinate (storage::HashKey of the key)
// and its value digest.
std::uint64_t MerkleEntryHash(std::uint64_t key_hash, std::uint64_t value_digest);

// The summary of one leaf's keys.
struct MerkleLeaf {
  std::uint64_t sum = 0;  // wrapping sum of the keys' entry hashes
  std::uint64_t count = 0;

  void Add(std::uint64_t entry_hash) {
    sum += entry_hash;
    ++count;
  }
  void Remove(std::uint64_t entry_hash) {
    sum -= entry_hash;
    --count;
  }
  bool operator==(const MerkleLeaf&) const = default;
};

class MerkleTree {
 public:
  static constexpr int kFanout = 16;
  static constexpr int kMaxDepth = 4;  // 65,536 leaves

  // The keys whose hash lies in [lo, hi); hi == 0 stands for 2^64, the end of the space, so
  // [0, 0) is all of it. Requires lo < hi (unless hi == 0) and depth in [0, kMaxDepth].
  MerkleTree(std::uint64_t lo, std::uint64_t hi, int depth);

  bool Contains(std::uint64_t key_hash) const;
  // The leaf whose range holds `key_hash` (which must be in range).
  std::size_t LeafOf(std::uint64_t key_hash) const;
  // Leaf i's range is [LeafLo(i), LeafHi(i)), LeafHi 0 again meaning the end of the space.
  // Adjacent leaves share a boundary; a range narrower than 16^depth leaves some leaves empty.
  std::uint64_t LeafLo(std::size_t leaf) const;
  std::uint64_t LeafHi(std::size_t leaf) const;

  // Adds or removes one key's entry (a write: Remove the old value's, Add the new one's).
  // A key outside the range is ignored.
  void Add(std::uint64_t key_hash, std::uint64_t value_digest);
  void Remove(std::uint64_t key_hash, std::uint64_t value_digest);
  // Replaces a leaf's summary with one computed afresh from the data (corrects a leaf that
  // drifted because data changed without a write, e.g. a key that expired).
  void SetLeaf(std::size_t leaf, const MerkleLeaf& summary);
  const MerkleLeaf& leaf(std::size_t index) const { return leaves_[index]; }

  // The hash of node `index` at `level` (0: the root; depth(): the leaves). An empty leaf
  // hashes to 0; every other hash is deterministic in the keys and values below the node.
  std::uint64_t NodeHash(int level, std::size_t index) const;
  std::uint64_t Root() const { return NodeHash(0, 0); }
  static std::size_t NodesAt(int level);  // 16^level

  int depth() const { return depth_; }
  std::size_t leaf_count() const { return leaves_.size(); }
  std::uint64_t key_count() const { return key_count_; }
  std::uint64_t lo() const { return lo_; }
  std::uint64_t hi() const { return hi_; }

 private:
  void Recompute() const;

  std::uint64_t lo_;
  std::uint64_t hi_;
  unsigned __int128 width_;  // hi - lo, up to 2^64
  int depth_;
  std::vector<MerkleLeaf> leaves_;
  std::uint64_t key_count_ = 0;
  // levels_[l][i]: hash of node i at level l; valid unless dirty_.
  mutable std::vector<std::vector<std::uint64_t>> levels_;
  mutable bool dirty_ = true;
};

// Top-down comparison of a local tree with a remote one that is seen a level at a time: ask the
// other side for the hashes of pending() at level(), Feed() them, and repeat until done(). The
// children of a node are asked for only when the node's hashes differ, so equal trees cost one
// hash and a few differing keys cost a few hashes per level.
class MerkleWalk {
 public:
  explicit MerkleWalk(int depth);

  bool done() const { return pending_.empty(); }
  int level() const { return level_; }
  const std::vector<std::uint32_t>& pending() const { return pending_; }
  // `theirs`: the other side's hashes of pending(), in order; compared with `mine` (which must
  // have the walk's depth). False, changing nothing, when the count does not match.
  bool Feed(const MerkleTree& mine, const std::vector<std::uint64_t>& theirs);
  // The leaves found to differ, ascending; complete once done().
  const std::vector<std::uint32_t>& differing_leaves() const { return differing_leaves_; }

 private:
  int depth_;
  int level_ = 0;
  std::vector<std::uint32_t> pending_{0};  // the root first
  std::vector<std::uint32_t> differing_leaves_;
};

// Both trees local (same range and depth): the leaves whose hashes differ, found by the walk.
std::vector<std::uint32_t> DifferingLeaves(const MerkleTree& a, const MerkleTree& b);

}  // namespace dynakv::cluster
