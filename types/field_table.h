// The scalable encoding of a hash and of a set ("hashtable"): a chained hash table of field ->
// value, one allocation per field, over rehashing_buckets.h's array (bucket = the TOP bits of
// the field's hash, so an HSCAN cursor is a position in hash space that stays valid across
// resizes; resized incrementally, a few buckets per write).
//
// Snapshots (StartSnapshot): a checkpoint serializes the table on its background thread while
// the owner thread keeps writing. The table is cut into chunks of hash space; before a write
// changes a chunk, the owner serializes that chunk as it was (or waits for the background
// thread, which is serializing it), so a write waits for at most one small chunk, never for the
// whole table. Resizing pauses meanwhile (it moves fields between chunks' buckets in place).
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
  std::size_t bytes() const { return node_bytes_ + buckets_.slots() * sizeof(void*); }
  bool rehashing() const { return buckets_.rehashing(); }

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
  struct Chain {
    static NodePtr& Next(Node& n);
    static std::uint64_t Hash(const Node& n);
  };

  static NodePtr MakeNode(std::string_view field, std::string_view value);
  static std::size_t NodeBytes(const Node& n);
  void MaybeResize();

  RehashingBuckets<NodePtr, Chain> buckets_;
  std::size_t size_ = 0;
  std::size_t node_bytes_ = 0;
  std::size_t payload_bytes_ = 0;  // fields and values
  Snapshot* snapshot_ = nullptr;
};

// A serialization of a FieldTable that runs on one thread (Serialize) while the owner writes on
// another (Settle, called by the table's writes): a chunk is a range of hash space.
class FieldTable::Snapshot final : public ChunkedSnapshot {
 public:
  Snapshot(const FieldTable& table, bool with_values, unsigned chunk_bits);

  std::size_t size() const { return size_; }  // fields when it started
  // The owner thread, before it changes anything at hash position `hash`.
  void Settle(std::uint64_t hash) { SettleChunk(static_cast<std::size_t>(hash >> chunk_shift_)); }

 private:
  void SerializeChunk(std::size_t c, std::string* out) const override;

  const FieldTable& table_;
  const bool with_values_;
  const unsigned chunk_shift_;
  const std::size_t size_;
};

// The snapshot of a set or a hash held as a table (ValueObject::StartSnapshot): `prefix` (its
// type and flags bytes), the field count, then the table's fields (with their values when
// `with_values`): the object's Serialize() form as it is now.
std::unique_ptr<storage::ObjectSnapshot> SnapshotTable(std::string_view prefix, FieldTable* table,
                                                       bool with_values);

}  // namespace dynakv::types
