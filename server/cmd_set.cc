// Set commands (Redis's t_set.c), with Redis 7.0's semantics, error texts and RESP2/RESP3 reply
// types. Reads walk the types::Set the keyspace returns; every write to a set is one element
// operation (types/ops.h) given to Keyspace::Mutate, so the commit log holds the changed members,
// never the whole set. Random choices (SPOP) are resolved here and logged as the members they
// removed, so replay is deterministic. The STORE commands write their result whole (PutObject:
// one log record that replaces the destination, whatever it held, and its expiry, as Redis's
// setKey).

#include <algorithm>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ascii.h"
#include "command.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "notify.h"
#include "number_parse.h"
#include "scan_options.h"
#include "server.h"
#include "storage/engine.h"
#include "types/codec.h"
#include "types/ops.h"
#include "types/set.h"

namespace dynakv::server {

namespace {

constexpr std::string_view kErrMustBePositive = "ERR value is out of range, must be positive";

types::TypeLimits Limits(CommandContext& ctx) {
  const types::TypesCodec* codec = ctx.server.codec();
  return codec != nullptr ? codec->limits() : types::TypeLimits{};
}

// Applies one operation; replies with the error and returns false when the keyspace refuses
// (WRONGTYPE for a key of another type, as Redis).
std::vector<std::string> MembersOf(const types::Set& set) {
  std::vector<std::string> out;
  out.reserve(set.size());
  set.ForEach([&out](std::string_view m) { out.emplace_back(m); });
  return out;
}

void ReplyMembers(CommandContext& ctx, const std::vector<std::string>& members, bool as_set) {
  if (as_set) {
    ctx.reply.SetHeader(members.size());
  } else {
    ctx.reply.ArrayHeader(members.size());
  }
  for (const std::string& m : members) ctx.reply.Bulk(m);
}

// `count` distinct members drawn at random (count < size): drawn until there are enough when
// they are few compared to the set; otherwise every member, minus random ones.
std::vector<std::string> DistinctRandom(const types::Set& set, std::size_t count,
                                        std::mt19937_64& rng) {
  std::vector<std::string> picked;
  if (count * 3 > set.size()) {
    picked = MembersOf(set);
    while (picked.size() > count) {
      const std::size_t victim = static_cast<std::size_t>(rng() % picked.size());
      picked[victim] = std::move(picked.back());
      picked.pop_back();
    }
    std::shuffle(picked.begin(), picked.end(), rng);
    return picked;
  }
  std::unordered_set<std::string> seen;
  while (picked.size() < count) {
    std::string m = set.Random(rng);
    if (seen.insert(m).second) picked.push_back(std::move(m));
  }
  return picked;
}

void SAddCommand(CommandContext& ctx) {
  const std::string_view key = ctx.argv[1];
  // No lookup of its own: the keyspace refuses another type (WRONGTYPE, in Apply).
  types::OpBuilder op(types::OpCode::kSetAdd, ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) op.Add(ctx.argv[i]);
  std::int64_t added = 0;
  if (!ApplyElementOp(ctx, key, op, &added)) return;
  if (added > 0) NotifyKeyspaceEvent(ctx, kNotifySet, "sadd", key);
  ctx.reply.Integer(added);
}

void SRemCommand(CommandContext& ctx) {
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::Set>(ctx, key, false);
  if (found.wrong_type) return;
  std::size_t present = 0;
  if (found.value != nullptr) {
    for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
      if (found.value->Contains(ctx.argv[i])) ++present;
    }
  }
  if (present == 0) {  // nothing changes: nothing to log
    ctx.reply.Integer(0);
    return;
  }
  types::OpBuilder op(types::OpCode::kSetRem, ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) op.Add(ctx.argv[i]);
  std::int64_t removed = 0;
  if (!ApplyElementOp(ctx, key, op, &removed)) return;
  NotifyKeyspaceEvent(ctx, kNotifySet, "srem", key);
  NotifyIfEmptied(ctx, key);
  ctx.reply.Integer(removed);
}

void SCardCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Set>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.Integer(found.value != nullptr ? static_cast<long long>(found.value->size()) : 0);
}

void SIsMemberCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Set>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.Integer(found.value != nullptr && found.value->Contains(ctx.argv[2]) ? 1 : 0);
}

void SMIsMemberCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Set>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.ArrayHeader(ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    ctx.reply.Integer(found.value != nullptr && found.value->Contains(ctx.argv[i]) ? 1 : 0);
  }
}

void SMembersCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::Set>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.SetHeader(0);
    return;
  }
  ctx.reply.SetHeader(found.value->size());
  found.value->ForEach([&ctx](std::string_view m) { ctx.reply.Bulk(m); });
}

// SMOVE source destination member
void SMoveCommand(CommandContext& ctx) {
  const std::string_view src = ctx.argv[1];
  const std::string_view dst = ctx.argv[2];
  const std::string_view member = ctx.argv[3];
  std::optional<storage::ValueRef> src_value = ctx.keyspace.Get(src);
  if (!src_value) {  // Redis answers 0 before looking at the types
    ctx.reply.Integer(0);
    return;
  }
  const auto* src_set = dynamic_cast<const types::Set*>(src_value->object());
  if (src_set == nullptr) {
    ctx.reply.Error(kErrWrongType);
    return;
  }
  const bool present = src_set->Contains(member);
  std::optional<storage::ValueRef> dst_value = ctx.keyspace.Get(dst);
  if (dst_value && dynamic_cast<const types::Set*>(dst_value->object()) == nullptr) {
    ctx.reply.Error(kErrWrongType);
    return;
  }
  if (src == dst || !present) {
    ctx.reply.Integer(present && src == dst ? 1 : 0);
    return;
  }
  // Two log records: the add first, so a crash between them leaves the member in both sets
  // (the move unacknowledged), never in neither.
  std::int64_t added = 0;
  std::int64_t result = 0;
  // A created destination's "new" comes after the source's events, as in Redis.
  NewKeyEventsHold hold(ctx.server.new_key_notifier(ctx.keyspace.db()));
  if (!ApplyElementOp(ctx, dst, types::OpBuilder(types::OpCode::kSetAdd, 1).Add(member), &added))
    return;
  if (!ApplyElementOp(ctx, src, types::OpBuilder(types::OpCode::kSetRem, 1).Add(member), &result))
    return;
  // Redis's order: the removal (and the source's deletion), then the addition.
  NotifyKeyspaceEvent(ctx, kNotifySet, "srem", src);
  NotifyIfEmptied(ctx, src);
  hold.Release();
  if (added > 0) NotifyKeyspaceEvent(ctx, kNotifySet, "sadd", dst);
  ctx.reply.Integer(1);
}

// SPOP key count: always a set reply (RESP3 '~').
void SPopWithCount(CommandContext& ctx) {
  long long count_arg = 0;
  if (!ParseLongLong(ctx.argv[2], &count_arg) || count_arg < 0) {
    ctx.reply.Error(kErrMustBePositive);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::Set>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr || count_arg == 0) {
    ctx.reply.SetHeader(0);
    return;
  }
  const auto count = static_cast<std::size_t>(count_arg);
  if (count >= found.value->size()) {  // the whole set: the key goes, one log record
    const std::vector<std::string> members = MembersOf(*found.value);
    if (!ctx.keyspace.Delete(key)) {
      ctx.reply.SetHeader(0);
      return;
    }
    NotifyKeyspaceEvent(ctx, kNotifySet, "spop", key);
    NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", key);
    ReplyMembers(ctx, members, true);
    return;
  }
  std::mt19937_64& rng = ctx.server.rng();
  const std::vector<std::string> picked = DistinctRandom(*found.value, count, rng);
  types::OpBuilder op(types::OpCode::kSetRem, picked.size());
  for (const std::string& m : picked) op.Add(m);
  std::int64_t removed = 0;
  if (!ApplyElementOp(ctx, key, op, &removed)) return;
  NotifyKeyspaceEvent(ctx, kNotifySet, "spop", key);
  ReplyMembers(ctx, picked, true);
}

