// Hash commands (Redis's t_hash.c), with Redis 7.0's semantics, error texts and RESP2/RESP3
// reply types. Reads walk the types::Hash the keyspace returns; every write is one element
// operation (types/ops.h) given to Keyspace::Mutate, so the commit log holds the changed fields,
// never the whole hash. Computed values (HINCRBY, HINCRBYFLOAT) are resolved here and logged as
// plain sets, so replay needs no arithmetic.

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ascii.h"
#include "command.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "notify.h"
#include "number_parse.h"
#include "random_with_count.h"
#include "scan_options.h"
#include "storage/engine.h"
#include "types/hash.h"
#include "types/ops.h"

namespace dynakv::server {

namespace {

void ReplyCount(CommandContext& ctx, std::size_t n) {
  ctx.reply.Integer(static_cast<long long>(n));
}

// HSET key field value [field value ...] / HMSET (which replies OK).
void HSetGeneric(CommandContext& ctx, bool hmset) {
  if (ctx.argv.size() % 2 == 1) {
    ReplyWrongArity(ctx.reply, hmset ? "hmset" : "hset");
    return;
  }
  const std::string_view key = ctx.argv[1];
  // No lookup of its own: the keyspace refuses a string key (WRONGTYPE, in Apply).
  types::OpBuilder op(types::OpCode::kHashSet, ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) op.Add(ctx.argv[i]);
  std::int64_t added = 0;
  if (!ApplyElementOp(ctx, key, op, &added)) return;
  NotifyKeyspaceEvent(ctx, kNotifyHash, "hset", key);
  if (hmset) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Integer(added);
  }
}

void HSetCommand(CommandContext& ctx) { HSetGeneric(ctx, false); }
void HMSetCommand(CommandContext& ctx) { HSetGeneric(ctx, true); }

void HSetNxCommand(CommandContext& ctx) {
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::Hash>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value != nullptr && found.value->Get(ctx.argv[2])) {
    ctx.reply.Integer(0);
    return;
  }
  types::OpBuilder op(types::OpCode::kHashSet, 2);
  op.Add(ctx.argv[2]).Add(ctx.argv[3]);
  std::int64_t added = 0;
  if (!ApplyElementOp(ctx, key, op, &added)) return;
  NotifyKeyspaceEvent(ctx, kNotifyHash, "hset", key);
  ctx.reply.Integer(1);
}

void HGetCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  std::optional<std::string_view> value;
  if (found.value != nullptr) value = found.value->Get(ctx.argv[2]);
  if (value) {
    ctx.reply.Bulk(*value);
  } else {
    ctx.reply.Null();
  }
}

void HMGetCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.ArrayHeader(ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    std::optional<std::string_view> value;
    if (found.value != nullptr) value = found.value->Get(ctx.argv[i]);
    if (value) {
      ctx.reply.Bulk(*value);
    } else {
      ctx.reply.Null();
    }
  }
}

void HDelCommand(CommandContext& ctx) {
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::Hash>(ctx, key, false);
  if (found.wrong_type) return;
  std::size_t present = 0;
  if (found.value != nullptr) {
    for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
      if (found.value->Get(ctx.argv[i])) ++present;
    }
  }
  if (present == 0) {  // nothing changes: nothing to log
    ctx.reply.Integer(0);
    return;
  }
  types::OpBuilder op(types::OpCode::kHashDel, ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) op.Add(ctx.argv[i]);
  std::int64_t removed = 0;
  if (!ApplyElementOp(ctx, key, op, &removed)) return;
  NotifyKeyspaceEvent(ctx, kNotifyHash, "hdel", key);
  NotifyIfEmptied(ctx, key);
  ctx.reply.Integer(removed);
}

void HLenCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ReplyCount(ctx, found.value != nullptr ? found.value->size() : 0);
}

void HExistsCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.Integer(found.value != nullptr && found.value->Get(ctx.argv[2]) ? 1 : 0);
}

void HStrLenCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  std::optional<std::string_view> value;
  if (found.value != nullptr) value = found.value->Get(ctx.argv[2]);
  ReplyCount(ctx, value ? value->size() : 0);
}

// HGETALL (a map in RESP3), HKEYS, HVALS.
void HGetAllGeneric(CommandContext& ctx, bool keys, bool values) {
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  const std::size_t n = found.value != nullptr ? found.value->size() : 0;
  if (keys && values) {
    ctx.reply.MapHeader(n);
  } else {
    ctx.reply.ArrayHeader(n);
  }
  if (found.value == nullptr) return;
  found.value->ForEach([&](std::string_view field, std::string_view value) {
    if (keys) ctx.reply.Bulk(field);
    if (values) ctx.reply.Bulk(value);
  });
}

void HGetAllCommand(CommandContext& ctx) { HGetAllGeneric(ctx, true, true); }
void HKeysCommand(CommandContext& ctx) { HGetAllGeneric(ctx, true, false); }
void HValsCommand(CommandContext& ctx) { HGetAllGeneric(ctx, false, true); }

