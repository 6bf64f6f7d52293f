// Keyspace access shared by the command families: read lookups that count
// keyspace hits and misses where Redis's lookupKeyRead would (GET, MGET, EXISTS, TTL, TYPE, ...;
// write-path lookups such as INCR's do not count), and the reply to a write the keyspace refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "command.h"
#include "keyspace.h"
#include "storage/engine.h"
#include "storage/object.h"
#include "storage/status.h"
#include "types/ops.h"

namespace dynakv::server {

// The value of `key`, counting a hit or a miss. Valid until the next keyspace call.
std::optional<storage::ValueRef> LookupRead(CommandContext& ctx, std::string_view key);

// What a key holds, for a command of one type's family (T: types::Hash, types::List, ...).
template <typename T>
struct TypedLookup {
  bool wrong_type = false;   // replied WRONGTYPE already
  const T* value = nullptr;  // null: no such key; valid until the next keyspace call
};

// The T `key` holds; WRONGTYPE replied when it holds anything else. `counted`: the lookup counts
// a keyspace hit or miss (read commands, as lookupKeyRead; write paths do not count).
template <typename T>
TypedLookup<T> LookupTyped(CommandContext& ctx, std::string_view key, bool counted) {
  TypedLookup<T> out;
  std::optional<storage::ValueRef> value = counted ? LookupRead(ctx, key) : ctx.keyspace.Get(key);
  if (!value) return out;
  out.value = dynamic_cast<const T*>(value->object());
  if (out.value == nullptr) {
    ctx.reply.Error(kErrWrongType);
    out.wrong_type = true;
  }
  return out;
}

// Whether `key` exists, counting a hit or a miss (EXISTS, TYPE).
bool ExistsRead(CommandContext& ctx, std::string_view key);

// The expiry of `key` (0: none; nullopt: no such key), counting a hit or a miss (TTL family).
std::optional<std::int64_t> ExpireAtRead(CommandContext& ctx, std::string_view key);

// Returns true when `status` is ok; otherwise replies with the error (the OOM text for a write
// refused under noeviction) and returns false, so a command replies exactly once.
bool WriteOk(CommandContext& ctx, const storage::Status& status);

// Whether a write the keyspace refused was refused for the key's type: a string under an
// element operation (storage::kHoldsString), or a typed value of another type, whose codec
// refuses the operation ("operation refused": the commands build only well-formed ones).
inline bool RefusedForType(const storage::Status& status) {
  return status.code() == storage::Status::Code::kInvalidArgument &&
         (status.message() == storage::kHoldsString || status.message() == "operation refused");
}

// Applies one element operation (a hash, set or list write); *result gets its count. Replies and
// returns false when the keyspace refuses: WRONGTYPE for another type (RefusedForType), "ERR
// <message>" for an invalid argument, the write error (WriteOk) otherwise.
bool ApplyElementOp(CommandContext& ctx, std::string_view key, const types::OpBuilder& op,
                    std::int64_t* result);

// String commands on a typed value (a hash, ...): replies WRONGTYPE and returns true, as Redis's
// checkType. Strings are the engine's plain values, so this is one pointer test.
inline bool ReplyIfNotString(CommandContext& ctx, const storage::ValueRef& value) {
  if (value.object() == nullptr) return false;
  ctx.reply.Error(kErrWrongType);
  return true;
}

// Appends `value` as a bulk string, decompressing straight into the output buffer.
void ReplyValue(resp::ReplyWriter& reply, const storage::ValueRef& value);

}  // namespace dynakv::server
