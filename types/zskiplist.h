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
// The index is a chained hash table over rehashing_buckets.h's array (bucket = the TOP bits of
// the member's hash, as in field_table.h), so ZSCAN's cursor is a position in hash space that
// stays valid across resizes. Nodes do not keep their hash; it is recomputed on resize. A resize
// is incremental: each later index change moves a few buckets of the old array.
//
// Snapshots (StartSnapshot, chunked_snapshot.h): a checkpoint serializes the list in order on its
// background thread while the owner thread keeps writing. The list is cut into up to 1,024 runs
// of neighbouring nodes at the start; a chunk is a run, known to the background thread by its
// first node and the next run's, and to the owner by its first (score, member), copied. The
// background thread reads nothing of a node but its level-0 link, score and member, so the
// owner settles a chunk only before it changes one of those in that run: the (score, member)
// that a write moves, adds or removes, and the level-0 predecessor whose link it rewrites. The
// member index, higher levels, spans and backward links change freely meanwhile, and the index
// keeps resizing (the background thread never reads it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chunked_snapshot.h"
#include "rehashing_buckets.h"

namespace dynakv::types {

class ZSkiplist {
 public:
  // (member, score) -> keep going.
  using Visitor = std::function<bool(std::string_view member, double score)>;
  using Pred = std::function<bool(std::string_view member, double score)>;

  class Snapshot;

  ZSkiplist();
  ~ZSkiplist();
  ZSkiplist(const ZSkiplist&) = delete;
  ZSkiplist& operator=(const ZSkiplist&) = delete;

  std::size_t size() const { return size_; }
  // Memory held: nodes (rounded as the allocator rounds) and index buckets.
  std::size_t bytes() const { return node_bytes_ + index_.slots() * sizeof(void*); }
  bool index_rehashing() const { return index_.rehashing(); }

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

  // Starts a snapshot of the entries in order, each as the serialized form of a sorted set
  // writes it (8-byte little-endian score | varint length | member). Until EndSnapshot() every
  // write first settles the chunks it touches (see above). The caller keeps the snapshot alive
  // until EndSnapshot(), which it calls once no other thread uses the snapshot.
  std::unique_ptr<Snapshot> StartSnapshot();
  void EndSnapshot();

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
  // Relinks node `n` (in the list) at its place for `score`: Unlink, new score, Link, with the
  // two walks down the list made at once.
  void Move(Node* n, double score);
  // The halves of Link and Unlink after their walk: `update` holds the last node before n's
  // place on each level (and `rank` their ranks, counted from 1; the header's is 0).
  void Splice(Node* n, Node** update, std::size_t* rank);
  void Cut(Node* n, Node* const* update);
  Node* ByRank(std::size_t rank) const;  // 0-based, < size()
  struct IndexChain {
    static Node*& Next(Node& n);
    static std::uint64_t Hash(const Node& n);
  };
  void IndexInsert(Node* n);
  void IndexRemove(Node* n);
  // Before the level-0 link of `pred` (the header: none) and the entry of `n` change: the
  // snapshot's chunks holding them are settled.
  void SettleAround(const Node* pred, const Node* n);

  NodePtr header_;
  Node* tail_ = nullptr;
  int level_ = 1;
  std::size_t size_ = 0;
  std::size_t node_bytes_ = 0;
  RehashingBuckets<Node*, IndexChain> index_;  // chains through Node::hnext
  std::minstd_rand rng_;
  Snapshot* snapshot_ = nullptr;
};

// A serialization of a ZSkiplist in order that runs on one thread (Serialize) while the owner
// writes on another (Settle, called by the list's writes): a chunk is a run of nodes.
class ZSkiplist::Snapshot final : public ChunkedSnapshot {
 public:
  // The runs begin at `starts` (the first one the list's first node), their first entries
  // `keys`; `size` is the list's.
  Snapshot(std::vector<const Node*> starts, std::vector<std::pair<double, std::string>> keys,
           std::size_t size);

  std::size_t size() const { return size_; }  // entries when it started
  // The chunk that (score, member) is in (or would be in): the last whose first key is not
  // after it; 0 for anything before the first.
  std::size_t ChunkOf(double score, std::string_view member) const;
  // Whether (score, member) comes before chunk c's first key.
  bool BeforeChunk(std::size_t c, double score, std::string_view member) const;

 private:
  void SerializeChunk(std::size_t c, std::string* out) const override;

  const std::vector<const Node*> starts_;  // chunk c: starts_[c] up to starts_[c + 1] (or the end)
  const std::vector<std::pair<double, std::string>> keys_;
  const std::size_t size_;
};

// Appends one entry as a sorted set's serialized form holds it: 8-byte little-endian score |
// varint length | member.
void AppendScoredEntry(std::string* out, std::string_view member, double score);

}  // namespace dynakv::types
