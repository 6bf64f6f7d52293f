// One value in Redis's RDB serialization (rdb.c's rdbSaveObject / rdbLoadObject): what DUMP and
// RESTORE carry, and what an RDB file holds after each key.
//
// Encoding writes what Redis 7.0 (RDB version 10) writes for the same value in the same encoding:
// a hash or sorted set in its listpack encoding as RDB_TYPE_*_LISTPACK, a list as quicklist 2
// nodes split as RPUSHes would split them, an intset set as RDB_TYPE_SET_INTSET, the scalable
// encodings element by element, strings int-encoded or LZF-compressed as rdbSaveRawString does.
// A small value built the same way is therefore byte for byte Redis's DUMP; a large one holds the
// same contents in our own iteration order.
//
// Decoding reads every type and encoding Redis 6.x and 7.0 write (and the older list, sorted set
// and zipmap hash forms), checking everything: a malformed value is refused, never trusted (no size is
// believed beyond the bytes present, listpacks and ziplists are walked entry by entry, duplicate
// members and empty collections are corrupt). The value is built with the encodings `limits`
// choose, as Redis converts on load. Streams and module values are recognized and refused as
// unsupported.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object.h"
#include "types/value_type.h"

namespace dynakv::types {
class List;
}

namespace dynakv::rdb {

// Redis's object type bytes (rdb.h). On disk in Redis's files: never renumber.
enum class ObjectType : std::uint8_t {
  kString = 0,
  kList = 1,
  kSet = 2,
  kZset = 3,
  kHash = 4,
  kZset2 = 5,
  kModule = 6,
  kModule2 = 7,
  kHashZipmap = 9,
  kListZiplist = 10,
  kSetIntset = 11,
  kZsetZiplist = 12,
  kHashZiplist = 13,
  kListQuicklist = 14,
  kStreamListpacks = 15,
  kHashListpack = 16,
  kZsetListpack = 17,
  kListQuicklist2 = 18,
  kStreamListpacks2 = 19,
  kSetListpack = 20,       // Redis 7.2
  kStreamListpacks3 = 21,  // Redis 7.2
};

struct EncodeOptions {
  bool compress = true;                   // rdbcompression
  long long list_max_listpack_size = -2;  // how list nodes are split (list-max-listpack-size)
};

// The listpacks a list is stored in, as Redis's quicklist splits it under list-max-listpack-size
// (EncodeList writes the same ones): each node's element count and bytes, in order.
struct ListNode {
  std::size_t count = 0;
  std::size_t bytes = 0;
};
std::vector<ListNode> ListNodes(const types::List& list, long long list_max_listpack_size);

// Appends the type byte and the value: a string's bytes, or a typed value (types/).
void EncodeString(std::string_view bytes, const EncodeOptions& options, std::string* out);
void EncodeObject(const storage::ValueObject& object, const EncodeOptions& options,
                  std::string* out);

enum class DecodeError {
  kNone,
  kCorrupt,      // not a well-formed value
  kUnsupported,  // well formed as far as the type byte goes, of a type this store lacks
};

struct DecodedValue {
  // The value: a typed value, or null for a string whose bytes are in `string`.
  std::unique_ptr<storage::ValueObject> object;
  std::string string;
  ObjectType type = ObjectType::kString;  // as the input named it
};

// Reads one value of type `type` from *in, advancing it past the value.
DecodeError DecodeValue(ObjectType type, std::string_view* in, const types::TypeLimits& limits,
                        DecodedValue* out);
// Reads the type byte, then the value.
DecodeError DecodeTypedValue(std::string_view* in, const types::TypeLimits& limits,
                             DecodedValue* out);

// "stream" or "module", for DecodeError::kUnsupported's report.
std::string_view ObjectTypeName(ObjectType type);

}  // namespace dynakv::rdb
