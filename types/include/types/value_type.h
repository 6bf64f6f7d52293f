// The type tag of stored values, and the names Redis gives types and encodings.
//
// Contract for every type of this library (hashes now; lists, sets, sorted sets, bitmaps and
// HyperLogLog follow the same pattern):
// - A string is never an object: it stays the engine's plain bytes (the fast path). Bitmaps and
//   HyperLogLog are strings, as in Redis.
// - Every other type is a storage::ValueObject whose Serialize() form starts with its ValueType
//   byte; TypesCodec (codec.h) decodes any of them. The byte values are on disk: never reuse one.
// - Each type has a compact encoding for small values and a scalable one for large ones, chosen by
//   Redis's thresholds (TypeLimits), converting one way (compact -> scalable) as Redis does, and
//   choosing afresh when a value is decoded from disk (as Redis does when loading an RDB).
// - A write to one element is an operation (ops.h) applied through TypesCodec::Apply, live and in
//   recovery alike; the log holds the operation, never the whole value. An operation must be
//   deterministic: anything random or computed (HINCRBYFLOAT's sum) is resolved by the command
//   before it builds the operation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dynakv::types {

enum class ValueType : std::uint8_t {
  kString = 0,  // never serialized as an object: the engine's plain values
  kHash = 1,
  kList = 2,
  kSet = 3,
  kSortedSet = 4,
};

// TYPE's answer: "string", "hash", "list", "set", "zset".
std::string_view TypeName(ValueType type);

// The thresholds between compact and scalable encodings (Redis's config names).
struct TypeLimits {
  std::size_t hash_max_listpack_entries = 512;  // hash-max-listpack-entries
  std::size_t hash_max_listpack_value = 64;     // hash-max-listpack-value
  std::size_t set_max_intset_entries = 512;     // set-max-intset-entries
  // list-max-listpack-size: entries per list node when positive, -1..-5: 4..64 KB per node.
  long long list_max_listpack_size = -2;
  // list-compress-depth: list nodes this far from both ends are LZ4-compressed; 0: none (list.h).
  std::size_t list_compress_depth = 0;
  std::size_t zset_max_listpack_entries = 128;  // zset-max-listpack-entries
  std::size_t zset_max_listpack_value = 64;     // zset-max-listpack-value
};

}  // namespace dynakv::types