void HIncrByCommand(CommandContext& ctx) {
  long long incr = 0;
  if (!ParseLongLong(ctx.argv[3], &incr)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::Hash>(ctx, key, false);
  if (found.wrong_type) return;
  long long value = 0;
  if (found.value != nullptr) {
    if (std::optional<std::string_view> current = found.value->Get(ctx.argv[2])) {
      if (!ParseLongLong(*current, &value)) {
        ctx.reply.Error("ERR hash value is not an integer");
        return;
      }
    }
  }
  constexpr long long kMin = std::numeric_limits<long long>::min();
  constexpr long long kMax = std::numeric_limits<long long>::max();
  if ((incr < 0 && value < 0 && incr < kMin - value) ||
      (incr > 0 && value > 0 && incr > kMax - value)) {
    ctx.reply.Error(kErrOverflow);
    return;
  }
  value += incr;
  char text[24];
  const std::to_chars_result end = std::to_chars(text, text + sizeof(text), value);
  types::OpBuilder op(types::OpCode::kHashSet, 2);
  op.Add(ctx.argv[2]).Add(std::string_view(text, static_cast<std::size_t>(end.ptr - text)));
  std::int64_t added = 0;
  if (!ApplyElementOp(ctx, key, op, &added)) return;
  NotifyKeyspaceEvent(ctx, kNotifyHash, "hincrby", key);
  ctx.reply.Integer(value);
}

void HIncrByFloatCommand(CommandContext& ctx) {
  long double incr = 0;
  if (!ParseLongDouble(ctx.argv[3], &incr)) {
    ctx.reply.Error(kErrNotFloat);
    return;
  }
  if (std::isnan(incr) || std::isinf(incr)) {
    ctx.reply.Error("ERR value is NaN or Infinity");
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::Hash>(ctx, key, false);
  if (found.wrong_type) return;
  long double value = 0;
  if (found.value != nullptr) {
    if (std::optional<std::string_view> current = found.value->Get(ctx.argv[2])) {
      if (!ParseLongDouble(*current, &value)) {
        ctx.reply.Error("ERR hash value is not a float");
        return;
      }
    }
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply.Error("ERR increment would produce NaN or Infinity");
    return;
  }
  const std::string text = FormatLongDouble(value);
  types::OpBuilder op(types::OpCode::kHashSet, 2);
  op.Add(ctx.argv[2]).Add(text);
  std::int64_t added = 0;
  if (!ApplyElementOp(ctx, key, op, &added)) return;
  NotifyKeyspaceEvent(ctx, kNotifyHash, "hincrbyfloat", key);
  ctx.reply.Bulk(text);
}

void HRandFieldCommand(CommandContext& ctx) {
  if (ctx.argv.size() >= 3) {
    long long count = 0;
    bool withvalues = false;
    if (!ParseRandomCount(ctx, "withvalues", &count, &withvalues)) return;
    const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
    if (found.wrong_type) return;
    if (found.value == nullptr || count == 0) {
      ctx.reply.ArrayHeader(0);
      return;
    }
    const types::Hash& hash = *found.value;
    const auto for_each = [&](auto fn) { hash.ForEach(fn); };
    // One element: a field, or with values a pair (a 2-array in RESP3, flat in RESP2).
    ReplyRandomWithCount<std::string_view>(
        ctx, hash.size(), count, withvalues, [&](std::mt19937_64& rng) { return hash.Random(rng); },
        for_each, for_each,
        [&](std::string_view field, std::string_view value) {
          if (withvalues && ctx.reply.protocol() > 2) ctx.reply.ArrayHeader(2);
          ctx.reply.Bulk(field);
          if (withvalues) ctx.reply.Bulk(value);
        });
    return;
  }
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Bulk(found.value->Random(ctx.server.rng()).first);
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
void HScanCommand(CommandContext& ctx) {
  std::uint64_t cursor = 0;
  if (!ParseScanCursor(ctx, ctx.argv[2], &cursor)) return;
  const auto found = LookupTyped<types::Hash>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {  // Redis's empty scan reply, before the options are looked at
    ReplyEmptyScan(ctx);
    return;
  }
  ScanOptions options;
  if (!ParseScanOptions(ctx, 3, false, &options)) return;
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  const std::uint64_t next = found.value->Scan(cursor, static_cast<std::size_t>(options.count),
                                               [&](std::string_view f, std::string_view v) {
                                                 if (options.Matches(f)) pairs.emplace_back(f, v);
                                               });
  ReplyScanCursor(ctx, next);
  ctx.reply.ArrayHeader(pairs.size() * 2);
  for (const auto& [field, value] : pairs) {
    ctx.reply.Bulk(field);
    ctx.reply.Bulk(value);
  }
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them (COMMAND INFO).
// clang-format off
constexpr CommandSpec kHashCommands[] = {
    {.name = "hset", .arity = -4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent,
     .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = HSetCommand},
    {.name = "hsetnx", .arity = 4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent,
     .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = HSetNxCommand},
    {.name = "hmset", .arity = -4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent,
     .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = HMSetCommand},
    {.name = "hget", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = HGetCommand},
    {.name = "hmget", .arity = -3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = HMGetCommand},
    {.name = "hgetall", .arity = 2, .flags = kCmdReadOnly, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output_order",
     .handler = HGetAllCommand},
    {.name = "hkeys", .arity = 2, .flags = kCmdReadOnly, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output_order",
     .handler = HKeysCommand},
    {.name = "hvals", .arity = 2, .flags = kCmdReadOnly, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output_order",
     .handler = HValsCommand},
    {.name = "hdel", .arity = -3, .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent,
     .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = HDelCommand},
    {.name = "hlen", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO)}, .handler = HLenCommand},
    {.name = "hexists", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO)}, .handler = HExistsCommand},
    {.name = "hstrlen", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO)}, .handler = HStrLenCommand},
    {.name = "hincrby", .arity = 4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent | kCmdClusterCounter, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .handler = HIncrByCommand},
    {.name = "hincrbyfloat", .arity = 4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent,
     .acl = kAclHash, .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)},
     .handler = HIncrByFloatCommand},
    {.name = "hrandfield", .arity = -2, .flags = kCmdReadOnly, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = HRandFieldCommand},
    {.name = "hscan", .arity = -3, .flags = kCmdReadOnly, .acl = kAclHash,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = HScanCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> HashCommands() { return kHashCommands; }

}  // namespace dynakv::server