void SPopCommand(CommandContext& ctx) {
  if (ctx.argv.size() == 3) {
    SPopWithCount(ctx);
    return;
  }
  if (ctx.argv.size() > 3) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::Set>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Null();
    return;
  }
  std::mt19937_64& rng = ctx.server.rng();
  const std::string member = found.value->Random(rng);
  std::int64_t removed = 0;
  if (!ApplyElementOp(ctx, key, types::OpBuilder(types::OpCode::kSetRem, 1).Add(member), &removed))
    return;
  NotifyKeyspaceEvent(ctx, kNotifySet, "spop", key);
  NotifyIfEmptied(ctx, key);
  ctx.reply.Bulk(member);
}

// Redis's srandmemberWithCountCommand: a negative count may repeat members, a positive one never
// does (and returns the whole set when it asks for at least its size). Always an array.
void SRandMemberWithCount(CommandContext& ctx) {
  long long count_arg = 0;
  if (!ParseLongLong(ctx.argv[2], &count_arg)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  constexpr long long kMax = std::numeric_limits<long long>::max();
  if (count_arg < -kMax) {
    ctx.reply.Error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
    return;
  }
  const auto found = LookupTyped<types::Set>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr || count_arg == 0) {
    ctx.reply.ArrayHeader(0);
    return;
  }
  const types::Set& set = *found.value;
  const bool unique = count_arg > 0;
  const auto count = static_cast<std::size_t>(unique ? count_arg : -count_arg);
  std::mt19937_64& rng = ctx.server.rng();
  if (!unique || count == 1) {
    ctx.reply.ArrayHeader(count);
    for (std::size_t i = 0; i < count; ++i) {
      // A reply past the client's output limit closes it anyway: stop building it.
      if (ctx.reply.over_limit()) return;
      ctx.reply.Bulk(set.Random(rng));
    }
    return;
  }
  if (count >= set.size()) {
    ctx.reply.ArrayHeader(set.size());
    set.ForEach([&ctx](std::string_view m) { ctx.reply.Bulk(m); });
    return;
  }
  ReplyMembers(ctx, DistinctRandom(set, count, rng), false);
}

void SRandMemberCommand(CommandContext& ctx) {
  if (ctx.argv.size() == 3) {
    SRandMemberWithCount(ctx);
    return;
  }
  if (ctx.argv.size() > 3) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const auto found = LookupTyped<types::Set>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Null();
    return;
  }
  std::mt19937_64& rng = ctx.server.rng();
  ctx.reply.Bulk(found.value->Random(rng));
}

// The sets named by `keys`, copied (a keyspace value is valid only until the next lookup);
// nullopt for a missing key. False after replying WRONGTYPE: Redis checks every key's type,
// missing ones included in the walk, before computing anything.
bool LoadSets(CommandContext& ctx, std::span<const std::string_view> keys, bool counted,
              std::vector<std::optional<std::vector<std::string>>>* sets) {
  sets->clear();
  sets->reserve(keys.size());
  for (std::string_view key : keys) {
    const auto found = LookupTyped<types::Set>(ctx, key, counted);
    if (found.wrong_type) return false;
    if (found.value == nullptr) {
      sets->emplace_back(std::nullopt);
    } else {
      sets->emplace_back(MembersOf(*found.value));
    }
  }
  return true;
}

// The intersection, in the order of the smallest set (as Redis walks it); stops after `limit`
// members when limit > 0.
std::vector<std::string> Intersect(const std::vector<std::optional<std::vector<std::string>>>& sets,
                                   std::size_t limit) {
  std::vector<std::string> out;
  std::vector<const std::vector<std::string>*> order;
  for (const auto& s : sets) {
    if (!s || s->empty()) return out;  // an empty set empties the intersection
    order.push_back(&*s);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->size() < b->size(); });
  std::vector<std::unordered_set<std::string_view>> others;
  for (std::size_t i = 1; i < order.size(); ++i) {
    others.emplace_back(order[i]->begin(), order[i]->end());
  }
  for (const std::string& m : *order[0]) {
    const bool everywhere = std::all_of(others.begin(), others.end(),
                                        [&m](const auto& other) { return other.count(m) > 0; });
    if (!everywhere) continue;
    out.push_back(m);
    if (limit > 0 && out.size() >= limit) break;
  }
  return out;
}

