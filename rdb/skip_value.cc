// Skipping what this store cannot hold: stream values (rdb.c's RDB_TYPE_STREAM_LISTPACKS*
// branch of rdbLoadObject, field by field) and module values (rdbLoadCheckModuleValue), so an
// RDB file holding them still loads, with the keys counted as skipped.
#include "rdb/file_reader.h"
#include "rdb/primitives.h"

namespace dynakv::rdb {

namespace {

// The opcodes of a module value's self-describing form (rdb.h's RDB_MODULE_OPCODE_*).
constexpr std::uint64_t kModuleEof = 0;
constexpr std::uint64_t kModuleSint = 1;
constexpr std::uint64_t kModuleUint = 2;
constexpr std::uint64_t kModuleFloat = 3;
constexpr std::uint64_t kModuleDouble = 4;
constexpr std::uint64_t kModuleString = 5;

bool SkipBytes(std::string_view* in, std::size_t n) {
  if (in->size() < n) return false;
  in->remove_prefix(n);
  return true;
}

bool SkipLengths(std::string_view* in, int n) {
  std::uint64_t ignored;
  for (int i = 0; i < n; ++i) {
    if (!GetLength(in, &ignored)) return false;
  }
  return true;
}

bool SkipString(std::string_view* in) {
  std::string ignored;
  return GetString(in, &ignored);
}

bool SkipStream(ObjectType type, std::string_view* in) {
  const int version = type == ObjectType::kStreamListpacks    ? 1
                      : type == ObjectType::kStreamListpacks2 ? 2
                                                              : 3;
  std::uint64_t listpacks;
  if (!GetLength(in, &listpacks)) return false;
  for (std::uint64_t i = 0; i < listpacks; ++i) {
    std::string node_key;
    if (!GetString(in, &node_key) || node_key.size() != 16 || !SkipString(in)) return false;
  }
  // length, last id; then first id, max deleted id and entries added in version 2 and later.
  if (!SkipLengths(in, version >= 2 ? 8 : 3)) return false;
  std::uint64_t groups;
  if (!GetLength(in, &groups)) return false;
  for (std::uint64_t g = 0; g < groups; ++g) {
    if (!SkipString(in) || !SkipLengths(in, version >= 2 ? 3 : 2)) return false;
    std::uint64_t pending;
    if (!GetLength(in, &pending)) return false;
    for (std::uint64_t p = 0; p < pending; ++p) {
      // raw id, delivery time, delivery count
      if (!SkipBytes(in, 16 + 8) || !SkipLengths(in, 1)) return false;
    }
    std::uint64_t consumers;
    if (!GetLength(in, &consumers)) return false;
    for (std::uint64_t c = 0; c < consumers; ++c) {
      if (!SkipString(in) || !SkipBytes(in, version >= 3 ? 16 : 8)) return false;
      std::uint64_t owned;
      if (!GetLength(in, &owned) || owned > in->size() / 16 || !SkipBytes(in, owned * 16)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

// rdbLoadCheckModuleValue: opcodes up to EOF. Shared with MODULE_AUX (file_reader.cc).
bool SkipModuleOpcodes(std::string_view* in) {
  for (;;) {
    std::uint64_t opcode;
    if (!GetLength(in, &opcode)) return false;
    switch (opcode) {
      case kModuleEof:
        return true;
      case kModuleSint:
      case kModuleUint:
        if (!SkipLengths(in, 1)) return false;
        break;
      case kModuleFloat:
        if (!SkipBytes(in, 4)) return false;
        break;
      case kModuleDouble:
        if (!SkipBytes(in, 8)) return false;
        break;
      case kModuleString:
        if (!SkipString(in)) return false;
        break;
      default:
        return false;
    }
  }
}

bool SkipUnsupportedValue(ObjectType type, std::string_view* in) {
  switch (type) {
    case ObjectType::kStreamListpacks:
    case ObjectType::kStreamListpacks2:
    case ObjectType::kStreamListpacks3:
      return SkipStream(type, in);
    case ObjectType::kModule2:
      return SkipLengths(in, 1) && SkipModuleOpcodes(in);  // module id, then the opcodes
    default:
      return false;  // RDB_TYPE_MODULE (pre-4.0 RC) has no self-describing form
  }
}

}  // namespace dynakv::rdb
