// The scalable encoding of a hash ("hashtable"): a chained hash table of field -> value, one
// allocation per field. Bucket index = the TOP bits of the field's 64-bit hash, as in the
// memtable, so walking buckets in order visits fields in hash order: an HSCAN cursor is a plain
// position in hash space that stays valid across rehashing (every field present for a whole scan
// is returned at least once, as Redis guarantees).
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

namespace dynakv::types {

class FieldTable {
 public:
  using Visitor = std::function<void(std::string_view field, std::string_view value)>;

  FieldTable();
  ~FieldTable();
  FieldTable(const FieldTable&) = delete;
  FieldTable& operator=(const FieldTable&) = delete;

  std::optional<std::string_view> Get(std::string_view field) const;
  // Inserts or overwrites; true when the field is new.
  bool Set(std::string_view field, std::string_view value);
  bool Remove(std::string_view field);  // whether it existed

  std::size_t size() const { return size_; }
  // Memory held: nodes (with an allowance for the allocator's rounding) and buckets.
  std::size_t bytes() const { return node_bytes_ + buckets_.size() * sizeof(void*); }

  void ForEach(const Visitor& fn) const;
  // Appends every pair as the serialized form wants it (varint length | field | varint length |
  // value), in one pass with the output sized up front: a checkpoint does this on the loop.
  void AppendPairs(std::string* out) const;
  // Visits whole buckets from hash position `cursor` until at least `count` fields were passed;
  // returns the next cursor, 0 once the end was reached.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const;
  // A field chosen at random (the table must not be empty).
  std::pair<std::string_view, std::string_view> Random(std::mt19937_64& rng) const;

 private:
  struct Node;
  struct NodeDeleter {
    void operator()(Node* n) const;
  };
  using NodePtr = std::unique_ptr<Node, NodeDeleter>;

  static NodePtr MakeNode(std::string_view field, std::string_view value);
  static std::size_t NodeBytes(const Node& n);
  std::size_t BucketOf(std::uint64_t hash) const {
    return static_cast<std::size_t>(hash >> shift_);
  }
  void Resize(unsigned bits);

  std::vector<NodePtr> buckets_;
  unsigned bits_;
  unsigned shift_;
  std::size_t size_ = 0;
  std::size_t node_bytes_ = 0;
  std::size_t payload_bytes_ = 0;  // fields and values
};

}  // namespace dynakv::types
