// A hash value: field -> value, in one of Redis's two encodings.
// - listpack: every pair in one flat buffer (listpack.h: sized exactly; varint length + bytes,
//   field then value), in insertion order, found by a linear walk. Used while the hash has at most
//   hash_max_listpack_entries fields and no field or value longer than hash_max_listpack_value
//   bytes; walking it is what Redis does too, and its iteration order is Redis's.
// - hashtable: a chained hash table (field_table.h), O(1) per field.
// A hash converts listpack -> hashtable the moment a write crosses a threshold, never back (as
// Redis). The serialized form remembers a hashtable; a listpack is decoded as one unless its
// contents exceed the limits now in force.
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

#include "storage/object.h"
#include "types/listpack.h"
#include "types/value_type.h"

namespace dynakv::types {

class FieldTable;

class Hash final : public storage::ValueObject {
 public:
  enum class Encoding { kListpack, kHashtable };
  using Visitor = std::function<void(std::string_view field, std::string_view value)>;

  Hash();
  ~Hash() override;

  // --- storage::ValueObject -------------------------------------------------------------------
  std::size_t MemoryUsage() const override;
  // ValueType::kHash byte | flags byte (1: hashtable) | varint field count |
  // (varint len | field | varint len | value)*
  void Serialize(std::string* out) const override;
  bool Empty() const override { return size() == 0; }
  // A hashtable's snapshot settles one chunk per write (field_table.h); a compact encoding has
  // none (it is small: the engine serializes it whole before a write).
  std::unique_ptr<storage::ObjectSnapshot> StartSnapshot() override;
  void EndSnapshot() override;

  // The hash a Serialize() form (tag byte included) stands for; nullptr when malformed.
  static std::unique_ptr<Hash> Decode(std::string_view serialized, const TypeLimits& limits);
  // The Serialize() form of a new hash whose distinct fields `pairs` were Set in this order under
  // `limits`, when it stays a listpack: what those Sets build, without their walk per field.
  // False, writing nothing, when it would convert to a hashtable.
  static bool SerializeListpack(const std::vector<std::pair<std::string, std::string>>& pairs,
                                const TypeLimits& limits, std::string* out);

  Encoding encoding() const { return table() ? Encoding::kHashtable : Encoding::kListpack; }
  std::string_view EncodingName() const;  // OBJECT ENCODING: "listpack" / "hashtable"
  std::size_t size() const;

  std::optional<std::string_view> Get(std::string_view field) const;
  // True when the field is new. Converts to hashtable when the write crosses `limits`.
  bool Set(std::string_view field, std::string_view value, const TypeLimits& limits);
  bool Remove(std::string_view field);  // whether it existed

  // Every field, in the encoding's order (listpack: insertion order, as Redis).
  void ForEach(const Visitor& fn) const;
  // HSCAN: a listpack is returned whole (cursor 0), as Redis does; a hashtable from hash
  // position `cursor`, at least `count` fields. Returns the next cursor, 0 when done.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const;
  // A field chosen at random; the hash must not be empty.
  std::pair<std::string_view, std::string_view> Random(std::mt19937_64& rng) const;

 private:
  // Listpack walk: the offset of `field`'s entry, or npos.
  std::size_t Find(std::string_view field, std::string_view* value) const;
  void ConvertToTable();

  FieldTable* table() const { return rep_.table(); }  // set once converted

  // 8 bytes: with the vtable a Hash is 16, jemalloc's smallest class but one.
  CompactOrTable<FieldTable> rep_;
};

}  // namespace dynakv::types
