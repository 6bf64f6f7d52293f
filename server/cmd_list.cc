// List commands (Redis's t_list.c), with Redis 7.0's semantics, error texts, argument-checking
// order and RESP2/RESP3 reply types. Reads walk the types::List the keyspace returns; every write
// is one element operation (types/ops.h) given to Keyspace::Mutate, so the commit log holds the
// pushed elements or the pop, never the whole list. A pop reads the elements it replies with
// before it logs the pop. LMOVE/RPOPLPUSH are a pop and a push (two operations, one per key).

#include <algorithm>
#include <climits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ascii.h"
#include "command.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "list_access.h"
#include "notify.h"
#include "number_parse.h"
#include "server.h"
#include "storage/engine.h"
#include "types/list.h"
#include "types/ops.h"

namespace dynakv::server {

namespace {

constexpr std::string_view kErrNoSuchKey = "ERR no such key";
constexpr std::string_view kErrMustBePositive = "ERR value is out of range, must be positive";

std::string Decimal(long long n) { return std::to_string(n); }

// LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...]
void PushGeneric(CommandContext& ctx, bool head, bool only_existing) {
  const std::string_view key = ctx.argv[1];
  // LPUSH/RPUSH need no lookup of their own: the push refuses a value of another type
  // (WRONGTYPE) as the lookup would, and one lookup a push less is a few percent of its time.
  if (only_existing) {
    const auto found = LookupTyped<types::List>(ctx, key, false);
    if (found.wrong_type) return;
    if (found.value == nullptr) {
      ctx.reply.Integer(0);
      return;
    }
  }
  const std::vector<std::string_view> elements(ctx.argv.begin() + 2, ctx.argv.end());
  std::int64_t length = 0;
  if (!PushElements(ctx, key, head, elements, &length)) return;
  ctx.reply.Integer(length);
}

void LPushCommand(CommandContext& ctx) { PushGeneric(ctx, true, false); }
void RPushCommand(CommandContext& ctx) { PushGeneric(ctx, false, false); }
void LPushXCommand(CommandContext& ctx) { PushGeneric(ctx, true, true); }
void RPushXCommand(CommandContext& ctx) { PushGeneric(ctx, false, true); }

// LPOP/RPOP key [count]
void PopGeneric(CommandContext& ctx, bool head) {
  if (ctx.argv.size() > 3) {
    ReplyWrongArity(ctx.reply, head ? "lpop" : "rpop");
    return;
  }
  const bool has_count = ctx.argv.size() == 3;
  long long count = 0;
  if (has_count && (!ParseLongLong(ctx.argv[2], &count) || count < 0)) {
    ctx.reply.Error(kErrMustBePositive);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::List>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    if (has_count) {
      ctx.reply.NullArray();
    } else {
      ctx.reply.Null();
    }
    return;
  }
  if (has_count && count == 0) {
    ctx.reply.ArrayHeader(0);
    return;
  }
  std::vector<std::string> popped;
  if (!PopElements(ctx, key, *found.value, head, has_count ? static_cast<std::size_t>(count) : 1,
                   &popped)) {
    return;
  }
  if (!has_count) {
    ctx.reply.Bulk(popped.front());
    return;
  }
  ctx.reply.ArrayHeader(popped.size());
  for (const std::string& e : popped) ctx.reply.Bulk(e);
}

void LPopCommand(CommandContext& ctx) { PopGeneric(ctx, true); }
void RPopCommand(CommandContext& ctx) { PopGeneric(ctx, false); }

void LLenCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::List>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.Integer(found.value != nullptr ? static_cast<long long>(found.value->size()) : 0);
}

// Redis's range rule: negative indexes count from the tail; false when the range is empty.
bool NormalizeRange(long long start, long long end, std::size_t size, std::size_t* first,
                    std::size_t* count) {
  const auto llen = static_cast<long long>(size);
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) return false;
  if (end >= llen) end = llen - 1;
  *first = static_cast<std::size_t>(start);
  *count = static_cast<std::size_t>(end - start + 1);
  return true;
}

