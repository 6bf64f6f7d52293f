// The bucket array of a chained hash table that resizes incrementally, shared by the hashtable
// encoding of hashes and sets (field_table.h) and the member index of sorted sets (zskiplist.h).
//
// A node's bucket is the TOP bits of its 64-bit hash, as in the memtable, so walking buckets in
// order visits nodes in hash order: a SCAN cursor is a plain position in hash space that stays
// valid across resizes (every node present for a whole scan is returned at least once, as Redis
// guarantees), and a range of hash space is a run of whole buckets.
//
// A resize is incremental, as in Redis's dict: it allocates the new array and each later change
// (AfterChange) moves a few buckets of the old one, so no write pays for moving the whole table
// (that was a multi-millisecond stall at 100,000 members). While it runs, a node whose position
// falls before the first old bucket not yet moved is in the new array, any other in the old:
// every node is in exactly one place, found with one lookup.
//
// Link is what a bucket and a node's chain link hold: std::unique_ptr<Node, D> when the table
// owns its nodes (freed here, iteratively), a raw Node* when something else owns them. Chain
// says where a node keeps its link and what its hash is (nodes do not store it: it is
// recomputed when they move):
//   static Link& Next(Node& n);  static std::uint64_t Hash(const Node& n);
// Only the owner's thread may change the array; the const members change nothing, so they may
// run on another thread while no change is made to the buckets they read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace dynakv::types {

namespace rehashing_internal {
template <typename L>
struct Target {
  using type = typename L::element_type;  // std::unique_ptr
};
template <typename N>
struct Target<N*> {
  using type = N;
};
}  // namespace rehashing_internal

template <typename Link, typename Chain>
class RehashingBuckets {
 public:
  using Node = typename rehashing_internal::Target<Link>::type;
  // One bucket as a walk in hash order meets it: the range of hash space it serves from `start`
  // on (end 0: the end of hash space).
  struct Span {
    const Link* bucket;
    std::uint64_t start;
    std::uint64_t end;
  };

  static constexpr unsigned kMinBits = 2;
  // Old buckets moved per change while a resize runs (non-empty ones; at most ten times as many
  // empty ones are looked at, as in Redis's dictRehash). The new array has twice the buckets of
  // the old (or half), so the old one is empty long before the table needs its next resize.
  static constexpr std::size_t kStepBuckets = 2;

  RehashingBuckets()
      : buckets_(std::size_t{1} << kMinBits), bits_(kMinBits), shift_(64 - kMinBits) {}
  ~RehashingBuckets() {
    FreeChains(&buckets_);
    FreeChains(&old_);
  }
  RehashingBuckets(const RehashingBuckets&) = delete;
  RehashingBuckets& operator=(const RehashingBuckets&) = delete;

  // Bucket slots held (both arrays while a resize runs): the table's memory besides its nodes.
  std::size_t slots() const { return buckets_.size() + old_.size(); }
  bool rehashing() const { return !old_.empty(); }
  // The finest division of hash space into runs of whole buckets of both arrays: 2^common_bits()
  // ranges of equal size.
  unsigned common_bits() const { return rehashing() ? std::min(bits_, 64 - old_shift_) : bits_; }

  // Sizes an empty table for `entries` (a decode knows its count): no resize while it fills.
  // The table must hold no node.
  void Reserve(std::size_t entries) {
    unsigned bits = kMinBits;
    while (bits < 40 && (std::size_t{1} << bits) < entries) ++bits;
    if (bits <= bits_) return;
    old_ = std::vector<Link>();
    rehash_index_ = 0;
    Allocate(bits);
  }

  // The bucket that holds (or would hold) a node of hash `hash`.
  Link& Slot(std::uint64_t hash) {
    if (!old_.empty()) {
      const auto ob = static_cast<std::size_t>(hash >> old_shift_);
      if (ob >= rehash_index_) return old_[ob];
    }
    return buckets_[static_cast<std::size_t>(hash >> shift_)];
  }
  const Link& Slot(std::uint64_t hash) const {
    return const_cast<RehashingBuckets*>(this)->Slot(hash);
  }

  // The bucket serving hash position `pos`.
  Span SpanAt(std::uint64_t pos) const {
    // (b + 1) << shift wraps to 0 for the last bucket: the end of hash space.
    if (!old_.empty()) {
      const auto ob = static_cast<std::size_t>(pos >> old_shift_);
      if (ob >= rehash_index_) {
        return {&old_[ob], static_cast<std::uint64_t>(ob) << old_shift_,
                (static_cast<std::uint64_t>(ob) + 1) << old_shift_};
      }
    }
    const auto nb = static_cast<std::size_t>(pos >> shift_);
    Span span{&buckets_[nb], static_cast<std::uint64_t>(nb) << shift_,
              (static_cast<std::uint64_t>(nb) + 1) << shift_};
    if (!old_.empty()) {
      // After a shrink a new bucket spans two old ones; the second may not be moved yet, and
      // then the old array serves the rest of its range.
      const std::uint64_t moved = static_cast<std::uint64_t>(rehash_index_) << old_shift_;
      if (span.end == 0 || span.end > moved) span.end = moved;
    }
    return span;
  }

