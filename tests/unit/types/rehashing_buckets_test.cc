// The incrementally resized bucket array under field_table.h and zskiplist.h's member index, on
// its own with nodes whose hashes the test chooses: every node is found, walked and scanned
// exactly where it should be before, during and after growth and shrinkage, for owned chains
// (std::unique_ptr) and borrowed ones (raw pointers).
#include "rehashing_buckets.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <type_traits>
#include <vector>

namespace dynakv::types {

namespace {

struct Owned {
  std::uint64_t hash = 0;
  std::unique_ptr<Owned> next;
};
struct OwnedChain {
  static std::unique_ptr<Owned>& Next(Owned& n) { return n.next; }
  static std::uint64_t Hash(const Owned& n) { return n.hash; }
};
using OwnedBuckets = RehashingBuckets<std::unique_ptr<Owned>, OwnedChain>;

struct Borrowed {
  std::uint64_t hash = 0;
  Borrowed* next = nullptr;
};
struct BorrowedChain {
  static Borrowed*& Next(Borrowed& n) { return n.next; }
  static std::uint64_t Hash(const Borrowed& n) { return n.hash; }
};
using BorrowedBuckets = RehashingBuckets<Borrowed*, BorrowedChain>;

// A table of distinct hashes over either kind of bucket array, as its users drive it.
template <typename Buckets, typename Node>
class Table {
 public:
  void Insert(std::uint64_t hash) {
    auto& head = buckets.Slot(hash);
    if constexpr (std::is_same_v<Node, Owned>) {
      auto n = std::make_unique<Owned>();
      n->hash = hash;
      n->next = std::move(head);
      head = std::move(n);
    } else {
      auto n = std::make_unique<Borrowed>();
      n->hash = hash;
      n->next = head;
      head = n.get();
      owned_[hash] = std::move(n);
    }
    hashes.insert(hash);
    buckets.AfterChange(hashes.size());
  }
  void Remove(std::uint64_t hash) {
    auto* link = &buckets.Slot(hash);
    while ((*link)->hash != hash) link = &(*link)->next;
    if constexpr (std::is_same_v<Node, Owned>) {
      auto gone = std::move(*link);
      *link = std::move(gone->next);
    } else {
      *link = (*link)->next;
      owned_.erase(hash);
    }
    hashes.erase(hash);
    buckets.AfterChange(hashes.size());
  }
  bool Contains(std::uint64_t hash) const {
    for (const Node* n = Get(buckets.Slot(hash)); n != nullptr; n = Get(n->next)) {
      if (n->hash == hash) return true;
    }
    return false;
  }
  // Every hash is found by lookup; a walk of the whole table and walks of the finest common
  // ranges each meet every node once, in its own range.
  void Check() const {
    for (std::uint64_t h : hashes) REQUIRE(Contains(h));
    std::multiset<std::uint64_t> walked;
    buckets.Walk(0, 0, [&](const Node& n) { walked.insert(n.hash); });
    REQUIRE(walked == std::multiset<std::uint64_t>(hashes.begin(), hashes.end()));
    const unsigned bits = std::min(buckets.common_bits(), 8u);
    const unsigned shift = 64 - bits;
    std::size_t ranged = 0;
    for (std::uint64_t r = 0; r < (std::uint64_t{1} << bits); ++r) {
      buckets.Walk(r << shift, (r + 1) << shift, [&](const Node& n) {
        REQUIRE((n.hash >> shift) == r);
        ++ranged;
      });
    }
    REQUIRE(ranged == hashes.size());
  }

  Buckets buckets;
  std::set<std::uint64_t> hashes;

