// The skiplist encoding of a sorted set: Redis's zskiplist (score, then member bytes; spans for
// O(log n) rank; backward links for reverse walks) and, threaded through the same nodes, the
// member -> node index that answers ZSCORE in O(1) (Redis keeps a separate dict for it).
//
// Memory is the point of this layout. A node is one allocation holding its score, its links, its
// index chain link and the member bytes inline (no separate string, no separate dict entry):
// 32 bytes of header, 8 per level (a forward link), 4 per level above the first (a span; the
// first level's span is always 1 and is not stored) and the member. A 14-byte member on one level
// (three nodes in four) takes 54 bytes, jemalloc's 64 class; Redis spends about 110.
// Spans are 32 bits: a set holds fewer than 2^32 members.
//
// The index is a chained hash table whose bucket is the TOP bits of the member's hash (as in
// field_table.h), so ZSCAN's cursor is a position in hash space that stays valid across
// rehashing. Nodes do not keep their hash; it is recomputed on resize. A resize is incremental,
// as field_table.h's: each later index change moves a few buckets of the old array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace dynakv::types {

class ZSkiplist {
 public:
  // (member, score) -> keep going.
  using Visitor = std::function<bool(std::string_view member, double score)>;
  using Pred = std::function<bool(std::string_view member, double score)>;

  ZSkiplist();
  ~ZSkiplist();
  ZSkiplist(const ZSkiplist&) = delete;
  ZSkiplist& operator=(const ZSkiplist&) = delete;

  std::size_t size() const { return size_; }
  // Memory held: nodes (rounded as the allocator rounds) and index buckets.
  std::size_t bytes() const {
    return node_bytes_ + (buckets_.size() + old_.size()) * sizeof(void*);
  }
  bool index_rehashing() const { return !old_.empty(); }

  std::optional<double> Score(std::string_view member) const;
  // Adds `member` with `score`, or moves it to `score`; true when it is new. `score` must not be
  // NaN.
  bool Add(std::string_view member, double score);
  bool Remove(std::string_view member);  // whether it existed
  // 0-based rank in ascending order, nullopt when absent.
  std::optional<std::size_t> Rank(std::string_view member) const;
  // How many leading entries satisfy `before` (which must hold for a prefix of the order): the
  // rank of the first entry that does not. O(log n).
  std::size_t CountLeading(const Pred& before) const;
  // Visits entries from rank `rank` on, towards the tail (or the head when `reverse`), while
  // `fn` returns true.
  void Walk(std::size_t rank, bool reverse, const Visitor& fn) const;
  // Visits whole index buckets from hash position `cursor` until at least `count` members were
  // passed; returns the next cursor, 0 once the end was reached.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const;
  // A member chosen at random (the list must not be empty).
  std::pair<std::string_view, double> Random(std::mt19937_64& rng) const;

 private:
  struct Node;
  struct NodeDeleter {
    void operator()(Node* n) const;
  };
  using NodePtr = std::unique_ptr<Node, NodeDeleter>;

  static NodePtr MakeNode(int levels, std::string_view member, double score);
  static std::size_t NodeBytes(const Node& n);
  int RandomLevel();
  Node* Find(std::string_view member) const;
  // Links a node that is in no list at its place by (score, member); Unlink undoes it.
  void Link(Node* n);
  void Unlink(Node* n);
  Node* ByRank(std::size_t rank) const;  // 0-based, < size()
  // The member index: the bucket that holds (or would hold) a member of hash `hash`, old or new
  // array while a resize runs (field_table.h).
  Node*& Slot(std::uint64_t hash);
  Node* const& Slot(std::uint64_t hash) const;
  // The bucket serving hash position `pos` and the range it serves from its start (end 0: the
  // end of hash space).
  struct Span {
    Node* const* bucket;
    std::uint64_t start;
    std::uint64_t end;
  };
  Span SpanAt(std::uint64_t pos) const;
  void IndexInsert(Node* n);
  void IndexRemove(Node* n);
  void MaybeResize();
  void StartResize(unsigned bits);
  void RehashStep(std::size_t buckets);

  NodePtr header_;
  Node* tail_ = nullptr;
  int level_ = 1;
  std::size_t size_ = 0;
  std::size_t node_bytes_ = 0;
  std::vector<Node*> buckets_;  // chains through Node::hnext; nodes are owned along level 0
  unsigned bits_;
  unsigned shift_;
  std::vector<Node*> old_;  // while resizing: the array being emptied
  unsigned old_shift_ = 0;
  std::size_t rehash_index_ = 0;  // old buckets below it were moved
  std::minstd_rand rng_;
};

}  // namespace dynakv::types