// SUNION / SDIFF: built as Redis builds its result set (a new set with the current limits, so
// integers come out ascending while it is an intset).
std::vector<std::string> UnionOrDiff(
    CommandContext& ctx, const std::vector<std::optional<std::vector<std::string>>>& sets,
    bool diff) {
  const types::TypeLimits limits = Limits(ctx);
  types::Set result;
  if (!diff) {
    for (const auto& s : sets) {
      if (!s) continue;
      for (const std::string& m : *s) result.Add(m, limits);
    }
    return MembersOf(result);
  }
  if (!sets.front()) return {};
  std::unordered_set<std::string_view> removed;
  for (std::size_t i = 1; i < sets.size(); ++i) {
    if (sets[i]) removed.insert(sets[i]->begin(), sets[i]->end());
  }
  for (const std::string& m : *sets.front()) {
    if (removed.count(m) == 0) result.Add(m, limits);
  }
  return MembersOf(result);
}

enum class SetOp { kInter, kUnion, kDiff };

// SINTER/SUNION/SDIFF key [key ...] (a set reply), and with `store` their STORE forms
// (destination key first; the result replaces whatever it held, an empty result deletes it).
void SetOpGeneric(CommandContext& ctx, SetOp kind, bool store) {
  const std::size_t first = store ? 2 : 1;
  const std::span<const std::string_view> keys(ctx.argv.data() + first, ctx.argv.size() - first);
  std::vector<std::optional<std::vector<std::string>>> sets;
  // The STORE forms read their sources as lookupKeyRead too in Redis 7.0 (a miss counts, and
  // fires "keymiss").
  if (!LoadSets(ctx, keys, true, &sets)) return;
  const std::vector<std::string> result =
      kind == SetOp::kInter ? Intersect(sets, 0) : UnionOrDiff(ctx, sets, kind == SetOp::kDiff);
  if (!store) {
    ReplyMembers(ctx, result, true);
    return;
  }
  const std::string_view dst = ctx.argv[1];
  if (result.empty()) {
    if (ctx.keyspace.Delete(dst)) NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", dst);
    ctx.reply.Integer(0);
    return;
  }
  std::string serialized;
  types::Set::SerializeMembers(result, &serialized);
  if (!WriteOk(ctx, ctx.keyspace.PutObject(dst, serialized, 0))) return;
  NotifyKeyspaceEvent(ctx, kNotifySet,
                      kind == SetOp::kInter   ? "sinterstore"
                      : kind == SetOp::kUnion ? "sunionstore"
                                              : "sdiffstore",
                      dst);
  ctx.reply.Integer(static_cast<long long>(result.size()));
}

