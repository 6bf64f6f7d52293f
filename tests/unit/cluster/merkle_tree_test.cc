// MerkleTree and MerkleWalk: the pure logic anti-entropy compares replicas with.
#include "cluster/merkle_tree.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace dynakv::cluster {
namespace {

struct Entry {
  std::uint64_t key_hash;
  std::uint64_t digest;
};

std::vector<Entry> RandomEntries(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < n; ++i) entries.push_back(Entry{rng(), rng()});
  return entries;
}

MerkleTree Build(const std::vector<Entry>& entries, int depth = 3, std::uint64_t lo = 0,
                 std::uint64_t hi = 0) {
  MerkleTree tree(lo, hi, depth);
  for (const Entry& e : entries) tree.Add(e.key_hash, e.digest);
  return tree;
}

// Every node of both trees, level by level.
bool SameHashes(const MerkleTree& a, const MerkleTree& b) {
  for (int level = 0; level <= a.depth(); ++level) {
    for (std::size_t i = 0; i < MerkleTree::NodesAt(level); ++i) {
      if (a.NodeHash(level, i) != b.NodeHash(level, i)) return false;
    }
  }
  return true;
}

TEST_CASE("merkle: equal data gives equal roots whatever the insertion order") {
  std::vector<Entry> entries = RandomEntries(2000, 1);
  const MerkleTree a = Build(entries);
  std::shuffle(entries.begin(), entries.end(), std::mt19937_64(2));
  const MerkleTree b = Build(entries);
  CHECK(a.Root() == b.Root());
  CHECK(SameHashes(a, b));
  CHECK(a.key_count() == 2000);
  CHECK(DifferingLeaves(a, b).empty());
}

TEST_CASE("merkle: one differing key shows as exactly one leaf, found along one path") {
  const std::vector<Entry> entries = RandomEntries(2000, 3);
  const MerkleTree a = Build(entries);
  const Entry changed = entries[1234];

  SUBCASE("a different value") {
    MerkleTree b = Build(entries);
    b.Remove(changed.key_hash, changed.digest);
    b.Add(changed.key_hash, changed.digest + 1);
    CHECK(a.Root() != b.Root());
    CHECK(DifferingLeaves(a, b) ==
          std::vector<std::uint32_t>{static_cast<std::uint32_t>(a.LeafOf(changed.key_hash))});
  }
  SUBCASE("a key missing on one side") {
    std::vector<Entry> fewer = entries;
    fewer.erase(fewer.begin() + 1234);
    const MerkleTree b = Build(fewer);
    CHECK(DifferingLeaves(a, b) ==
          std::vector<std::uint32_t>{static_cast<std::uint32_t>(a.LeafOf(changed.key_hash))});

    // The walk descends only into the differing child: 1 root, then 16 children of one node
    // per level, never the other 15 subtrees.
    MerkleWalk walk(a.depth());
    std::vector<std::size_t> asked;
    while (!walk.done()) {
      asked.push_back(walk.pending().size());
      std::vector<std::uint64_t> theirs;
      for (std::uint32_t node : walk.pending()) theirs.push_back(b.NodeHash(walk.level(), node));
      REQUIRE(walk.Feed(a, theirs));
    }
    CHECK(asked == std::vector<std::size_t>{1, 16, 16, 16});
  }
}

TEST_CASE("merkle: equal trees cost one hash; the walk refuses a reply of the wrong size") {
  const MerkleTree a = Build(RandomEntries(100, 4));
  MerkleWalk walk(a.depth());
  CHECK_FALSE(walk.Feed(a, {}));
  CHECK_FALSE(walk.Feed(a, {1, 2}));
  CHECK_FALSE(walk.Feed(MerkleTree(0, 0, 2), {a.Root()}));  // another shape
  REQUIRE(walk.Feed(a, {a.Root()}));
  CHECK(walk.done());
  CHECK(walk.differing_leaves().empty());
}

TEST_CASE("merkle: incremental updates equal a rebuild from the final data") {
  std::vector<Entry> entries = RandomEntries(3000, 5);
  MerkleTree incremental = Build(entries);
  std::mt19937_64 rng(6);
  // Overwrite 500 values, delete 300 keys, add 200 new ones.
  for (int i = 0; i < 500; ++i) {
    Entry& e = entries[rng() % entries.size()];
    const std::uint64_t digest = rng();
    incremental.Remove(e.key_hash, e.digest);
    incremental.Add(e.key_hash, digest);
    e.digest = digest;
  }
  for (int i = 0; i < 300; ++i) {
    const std::size_t at = rng() % entries.size();
    incremental.Remove(entries[at].key_hash, entries[at].digest);
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(at));
  }
  for (const Entry& e : RandomEntries(200, 7)) {
    incremental.Add(e.key_hash, e.digest);
    entries.push_back(e);
  }
  const MerkleTree rebuilt = Build(entries);
  CHECK(incremental.key_count() == rebuilt.key_count());
  CHECK(incremental.key_count() == 2900);
  CHECK(SameHashes(incremental, rebuilt));
}