void LRangeCommand(CommandContext& ctx) {
  long long start = 0;
  long long end = 0;
  if (!ParseLongLong(ctx.argv[2], &start) || !ParseLongLong(ctx.argv[3], &end)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  const auto found = LookupTyped<types::List>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  std::size_t first = 0;
  std::size_t count = 0;
  if (found.value == nullptr || !NormalizeRange(start, end, found.value->size(), &first, &count)) {
    ctx.reply.ArrayHeader(0);
    return;
  }
  ctx.reply.ArrayHeader(count);
  found.value->ForRange(first, count, [&](std::string_view e) {
    ctx.reply.Bulk(e);
    return !ctx.reply.over_limit();  // a reply past the output limit closes the client anyway
  });
}

// The position of `index` (negative: from the tail) in a list of `size`, if inside it.
std::optional<std::size_t> IndexOf(long long index, std::size_t size) {
  if (index < 0) index += static_cast<long long>(size);
  if (index < 0 || index >= static_cast<long long>(size)) return std::nullopt;
  return static_cast<std::size_t>(index);
}

void LIndexCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::List>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Null();
    return;
  }
  long long index = 0;
  if (!ParseLongLong(ctx.argv[2], &index)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  const std::optional<std::size_t> at = IndexOf(index, found.value->size());
  if (!at) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Bulk(found.value->At(*at));
}

void LSetCommand(CommandContext& ctx) {
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::List>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Error(kErrNoSuchKey);
    return;
  }
  long long index = 0;
  if (!ParseLongLong(ctx.argv[2], &index)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  const std::optional<std::size_t> at = IndexOf(index, found.value->size());
  if (!at) {
    ctx.reply.Error("ERR index out of range");
    return;
  }
  types::OpBuilder op(types::OpCode::kListSet, 2);
  op.Add(Decimal(static_cast<long long>(*at))).Add(ctx.argv[3]);
  std::int64_t unused = 0;
  if (!ApplyElementOp(ctx, key, op, &unused)) return;
  NotifyKeyspaceEvent(ctx, kNotifyList, "lset", key);
  ctx.reply.Ok();
}

// LINSERT key BEFORE|AFTER pivot element
void LInsertCommand(CommandContext& ctx) {
  const std::string_view where = ctx.argv[2];
  const bool before = EqualsIgnoreCase(where, "before");
  if (!before && !EqualsIgnoreCase(where, "after")) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::List>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  bool present = false;
  found.value->ForRange(0, found.value->size(), [&](std::string_view e) {
    present = e == ctx.argv[3];
    return !present;
  });
  if (!present) {  // nothing changes: nothing to log
    ctx.reply.Integer(-1);
    return;
  }
  types::OpBuilder op(types::OpCode::kListInsert, 3);
  op.Add(before ? "before" : "after").Add(ctx.argv[3]).Add(ctx.argv[4]);
  std::int64_t length = 0;
  if (!ApplyElementOp(ctx, key, op, &length)) return;
  NotifyKeyspaceEvent(ctx, kNotifyList, "linsert", key);
  ctx.reply.Integer(length);
}