void SInterCommand(CommandContext& ctx) { SetOpGeneric(ctx, SetOp::kInter, false); }
void SUnionCommand(CommandContext& ctx) { SetOpGeneric(ctx, SetOp::kUnion, false); }
void SDiffCommand(CommandContext& ctx) { SetOpGeneric(ctx, SetOp::kDiff, false); }
void SInterStoreCommand(CommandContext& ctx) { SetOpGeneric(ctx, SetOp::kInter, true); }
void SUnionStoreCommand(CommandContext& ctx) { SetOpGeneric(ctx, SetOp::kUnion, true); }
void SDiffStoreCommand(CommandContext& ctx) { SetOpGeneric(ctx, SetOp::kDiff, true); }

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void SInterCardCommand(CommandContext& ctx) {
  long long numkeys = 0;
  if (!ParseLongLong(ctx.argv[1], &numkeys) || numkeys < 1) {
    ctx.reply.Error("ERR numkeys should be greater than 0");
    return;
  }
  if (numkeys > static_cast<long long>(ctx.argv.size()) - 2) {
    ctx.reply.Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  long long limit = 0;
  for (std::size_t i = 2 + static_cast<std::size_t>(numkeys); i < ctx.argv.size(); ++i) {
    if (EqualsIgnoreCase(ctx.argv[i], "limit") && i + 1 < ctx.argv.size()) {
      ++i;
      if (!ParseLongLong(ctx.argv[i], &limit) || limit < 0) {
        ctx.reply.Error("ERR LIMIT can't be negative");
        return;
      }
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  const std::span<const std::string_view> keys(ctx.argv.data() + 2,
                                               static_cast<std::size_t>(numkeys));
  std::vector<std::optional<std::vector<std::string>>> sets;
  if (!LoadSets(ctx, keys, true, &sets)) return;
  ctx.reply.Integer(
      static_cast<long long>(Intersect(sets, static_cast<std::size_t>(limit)).size()));
}

// SSCAN key cursor [MATCH pattern] [COUNT count]
void SScanCommand(CommandContext& ctx) {
  std::uint64_t cursor = 0;
  if (!ParseScanCursor(ctx, ctx.argv[2], &cursor)) return;
  const auto found = LookupTyped<types::Set>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {  // Redis's empty scan reply, before the options are looked at
    ReplyEmptyScan(ctx);
    return;
  }
  ScanOptions options;
  if (!ParseScanOptions(ctx, 3, false, &options)) return;
  std::vector<std::string> members;
  const std::uint64_t next =
      found.value->Scan(cursor, static_cast<std::size_t>(options.count), [&](std::string_view m) {
        if (options.Matches(m)) members.emplace_back(m);
      });
  ReplyScanCursor(ctx, next);
  ReplyMembers(ctx, members, false);
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them (COMMAND INFO).
// SINTERCARD: Redis declares no key range (0 0 0, movablekeys: numkeys says which); a row holds
// a range only, so it names every argument from the first key on: the coordinator reads them all
// (a "LIMIT" and its number read as missing keys, harmless) and so sees every set the command
// needs.
// clang-format off
constexpr CommandSpec kSetCommands[] = {
    {.name = "sadd", .arity = -3,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent,
     .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRW | kKeyInsert)}, .handler = SAddCommand},
    {.name = "srem", .arity = -3, .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent,
     .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = SRemCommand},
    {.name = "smembers", .arity = 2, .flags = kCmdReadOnly, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output_order",
     .handler = SMembersCommand},
    {.name = "sismember", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRO)}, .handler = SIsMemberCommand},
    {.name = "smismember", .arity = -3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = SMIsMemberCommand},
    {.name = "scard", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRO)}, .handler = SCardCommand},
    {.name = "spop", .arity = -2, .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent,
     .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete)}, .tips = "nondeterministic_output",
     .handler = SPopCommand},
    {.name = "srandmember", .arity = -2, .flags = kCmdReadOnly, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = SRandMemberCommand},
    {.name = "smove", .arity = 4, .flags = kCmdWrite | kCmdFast, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete), KeyAt(2, kKeyRW | kKeyInsert)},
     .handler = SMoveCommand},
    {.name = "sinter", .arity = -2, .flags = kCmdReadOnly, .acl = kAclSet,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRO | kKeyAccess)},
     .tips = "nondeterministic_output_order", .handler = SInterCommand},
    {.name = "sunion", .arity = -2, .flags = kCmdReadOnly, .acl = kAclSet,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRO | kKeyAccess)},
     .tips = "nondeterministic_output_order", .handler = SUnionCommand},
    {.name = "sdiff", .arity = -2, .flags = kCmdReadOnly, .acl = kAclSet,
     .keys = {IndexRange(1, -1, 1, 0, kKeyRO | kKeyAccess)},
     .tips = "nondeterministic_output_order", .handler = SDiffCommand},
    {.name = "sinterstore", .arity = -3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate), IndexRange(2, -1, 1, 0, kKeyRO | kKeyAccess)},
     .handler = SInterStoreCommand},
    {.name = "sunionstore", .arity = -3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate), IndexRange(2, -1, 1, 0, kKeyRO | kKeyAccess)},
     .handler = SUnionStoreCommand},
    {.name = "sdiffstore", .arity = -3, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate), IndexRange(2, -1, 1, 0, kKeyRO | kKeyAccess)},
     .handler = SDiffStoreCommand},
    {.name = "sintercard", .arity = -3, .flags = kCmdReadOnly, .acl = kAclSet,
     .keys = {IndexKeynum(1, 0, 1, 1, kKeyRO | kKeyAccess)}, .handler = SInterCardCommand},
    {.name = "sscan", .arity = -3, .flags = kCmdReadOnly, .acl = kAclSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = SScanCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> SetCommands() { return kSetCommands; }

}  // namespace dynakv::server