TEST_CASE("merkle: empty trees and emptied leaves") {
  const MerkleTree empty(0, 0, 3);
  const MerkleTree other_empty(0, 0, 3);
  CHECK(empty.Root() == other_empty.Root());
  CHECK(empty.key_count() == 0);
  for (std::size_t i = 0; i < empty.leaf_count(); ++i) CHECK(empty.NodeHash(3, i) == 0);

  MerkleTree tree(0, 0, 3);
  tree.Add(42, 7);
  CHECK(tree.Root() != empty.Root());
  CHECK(DifferingLeaves(tree, empty) == std::vector<std::uint32_t>{0});
  tree.Remove(42, 7);
  CHECK(tree.Root() == empty.Root());

  // A sum, not XOR: the same entry twice does not cancel out to "no key".
  MerkleTree twice(0, 0, 3);
  twice.Add(42, 7);
  twice.Add(42, 7);
  CHECK(twice.Root() != empty.Root());
  // A depth-0 tree is a single leaf.
  MerkleTree flat(0, 0, 0);
  CHECK(flat.leaf_count() == 1);
  flat.Add(1, 1);
  CHECK(flat.Root() != 0);
}

TEST_CASE("merkle: leaves split the range into contiguous equal parts") {
  SUBCASE("the whole hash space") {
    const MerkleTree tree(0, 0, 2);
    CHECK(tree.leaf_count() == 256);
    CHECK(tree.LeafLo(0) == 0);
    CHECK(tree.LeafHi(255) == 0);  // the end of the space
    for (std::size_t i = 0; i + 1 < tree.leaf_count(); ++i) {
      CHECK(tree.LeafHi(i) == tree.LeafLo(i + 1));
      CHECK(tree.LeafLo(i) == (std::uint64_t{i} << 56));
    }
    CHECK(tree.LeafOf(0) == 0);
    CHECK(tree.LeafOf(UINT64_MAX) == 255);
    CHECK(tree.LeafOf((std::uint64_t{17} << 56) - 1) == 16);
    CHECK(tree.LeafOf(std::uint64_t{17} << 56) == 17);
  }
  SUBCASE("a sub-range: keys outside it are ignored, keys inside land in their leaf's range") {
    const std::uint64_t lo = 1000, hi = 1000 + 12345;
    MerkleTree tree(lo, hi, 2);
    tree.Add(lo - 1, 1);
    tree.Add(hi, 1);
    CHECK(tree.key_count() == 0);
    CHECK_FALSE(tree.Contains(hi));
    CHECK(tree.Contains(lo));
    for (std::uint64_t h = lo; h < hi; h += 7) {
      const std::size_t leaf = tree.LeafOf(h);
      REQUIRE(leaf < tree.leaf_count());
      CHECK(tree.LeafLo(leaf) <= h);
      CHECK(h < tree.LeafHi(leaf));
    }
    CHECK(tree.LeafHi(tree.leaf_count() - 1) == hi);
  }
  SUBCASE("a range narrower than the leaf count leaves some leaves empty") {
    MerkleTree tree(500, 510, 2);
    std::size_t non_empty_ranges = 0;
    for (std::size_t i = 0; i < tree.leaf_count(); ++i) {
      if (tree.LeafLo(i) < tree.LeafHi(i)) ++non_empty_ranges;
    }
    CHECK(non_empty_ranges == 10);
    for (std::uint64_t h = 500; h < 510; ++h) tree.Add(h, h);
    CHECK(tree.key_count() == 10);
  }
}

TEST_CASE("merkle: SetLeaf replaces a drifted leaf with the data's summary") {
  const std::vector<Entry> entries = RandomEntries(500, 8);
  const MerkleTree truth = Build(entries);
  MerkleTree drifted = Build(entries);
  // A key that vanished without a write (it expired) is still counted.
  const Entry phantom{entries[0].key_hash + 1, 99};
  drifted.Add(phantom.key_hash, phantom.digest);
  const std::size_t leaf = drifted.LeafOf(phantom.key_hash);
  REQUIRE(DifferingLeaves(truth, drifted) == std::vector<std::uint32_t>{
                                                 static_cast<std::uint32_t>(leaf)});
  MerkleLeaf summary;
  for (const Entry& e : entries) {
    if (truth.LeafOf(e.key_hash) == leaf) summary.Add(MerkleEntryHash(e.key_hash, e.digest));
  }
  CHECK(summary == truth.leaf(leaf));
  drifted.SetLeaf(leaf, summary);
  CHECK(drifted.Root() == truth.Root());
  CHECK(drifted.key_count() == truth.key_count());
}

TEST_CASE("merkle: entry hashes depend on both the key and the value") {
  CHECK(MerkleEntryHash(1, 2) != MerkleEntryHash(2, 1));
  CHECK(MerkleEntryHash(1, 2) != MerkleEntryHash(1, 3));
  CHECK(MerkleEntryHash(1, 2) == MerkleEntryHash(1, 2));
  CHECK(ValueDigest("abc") == ValueDigest(std::string("abc")));
  CHECK(ValueDigest("abc") != ValueDigest("abd"));
}

}  // namespace
}  // namespace dynakv::cluster