// LREM key count element
void LRemCommand(CommandContext& ctx) {
  long long count = 0;
  if (!ParseLongLong(ctx.argv[2], &count)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::List>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  bool present = false;
  found.value->ForRange(0, found.value->size(), [&](std::string_view e) {
    present = e == ctx.argv[3];
    return !present;
  });
  if (!present) {
    ctx.reply.Integer(0);
    return;
  }
  // The count is logged within the list's length, so it always parses on replay.
  const auto size = static_cast<long long>(found.value->size());
  count = std::clamp(count, -size, size);
  types::OpBuilder op(types::OpCode::kListRemove, 2);
  op.Add(Decimal(count)).Add(ctx.argv[3]);
  std::int64_t removed = 0;
  if (!ApplyElementOp(ctx, key, op, &removed)) return;
  NotifyKeyspaceEvent(ctx, kNotifyList, "lrem", key);
  NotifyIfEmptied(ctx, key);
  ctx.reply.Integer(removed);
}

// LTRIM key start stop
void LTrimCommand(CommandContext& ctx) {
  long long start = 0;
  long long end = 0;
  if (!ParseLongLong(ctx.argv[2], &start) || !ParseLongLong(ctx.argv[3], &end)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::List>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Ok();
    return;
  }
  const std::size_t size = found.value->size();
  std::size_t first = 0;
  std::size_t count = 0;
  std::size_t drop_head = size;
  std::size_t drop_tail = 0;
  if (NormalizeRange(start, end, size, &first, &count)) {
    drop_head = first;
    drop_tail = size - first - count;
  }
  if (drop_head != 0 || drop_tail != 0) {
    types::OpBuilder op(types::OpCode::kListTrim, 2);
    op.Add(Decimal(static_cast<long long>(drop_head)))
        .Add(Decimal(static_cast<long long>(drop_tail)));
    std::int64_t unused = 0;
    if (!ApplyElementOp(ctx, key, op, &unused)) return;
  }
  // Redis notifies a trim of an existing list even when it removed nothing.
  NotifyKeyspaceEvent(ctx, kNotifyList, "ltrim", key);
  NotifyIfEmptied(ctx, key);
  ctx.reply.Ok();
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void LPosCommand(CommandContext& ctx) {
  long long rank = 1;
  long long count = -1;  // -1: no COUNT (a single index or null)
  long long maxlen = 0;
  for (std::size_t j = 3; j < ctx.argv.size(); ++j) {
    const std::string_view option = ctx.argv[j];
    const bool more = j + 1 < ctx.argv.size();
    if (more && EqualsIgnoreCase(option, "rank")) {
      if (!ParseLongLong(ctx.argv[++j], &rank)) {
        ctx.reply.Error(kErrNotInteger);
        return;
      }
      if (rank == 0) {
        ctx.reply.Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
        return;
      }
    } else if (more && EqualsIgnoreCase(option, "count")) {
      if (!ParseLongLong(ctx.argv[++j], &count) || count < 0) {
        ctx.reply.Error("ERR COUNT can't be negative");
        return;
      }
    } else if (more && EqualsIgnoreCase(option, "maxlen")) {
      if (!ParseLongLong(ctx.argv[++j], &maxlen) || maxlen < 0) {
        ctx.reply.Error("ERR MAXLEN can't be negative");
        return;
      }
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  const auto found = LookupTyped<types::List>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    if (count != -1) {
      ctx.reply.ArrayHeader(0);
    } else {
      ctx.reply.Null();
    }
    return;
  }
  const bool from_tail = rank < 0;
  if (rank == LLONG_MIN) {
    // Redis 7.0 negates it into itself: every match qualifies and COUNT never stops the walk.
    rank = 1;
    if (count > 0) count = 0;
  } else if (from_tail) {
    rank = -rank;
  }
  const std::string_view element = ctx.argv[2];
  const long long llen = static_cast<long long>(found.value->size());
  std::vector<long long> positions;
  long long index = 0;
  long long matches = 0;
  auto visit = [&](std::string_view e) {
    if (maxlen != 0 && index >= maxlen) return false;
    if (e == element && ++matches >= rank) {
      positions.push_back(from_tail ? llen - index - 1 : index);
      if (count == -1 || (count != 0 && static_cast<long long>(positions.size()) >= count)) {
        return false;
      }
    }
    ++index;
    return true;
  };
  if (from_tail) {
    found.value->ForEachReverse(visit);
  } else {
    found.value->ForRange(0, found.value->size(), visit);
  }
  if (count == -1) {
    if (positions.empty()) {
      ctx.reply.Null();
    } else {
      ctx.reply.Integer(positions.front());
    }
    return;
  }
  ctx.reply.ArrayHeader(positions.size());
  for (long long p : positions) ctx.reply.Integer(p);
}

// LMOVE's body once the directions are known: pops from `source` and pushes to `destination`.
void MoveGeneric(CommandContext& ctx, bool from_head, bool to_head) {
  const std::string_view source = ctx.argv[1];
  const std::string_view destination = ctx.argv[2];
  const auto found = LookupTyped<types::List>(ctx, source, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Null();
    return;
  }
  if (source != destination) {
    const auto target = LookupTyped<types::List>(ctx, destination, false);
    if (target.wrong_type) return;
  }
  const auto again =
      LookupTyped<types::List>(ctx, source, false);  // the destination lookup moved it
  std::vector<std::string> popped;
  if (source == destination && again.value->size() == 1) {
    // Rotating a one-element list onto itself leaves it as it is. Popping first would delete
    // the emptied key and the push recreate it without its expiry; Redis pushes before it
    // deletes an emptied source, so the list (and its TTL) stays.
    popped.emplace_back(again.value->At(0));
    NotifyKeyspaceEvent(ctx, kNotifyList, to_head ? "lpush" : "rpush", destination);
    NotifyKeyspaceEvent(ctx, kNotifyList, from_head ? "lpop" : "rpop", source);
  } else {
    if (!PopElements(ctx, source, *again.value, from_head, 1, &popped, /*notify=*/false)) return;
    const std::string_view element = popped.front();
    std::int64_t length = 0;
    if (!PushElements(ctx, destination, to_head, std::span(&element, 1), &length)) return;
    NotifyPopped(ctx, source, from_head);
  }
  ctx.reply.Bulk(popped.front());
}

void LMoveCommand(CommandContext& ctx) {
  bool from_head = false;
  bool to_head = false;
  if (!ParseWhere(ctx, ctx.argv[3], &from_head) || !ParseWhere(ctx, ctx.argv[4], &to_head)) return;
  MoveGeneric(ctx, from_head, to_head);
}

void RPopLPushCommand(CommandContext& ctx) { MoveGeneric(ctx, false, true); }

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
void LMPopCommand(CommandContext& ctx) {
  MPopArgs args;
  if (!ParseMPop(ctx, 1, &args)) return;
  if (!MPopFirst(ctx, args)) ctx.reply.NullArray();
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them (COMMAND INFO).
// clang-format off
constexpr CommandSpec kListCommands[] = {
    {.name = "lpush", .arity = -3,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = LPushCommand},
    {.name = "rpush", .arity = -3,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = RPushCommand},
    {.name = "lpushx", .arity = -3,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = LPushXCommand},
    {.name = "rpushx", .arity = -3,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = RPushXCommand},
    {.name = "lpop", .arity = -2,
     .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = LPopCommand},
    {.name = "rpop", .arity = -2,
     .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = RPopCommand},
    {.name = "llen", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclList,
     .keys = {KeyAt(1, kKeyRO)}, .handler = LLenCommand},
    {.name = "lrange", .arity = 4, .flags = kCmdReadOnly, .acl = kAclList,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = LRangeCommand},
    {.name = "lindex", .arity = 3, .flags = kCmdReadOnly, .acl = kAclList,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = LIndexCommand},
    {.name = "lset", .arity = 4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = LSetCommand},
    {.name = "linsert", .arity = 5,
     .flags = kCmdWrite | kCmdDenyOom | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = LInsertCommand},
    {.name = "lrem", .arity = 4,
     .flags = kCmdWrite | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = LRemCommand},
    {.name = "ltrim", .arity = 4,
     .flags = kCmdWrite | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = LTrimCommand},
    {.name = "lpos", .arity = -3, .flags = kCmdReadOnly, .acl = kAclList,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = LPosCommand},
    {.name = "lmove", .arity = 5, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete), KeyAt(2, kKeyRW | kKeyInsert)},
     .handler = LMoveCommand},
    {.name = "rpoplpush", .arity = 3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclList,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete), KeyAt(2, kKeyRW | kKeyInsert)},
     .handler = RPopLPushCommand},
    // Its keys follow numkeys (Redis's movablekeys): no fixed range.
    {.name = "lmpop", .arity = -4, .flags = kCmdWrite, .acl = kAclList,
     .keys = {IndexKeynum(1, 0, 1, 1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = LMPopCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> ListCommands() { return kListCommands; }

}  // namespace dynakv::server
