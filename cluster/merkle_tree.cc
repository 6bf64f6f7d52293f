#include "cluster/merkle_tree.h"

#include <cassert>

#include "storage/engine.h"

namespace dynakv::cluster {

namespace {

void PutFixed64(char* dst, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(value >> (8 * i));
}

}  // namespace

// storage::HashKey is XXH3 of arbitrary bytes; using it keeps the cluster free of a direct
// xxhash dependency and gives the same digest on every node.
std::uint64_t ValueDigest(std::string_view stored_value) { return storage::HashKey(stored_value); }

std::uint64_t MerkleEntryHash(std::uint64_t key_hash, std::uint64_t value_digest) {
  char bytes[16];
  PutFixed64(bytes, key_hash);
  PutFixed64(bytes + 8, value_digest);
  return storage::HashKey(std::string_view(bytes, sizeof(bytes)));
}

std::size_t MerkleTree::NodesAt(int level) {
  return std::size_t{1} << (4 * static_cast<unsigned>(level));  // kFanout == 16 == 2^4
}

MerkleTree::MerkleTree(std::uint64_t lo, std::uint64_t hi, int depth)
    : lo_(lo),
      hi_(hi),
      width_(hi == 0 ? (static_cast<unsigned __int128>(1) << 64) - lo
                     : static_cast<unsigned __int128>(hi - lo)),
      depth_(depth < 0 ? 0 : (depth > kMaxDepth ? kMaxDepth : depth)),
      leaves_(NodesAt(depth_)),
      levels_(static_cast<std::size_t>(depth_) + 1) {
  assert(hi == 0 || lo < hi);
  assert(depth == depth_);
}

bool MerkleTree::Contains(std::uint64_t key_hash) const {
  return key_hash >= lo_ && (hi_ == 0 || key_hash < hi_);
}

std::size_t MerkleTree::LeafOf(std::uint64_t key_hash) const {
  // floor(offset * leaves / width): equal sub-ranges even when width is not a multiple of
  // the leaf count. 128-bit, since offset * leaves overflows 64 bits.
  const unsigned __int128 offset = key_hash - lo_;
  return static_cast<std::size_t>(offset * leaves_.size() / width_);
}

std::uint64_t MerkleTree::LeafLo(std::size_t leaf) const {
  // The smallest offset whose LeafOf is `leaf`: ceil(leaf * width / leaves).
  const unsigned __int128 n = leaves_.size();
  const unsigned __int128 offset = (static_cast<unsigned __int128>(leaf) * width_ + n - 1) / n;
  return lo_ + static_cast<std::uint64_t>(offset);  // wraps to 0 only at the end of the space
}

std::uint64_t MerkleTree::LeafHi(std::size_t leaf) const {
  return leaf + 1 >= leaves_.size() ? hi_ : LeafLo(leaf + 1);
}

void MerkleTree::Add(std::uint64_t key_hash, std::uint64_t value_digest) {
  if (!Contains(key_hash)) return;
  leaves_[LeafOf(key_hash)].Add(MerkleEntryHash(key_hash, value_digest));
  ++key_count_;
  dirty_ = true;
}

void MerkleTree::Remove(std::uint64_t key_hash, std::uint64_t value_digest) {
  if (!Contains(key_hash)) return;
  leaves_[LeafOf(key_hash)].Remove(MerkleEntryHash(key_hash, value_digest));
  --key_count_;
  dirty_ = true;
}

void MerkleTree::SetLeaf(std::size_t leaf, const MerkleLeaf& summary) {
  MerkleLeaf& current = leaves_[leaf];
  if (current == summary) return;
  key_count_ = key_count_ - current.count + summary.count;
  current = summary;
  dirty_ = true;
}

std::uint64_t MerkleTree::NodeHash(int level, std::size_t index) const {
  if (dirty_) Recompute();
  return levels_[static_cast<std::size_t>(level)][index];
}

void MerkleTree::Recompute() const {
  std::vector<std::uint64_t>& leaf_hashes = levels_.back();
  leaf_hashes.resize(leaves_.size());
  for (std::size_t i = 0; i < leaves_.size(); ++i) {
    const MerkleLeaf& leaf = leaves_[i];
    // An empty leaf is 0 whatever its (zero) sum; otherwise the count is hashed in too, so a
    // leaf whose terms happened to sum to 0 still differs from an empty one.
    leaf_hashes[i] = leaf.count == 0 ? 0 : MerkleEntryHash(leaf.sum, leaf.count);
  }
  for (int level = depth_ - 1; level >= 0; --level) {
    const std::vector<std::uint64_t>& below = levels_[static_cast<std::size_t>(level) + 1];
    std::vector<std::uint64_t>& hashes = levels_[static_cast<std::size_t>(level)];
    hashes.resize(NodesAt(level));
    char children[kFanout * 8];
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      for (int c = 0; c < kFanout; ++c) PutFixed64(children + 8 * c, below[i * kFanout + c]);
      hashes[i] = storage::HashKey(std::string_view(children, sizeof(children)));
    }
  }
  dirty_ = false;
}

MerkleWalk::MerkleWalk(int depth) : depth_(depth) {}

bool MerkleWalk::Feed(const MerkleTree& mine, const std::vector<std::uint64_t>& theirs) {
  if (done() || theirs.size() != pending_.size() || mine.depth() != depth_) return false;
  std::vector<std::uint32_t> next;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const std::uint32_t node = pending_[i];
    if (mine.NodeHash(level_, node) == theirs[i]) continue;
    if (level_ == depth_) {
      differing_leaves_.push_back(node);
      continue;
    }
    for (std::uint32_t c = 0; c < MerkleTree::kFanout; ++c) {
      next.push_back(node * MerkleTree::kFanout + c);
    }
  }
  pending_ = std::move(next);
  ++level_;
  return true;
}

std::vector<std::uint32_t> DifferingLeaves(const MerkleTree& a, const MerkleTree& b) {
  MerkleWalk walk(a.depth());
  while (!walk.done()) {
    std::vector<std::uint64_t> theirs;
    for (std::uint32_t node : walk.pending()) theirs.push_back(b.NodeHash(walk.level(), node));
    walk.Feed(a, theirs);
  }
  return walk.differing_leaves();
}

}  // namespace dynakv::cluster