 private:
  static const Node* Get(const std::unique_ptr<Owned>& p) { return p.get(); }
  static const Node* Get(Borrowed* p) { return p; }
  std::map<std::uint64_t, std::unique_ptr<Borrowed>> owned_;
};

template <typename T>
void GrowAndShrink() {
  T t;
  std::mt19937_64 rng(3);
  bool grew = false;
  while (t.hashes.size() < 5000) {
    t.Insert(rng());
    grew |= t.buckets.rehashing();
    if (t.buckets.rehashing() && t.hashes.size() % 97 == 0) t.Check();
  }
  CHECK(grew);
  t.Check();
  CHECK(t.buckets.slots() >= 4096);
  bool shrank = false;
  while (t.hashes.size() > 10) {
    t.Remove(*t.hashes.begin());
    shrank |= t.buckets.rehashing();
    if (t.buckets.rehashing() && t.hashes.size() % 13 == 0) t.Check();
  }
  CHECK(shrank);
  // One halving at a time, each moved along by later changes, down to the load's size.
  for (int i = 0; i < 5000 && (t.buckets.rehashing() || t.hashes.size() < t.buckets.slots() / 8);
       ++i) {
    t.Insert(rng());
    t.Remove(*t.hashes.begin());
  }
  CHECK_FALSE(t.buckets.rehashing());
  t.Check();
  CHECK(t.buckets.slots() < 256);
}

// A scan whose cursor meets growth, then shrinkage (a cursor may fall inside a bucket of the
// smaller array), then growth again: every node present throughout is returned.
template <typename T>
void ScanAcrossResizes() {
  T t;
  std::mt19937_64 rng(9);
  std::vector<std::uint64_t> kept;
  for (int i = 0; i < 300; ++i) {
    kept.push_back(rng());
    t.Insert(kept.back());
  }
  std::multiset<std::uint64_t> seen;
  std::uint64_t cursor = 0;
  int calls = 0;
  bool mid_resize = false;
  do {
    cursor = t.buckets.Scan(cursor, 7, [&](const auto& n) { seen.insert(n.hash); });
    mid_resize |= t.buckets.rehashing();
    ++calls;
    if (calls < 30) {
      for (int i = 0; i < 200; ++i) t.Insert(rng());  // grows
    } else if (calls < 60) {
      for (int i = 0; i < 200; ++i) {  // shrinks, keeping the first 300
        auto it = t.hashes.upper_bound(rng());
        if (it == t.hashes.end()) continue;
        if (std::find(kept.begin(), kept.end(), *it) == kept.end()) t.Remove(*it);
      }
    } else {
      t.Insert(rng());
    }
  } while (cursor != 0);
  CHECK(mid_resize);
  for (std::uint64_t h : kept) CHECK(seen.count(h) >= 1);
}

template <typename T>
void RandomAndReserve() {
  T t;
  t.buckets.Reserve(1000);
  CHECK(t.buckets.slots() == 1024);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) t.Insert(rng());
  CHECK_FALSE(t.buckets.rehashing());  // reserved: no resize while it filled
  std::set<std::uint64_t> picked;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t h = t.buckets.Random(rng).hash;
    REQUIRE(t.hashes.count(h) == 1);
    picked.insert(h);
  }
  CHECK(picked.size() > 900);
}

}  // namespace

TEST_CASE("rehashing buckets: growth and shrinkage move nodes a few buckets at a time") {
  GrowAndShrink<Table<OwnedBuckets, Owned>>();
  GrowAndShrink<Table<BorrowedBuckets, Borrowed>>();
}

TEST_CASE("rehashing buckets: a scan returns every node present throughout, across resizes") {
  ScanAcrossResizes<Table<OwnedBuckets, Owned>>();
  ScanAcrossResizes<Table<BorrowedBuckets, Borrowed>>();
}

TEST_CASE("rehashing buckets: random picks and a reserved size") {
  RandomAndReserve<Table<OwnedBuckets, Owned>>();
  RandomAndReserve<Table<BorrowedBuckets, Borrowed>>();
}

TEST_CASE("rehashing buckets: an owned chain of a million nodes is freed without recursion") {
  OwnedBuckets buckets;
  // Every node in one bucket: one chain a million long (a recursive free would overflow).
  auto& head = buckets.Slot(0);
  for (int i = 0; i < 1000000; ++i) {
    auto n = std::make_unique<Owned>();
    n->next = std::move(head);
    head = std::move(n);
  }
}

}  // namespace dynakv::types
