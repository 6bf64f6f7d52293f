// Element operations on typed values: what Engine::Mutate logs and TypesCodec::Apply performs.
// Format: opcode byte | varint argument count | (varint length | bytes) per argument. Opcodes are
// on disk (in commit logs): never reuse one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::types {

enum class OpCode : std::uint8_t {
  kHashSet = 1,  // field value [field value ...]; result: how many fields were new
  kHashDel = 2,  // field [field ...]; result: how many fields were removed
  kSetAdd = 30,  // member [member ...]; result: how many members were new
  kSetRem = 31,  // member [member ...]; result: how many members were removed
  // Lists (10-29). Indexes and counts are decimal text; result: as noted.
  kListPushFront = 10,  // element [element ...] (each pushed in turn); result: the new length
  kListPushBack = 11,   // element [element ...]; result: the new length
  kListPopFront = 12,   // count; result: how many were popped
  kListPopBack = 13,    // count; result: how many were popped
  kListSet = 14,        // index (0 <= index < length) element
  kListInsert = 15,     // "before"|"after" pivot element; result: the new length, -1: no pivot
  kListRemove = 16,     // count element (LREM's count); result: how many were removed
  kListTrim = 17,       // head tail: how many elements to drop at each end
  // Sorted sets (50-69). Scores are resolved by the command (ZINCRBY logs the resulting score)
  // and travel as 8 little-endian bytes (EncodeScoreArg), exact and never NaN.
  kZsetAdd = 50,  // score member [score member ...]: add or move; result: how many were new
  kZsetRem = 51,  // member [member ...]; result: how many were removed
};

// Builds one operation.
class OpBuilder {
 public:
  OpBuilder(OpCode code, std::size_t args);
  OpBuilder& Add(std::string_view arg);
  // The operation; the builder must have been given exactly `args` arguments.
  const std::string& op() const { return op_; }

 private:
  std::string op_;
};

// A parsed operation; views point into the op's bytes.
struct Op {
  OpCode code{};
  std::vector<std::string_view> args;
};

// False when `op` is malformed.
bool ParseOp(std::string_view op, Op* out);

// Whether an applied `op` whose result was `result` changed nothing (SADD of members all there,
// SREM/HDEL/ZREM/LREM that removed none): Redis signals no key modification for those, so WATCH
// and the other consumers of the signal are not told. A malformed op counts as a change.
bool OpChangedNothing(std::string_view op, std::int64_t result);

// A score as kZsetAdd carries it, and back (false when not 8 bytes or NaN).
std::string EncodeScoreArg(double score);
bool DecodeScoreArg(std::string_view arg, double* score);

// Varint helpers shared by the encodings.
void PutVarint(std::string* dst, std::uint64_t v);
bool GetVarint(std::string_view* in, std::uint64_t* v);
bool GetLengthPrefixed(std::string_view* in, std::string_view* out);

}  // namespace dynakv::types