  // After a node was added or removed, the table holding `size` nodes: a step of the resize
  // under way, or the start of one when the load calls for it.
  void AfterChange(std::size_t size) {
    if (rehashing()) {
      Step(kStepBuckets);
    } else if (size > buckets_.size()) {
      StartResize(bits_ + 1);
    } else if (bits_ > kMinBits && size < buckets_.size() / 8) {
      StartResize(bits_ - 1);
    }
  }

  // Visits every node of hash positions [from, to) (boundaries of whole buckets of both arrays,
  // as common_bits() gives; to 0: the end of hash space) as fn(const Node&).
  template <typename Fn>
  void Walk(std::uint64_t from, std::uint64_t to, Fn&& fn) const {
    std::uint64_t pos = from;
    do {
      const Span span = SpanAt(pos);
      for (const Node* n = Get(*span.bucket); n != nullptr; n = Next(n)) fn(*n);
      pos = span.end;
    } while (pos != to);
  }

  // Visits whole buckets from hash position `cursor` until at least `count` nodes were passed to
  // fn(const Node&); returns the next cursor, 0 once the end was reached.
  template <typename Fn>
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, Fn&& fn) const {
    std::size_t passed = 0;
    std::uint64_t pos = cursor;
    for (;;) {
      const Span span = SpanAt(pos);
      // A cursor is a bucket boundary unless the table shrank since it was handed out: only
      // then do the first bucket's nodes below it need their hash to be skipped.
      const bool mid_bucket = span.start != pos;
      for (const Node* n = Get(*span.bucket); n != nullptr; n = Next(n)) {
        if (mid_bucket && Chain::Hash(*n) < pos) continue;
        fn(*n);
        ++passed;
      }
      if (span.end == 0) return 0;
      pos = span.end;
      if (passed >= count) return pos;
    }
  }

  // A node chosen at random; the table must hold one.
  template <typename Rng>
  const Node& Random(Rng& rng) const {
    // A random non-empty bucket, then a random node of its chain (chains are short: load <= 1).
    const std::uint64_t pos = static_cast<std::uint64_t>(rng() & (buckets_.size() - 1)) << shift_;
    Span span = SpanAt(pos);
    while (!*span.bucket) span = SpanAt(span.end);
    std::size_t len = 0;
    for (const Node* n = Get(*span.bucket); n != nullptr; n = Next(n)) ++len;
    std::size_t pick = static_cast<std::size_t>(rng() % len);
    const Node* n = Get(*span.bucket);
    while (pick-- > 0) n = Next(n);
    return *n;
  }

 private:
  static const Node* Get(const Link& link) {
    if constexpr (std::is_pointer_v<Link>) {
      return link;
    } else {
      return link.get();
    }
  }
  static const Node* Next(const Node* n) { return Get(Chain::Next(const_cast<Node&>(*n))); }

  static void FreeChains(std::vector<Link>* buckets) {
    // Owned chains are freed iteratively: a recursive unique_ptr chain could overflow the stack.
    if constexpr (!std::is_pointer_v<Link>) {
      for (Link& bucket : *buckets) {
        while (bucket) bucket = std::move(Chain::Next(*bucket));
      }
    }
  }

  void Allocate(unsigned bits) {
    buckets_ = std::vector<Link>(std::size_t{1} << bits);
    bits_ = bits;
    shift_ = 64 - bits;
  }

  void StartResize(unsigned bits) {
    old_ = std::move(buckets_);
    old_shift_ = shift_;
    rehash_index_ = 0;
    Allocate(bits);
  }

  void Step(std::size_t buckets) {
    std::size_t empty_visits = buckets * 10;
    while (buckets > 0 && rehash_index_ < old_.size()) {
      Link& bucket = old_[rehash_index_];
      if (!bucket) {
        ++rehash_index_;
        if (--empty_visits == 0) break;
        continue;
      }
      while (bucket) {
        Link n = std::move(bucket);
        bucket = std::move(Chain::Next(*n));
        Link& dst = buckets_[static_cast<std::size_t>(Chain::Hash(*n) >> shift_)];
        Chain::Next(*n) = std::move(dst);
        dst = std::move(n);
      }
      ++rehash_index_;
      --buckets;
    }
    if (rehash_index_ == old_.size()) {
      old_ = std::vector<Link>();
      rehash_index_ = 0;
    }
  }

  std::vector<Link> buckets_;  // the new array while a resize runs
  unsigned bits_;
  unsigned shift_;
  std::vector<Link> old_;  // while a resize runs: the array being emptied
  unsigned old_shift_ = 0;
  std::size_t rehash_index_ = 0;  // old buckets below it were moved
};

}  // namespace dynakv::types
