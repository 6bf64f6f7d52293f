// A set value: distinct members, in one of Redis 7.0's two encodings.
// - intset: every member is the canonical decimal text of a 64-bit integer (what Redis's
//   string2ll accepts: no sign '+', no leading zeros, no "-0"); held as sorted int64s, so
//   iteration is ascending, as Redis's intset. Used while the set has at most
//   set_max_intset_entries members.
// - hashtable: a chained hash table (field_table.h) of members, O(1) per member.
// A set converts intset -> hashtable the moment a write adds a non-integer or crosses the
// threshold, never back (as Redis 7.0: it has no listpack sets, that came with 7.2). The
// serialized form remembers a hashtable; otherwise decoding chooses as Redis builds a new set
// (intset while every member is an integer and there are few enough).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object.h"
#include "types/value_type.h"

namespace dynakv::types {

class FieldTable;

class Set final : public storage::ValueObject {
 public:
  enum class Encoding { kIntset, kHashtable };
  // The view is valid only during the call (an intset member is formatted on the fly).
  using Visitor = std::function<void(std::string_view member)>;

  Set();
  ~Set() override;

  // --- storage::ValueObject -------------------------------------------------------------------
  std::size_t MemoryUsage() const override;
  // ValueType::kSet byte | flags byte (1: hashtable) | varint count | (varint len | member)*
  void Serialize(std::string* out) const override;
  bool Empty() const override { return size() == 0; }
  // A hashtable's snapshot settles one chunk per write (field_table.h); a compact encoding has
  // none (it is small: the engine serializes it whole before a write).
  std::unique_ptr<storage::ObjectSnapshot> StartSnapshot() override;
  void EndSnapshot() override;

  // The set a Serialize() form (tag byte included) stands for; nullptr when malformed.
  static std::unique_ptr<Set> Decode(std::string_view serialized, const TypeLimits& limits);
  // The serialized form of a new set of `members` (distinct): what SINTERSTORE and friends
  // store; it decodes as Redis builds a new set (intset when it can be one).
  static void SerializeMembers(const std::vector<std::string>& members, std::string* out);

  // Whether `member` is what an intset may hold, and its value.
  static bool AsInteger(std::string_view member, std::int64_t* value);

  Encoding encoding() const { return table_ ? Encoding::kHashtable : Encoding::kIntset; }
  std::string_view EncodingName() const;  // OBJECT ENCODING: "intset" / "hashtable"
  std::size_t size() const;

  bool Contains(std::string_view member) const;
  // True when the member is new. Converts to hashtable when the write crosses `limits`.
  bool Add(std::string_view member, const TypeLimits& limits);
  bool Remove(std::string_view member);  // whether it existed

  // Every member, in the encoding's order (intset: ascending, as Redis).
  void ForEach(const Visitor& fn) const;
  // SSCAN: an intset is returned whole (cursor 0), as Redis does; a hashtable from hash position
  // `cursor`, at least `count` members. Returns the next cursor, 0 when done.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const;
  // A member chosen at random; the set must not be empty.
  std::string Random(std::mt19937_64& rng) const;

 private:
  void ConvertToTable();

  std::vector<std::int64_t> ints_;     // the intset, sorted
  std::unique_ptr<FieldTable> table_;  // set once converted
};

}  // namespace dynakv::types
