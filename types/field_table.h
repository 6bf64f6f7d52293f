// The scalable encoding of a hash and of a set ("hashtable"): a chained hash table of field ->
// value, one allocation per field. Bucket index = the TOP bits of the field's 64-bit hash, as in
// the memtable, so walking buckets in order visits fields in hash order: an HSCAN cursor is a
// plain position in hash space that stays valid across rehashing (every field present for a
// whole scan is returned at least once, as Redis guarantees).
//
// Rehashing is incremental, as in Redis's dict: a resize allocates the new bucket array and
// each later write moves a few buckets of the old one, so no write of a 100,000-member set pays
// for moving all of it (that was a multi-millisecond stall). While it runs, a field whose
// position falls before the first old bucket not yet moved is in the new array, any other in
// the old: every field is in exactly one place, found with one lookup.
//
// Snapshots (StartSnapshot): a checkpoint serializes the table on its background thread while
// the owner thread keeps writing. The table is cut into chunks of hash space; before a write
// changes a chunk, the owner serializes that chunk as it was (or waits for the background
// thread, which is serializing it), so a write waits for at most one small chunk, never for the
// whole table. Rehashing pauses meanwhile (it moves fields between chunks' buckets in place).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/object.h"

namespace dynakv::types {

class FieldTable {
 public:
  using Visitor = std::function<void(std::string_view field, std::string_view value)>;
  class Snapshot;

  FieldTable();
  ~FieldTable();
  FieldTable(const FieldTable&) = delete;
  FieldTable& operator=(const FieldTable&) = delete;

  // Sizes an empty table for `fields` (a decode knows its count): no rehashing while it fills.
  void Reserve(std::size_t fields);

  std::optional<std::string_view> Get(std::string_view field) const;
  // Inserts or overwrites; true when the field is new.
  bool Set(std::string_view field, std::string_view value);
  bool Remove(std::string_view field);  // whether it existed

  std::size_t size() const { return size_; }
  // Memory held: nodes (with an allowance for the allocator's rounding) and buckets (both arrays
  // while rehashing).
  std::size_t bytes() const {
    return node_bytes_ + (buckets_.size() + old_.size()) * sizeof(void*);
  }
  bool rehashing() const { return !old_.empty(); }

  void ForEach(const Visitor& fn) const;
  // Appends every pair as the serialized form wants it (varint length | field | varint length |
  // value), in one pass with the output sized up front.
  void AppendPairs(std::string* out) const;
  // Visits whole buckets from hash position `cursor` until at least `count` fields were passed;
  // returns the next cursor, 0 once the end was reached.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const;
  // A field chosen at random (the table must not be empty).
  std::pair<std::string_view, std::string_view> Random(std::mt19937_64& rng) const;

  // Starts a snapshot of the table as it is now; `with_values`: pairs as AppendPairs writes
  // them, else fields alone (varint length | field), as a set serializes its members. Until
  // EndSnapshot() every write first settles its chunk (see above). The caller keeps the snapshot
  // alive until EndSnapshot(), which it calls once no other thread uses the snapshot.
  std::unique_ptr<Snapshot> StartSnapshot(bool with_values);
  void EndSnapshot();

 private:
  struct Node;
  struct NodeDeleter {
    void operator()(Node* n) const;
  };
  using NodePtr = std::unique_ptr<Node, NodeDeleter>;
  // One bucket as a walk in hash order meets it: the range of hash space it stands for from
  // `start` on (end 0: the end of hash space).
  struct Span {
    const NodePtr* bucket;
    std::uint64_t start;
    std::uint64_t end;
  };

  static NodePtr MakeNode(std::string_view field, std::string_view value);
  static std::size_t NodeBytes(const Node& n);
  static void FreeChains(std::vector<NodePtr>* buckets);
  // The bucket that holds (or would hold) a field of hash `hash`.
  NodePtr& Slot(std::uint64_t hash);
  const NodePtr& Slot(std::uint64_t hash) const;
  // The bucket serving hash position `pos`.
  Span SpanAt(std::uint64_t pos) const;
  // Visits every field of hash positions [from, to) (bucket boundaries of both arrays; to 0:
  // the end of hash space).
  template <typename Fn>
  void Walk(std::uint64_t from, std::uint64_t to, Fn&& fn) const;
  void StartResize(unsigned bits);
  void RehashStep(std::size_t buckets);
  void MaybeResize();

  std::vector<NodePtr> buckets_;  // the new array while rehashing
  unsigned bits_;
  unsigned shift_;
  std::vector<NodePtr> old_;  // while rehashing: the array being emptied
  unsigned old_shift_ = 0;
  std::size_t rehash_index_ = 0;  // old buckets below it were moved
  std::size_t size_ = 0;
  std::size_t node_bytes_ = 0;
  std::size_t payload_bytes_ = 0;  // fields and values
  Snapshot* snapshot_ = nullptr;
};

// A serialization of a FieldTable that runs on one thread (Serialize) while the owner writes on
// another (Settle, called by the table's writes). Chunks are claimed with an atomic exchange:
// whichever thread claims one serializes it; the other waits for it only when it needs it.
class FieldTable::Snapshot {
 public:
  Snapshot(const FieldTable& table, bool with_values, unsigned chunk_bits);
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  std::size_t size() const { return size_; }  // fields when it started
  // Appends the whole snapshot (every chunk, serialized here unless the owner did): any thread.
  void Serialize(std::string* out);
  // The owner thread, before it changes anything at hash position `hash`.
  void Settle(std::uint64_t hash) { Claim(static_cast<std::size_t>(hash >> chunk_shift_)); }

 private:
  enum : int { kPending, kClaimed, kDone };
  struct Chunk {
    std::atomic<int> state{kPending};
    std::string bytes;
  };
  // Serializes chunk `c` unless another thread did or does; returns once it is done.
  void Claim(std::size_t c);

  const FieldTable& table_;
  const bool with_values_;
  const unsigned chunk_shift_;
  const std::size_t size_;
  std::unique_ptr<Chunk[]> chunks_;
  std::size_t chunk_count_;
  std::mutex mu_;
  std::condition_variable done_;
};

// The snapshot of a set or a hash held as a table (ValueObject::StartSnapshot): `prefix` (its
// type and flags bytes), the field count, then the table's fields (with their values when
// `with_values`): the object's Serialize() form as it is now.
std::unique_ptr<storage::ObjectSnapshot> SnapshotTable(std::string_view prefix, FieldTable* table,
                                                       bool with_values);

}  // namespace dynakv::types
