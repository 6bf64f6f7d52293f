// A list value: a deque of elements, in Redis's quicklist layout.
// - Each node is a listpack: one flat buffer of entries (varint length | bytes | backward
//   length), walkable from either end, so pushes and pops at both ends touch one small node.
// - A node holds at most `list_max_listpack_size` entries when that is positive (and never more
//   than 8 KB, Redis's safety limit), or at most 4/8/16/32/64 KB of entries for -1..-5.
// - A small list is a single node: that is the compact encoding; a large one is many nodes. Redis
//   7.0 names both "quicklist" (OBJECT ENCODING), and so does EncodingName().
// Middle edits (LSET, LINSERT) rewrite one node; LREM rebuilds the nodes it walks.
// - list-compress-depth (TypeLimits::list_compress_depth) d > 0: as Redis, the d nodes at each end
//   stay raw and every node further in is LZ4-compressed (LZ4 where Redis has LZF: the project's
//   compressor), unless it is under 48 bytes or compression saves less than 8. A write to a
//   compressed node decompresses it; reads decompress into a buffer of their own, so a read
//   changes nothing (storage/object.h: reads may run on two threads). Pushes and pops keep the
//   boundary as Redis does, one node at each end per operation; a list decoded from disk or
//   RESTOREd is compressed as it is built.
// - Snapshots (StartSnapshot, types/chunked_snapshot.h): a checkpoint serializes a list of more
//   than one node on its background thread while the owner keeps writing. The nodes it has at
//   the start are cut into up to 1,024 runs; before a write changes one of them (or drops it),
//   the owner settles the run holding it, so a push or pop waits for one run at most, and nodes
//   made later belong to no run (RPUSHes settle the last run once, then fill new nodes). A write
//   that inserts or erases a node in the middle (LINSERT or LSET splitting a node, LREM emptying
//   one) moves nodes inside the deque, so it settles every run first, as a list without
//   snapshots was serialized whole before any write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object.h"
#include "types/value_type.h"

namespace dynakv::types {

class List final : public storage::ValueObject {
 public:
  using Visitor = std::function<bool(std::string_view element)>;  // false stops the walk

  List() = default;

  // --- storage::ValueObject -------------------------------------------------------------------
  std::size_t MemoryUsage() const override { return sizeof(List) + bytes_; }
  // ValueType::kList byte | varint element count | (varint len | element)*
  void Serialize(std::string* out) const override;
  bool Empty() const override { return size_ == 0; }
  // nullptr for a compact list (one node): serialized whole, as before.
  std::unique_ptr<storage::ObjectSnapshot> StartSnapshot() override;
  void EndSnapshot() override;

  // The list a Serialize() form (tag byte included) stands for; nullptr when malformed.
  static std::unique_ptr<List> Decode(std::string_view serialized, const TypeLimits& limits);

  std::string_view EncodingName() const { return "quicklist"; }  // Redis 7.0's only one
  std::size_t size() const { return size_; }
  std::size_t node_count() const { return nodes_.size(); }
  // Whether it is one node (the compact encoding).
  bool compact() const { return nodes_.size() <= 1; }

  void PushFront(std::string_view element, const TypeLimits& limits);
  void PushBack(std::string_view element, const TypeLimits& limits);
  // The list must not be empty.
  std::string PopFront();
  std::string PopBack();

  // Element at `index` (0-based from the head); index < size().
  std::string At(std::size_t index) const;
  // Replaces the element at `index` < size().
  void Set(std::size_t index, std::string_view element, const TypeLimits& limits);
  // Inserts before (or after) the first element equal to `pivot`; false when there is none.
  bool Insert(std::string_view pivot, std::string_view element, bool before,
              const TypeLimits& limits);
  // LREM: removes up to |count| elements equal to `element` (from the tail when count < 0, all
  // when 0). Returns how many.
  std::size_t Remove(long long count, std::string_view element, const TypeLimits& limits);

  // Whether node `at` (< node_count()) is held compressed (list-compress-depth; tests).
  bool node_compressed(std::size_t at) const { return nodes_[at].compressed; }

  // Elements [start, start + n) from the head, in order (n may run past the end). The views
  // passed to fn are valid during the call only.
  void ForRange(std::size_t start, std::size_t n, const Visitor& fn) const;
  // Whether the nodes agree with the counts (tests): every node non-empty, its entries parse to
  // its count, the counts sum to size().
  bool Consistent() const;

  // Elements from the tail backwards: index size()-1, size()-2, ...
  void ForEachReverse(const Visitor& fn) const;

 private:
  class Snapshot;  // list_snapshot.cc
  struct Node {
    std::string buf;  // entries; when `compressed`, their LZ4 block
    std::size_t count = 0;
    std::uint32_t raw_size = 0;  // when compressed: the entries' size
    bool compressed = false;
    bool tried = false;  // compression was tried and did not pay; reset by a change
  };

  // The node's entries: its buffer, or (compressed) *scratch holding them decompressed.
  static std::string_view Bytes(const Node& node, std::string* scratch);
  // Appends the node's elements as the serialized form holds them (varint length | element).
  static void AppendSerialized(const Node& node, std::string* out, std::string* scratch);
  // Node `at`'s entries for a change: decompressed in place first when compressed.
  std::string& Raw(std::size_t at);
  // Compresses node `at` when that pays (list-compress-depth).
  void Compress(std::size_t at);
  // Before node `at` changes or leaves the list: a snapshot's run holding it is settled.
  void Touch(std::size_t at) {
    if (snapshot_ != nullptr) TouchSnapshot(at);
  }
  void TouchSnapshot(std::size_t at);
  // Before nodes move inside the deque: every run of a snapshot is settled.
  void TouchAll();
  // A node was added (+1) or dropped (-1) at the front: the snapshot's nodes moved in the deque.
  void ShiftSnapshot(long long by);
  // After a push or pop: the nodes at each end within the depth raw, the first interior ones
  // compressed.
  void Settle();
  // Whether node `at` is farther than the depth from both ends.
  bool Interior(std::size_t at) const;

  bool Fits(const Node& node, std::size_t element_bytes, const TypeLimits& limits) const;
  // The node holding `index`, and the index within it.
  std::size_t Locate(std::size_t index, std::size_t* within) const;
  // Replaces node `at` with nodes holding `elements`, split by the limits.
  void Rebuild(std::size_t at, const std::vector<std::string>& elements, const TypeLimits& limits);
  void Account(long long delta) {
    bytes_ = static_cast<std::size_t>(static_cast<long long>(bytes_) + delta);
  }

  std::deque<Node> nodes_;
  std::size_t depth_ = 0;  // list-compress-depth as of the last write that was given the limits
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;         // entry bytes plus node overhead (MemoryUsage stays O(1))
  Snapshot* snapshot_ = nullptr;  // between StartSnapshot and EndSnapshot, while runs are left
};

// The node limit of a list-max-listpack-size value: entries when positive, bytes when not.
struct ListFill {
  std::size_t max_entries;  // 0: no entry limit
  std::size_t max_bytes;
};
ListFill ListFillOf(long long list_max_listpack_size);

}  // namespace dynakv::types
