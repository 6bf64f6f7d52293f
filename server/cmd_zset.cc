// Sorted set commands (Redis's t_zset.c) that add, remove, score, rank, pop and sample; the range
// commands are in cmd_zset_range.cc. Redis 7.0's semantics, error texts and RESP2/RESP3 reply
// types. Every write is one element operation (types/ops.h) given to Keyspace::Mutate, with
// scores resolved here (ZINCRBY logs the resulting score), so the log holds the changed members
// only and replay needs no arithmetic.

#include <cmath>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ascii.h"
#include "command.h"
#include "notify.h"
#include "number_parse.h"
#include "random_with_count.h"
#include "scan_options.h"
#include "zset_util.h"

namespace dynakv::server {

// Redis's genericZpopCommand: the first of `keys` holding a set (WRONGTYPE stops the search)
// loses up to `count` members from its low (or high) end. count < 0: a plain single pop.
// `emitkey`/`nested`: ZMPOP's [key, [[member, score], ...]] shape, nil when nothing is found;
// `emitkey` alone: BZPOPMIN's [key, member, score]. Returns false, replying nothing, when no key
// holds a set and !reply_when_empty (a blocking pop then blocks); true when it replied.
bool ZPopGeneric(CommandContext& ctx, std::span<const std::string_view> keys, bool max,
                 long long count, bool nested, bool emitkey, bool reply_when_empty) {
  TypedLookup<types::SortedSet> found;
  std::string_view key;
  for (std::string_view k : keys) {
    found = LookupTyped<types::SortedSet>(ctx, k, false);
    if (found.wrong_type) return true;
    if (found.value != nullptr) {
      key = k;
      break;
    }
  }
  if (found.value == nullptr) {
    if (!reply_when_empty) return false;
    if (emitkey) {
      ctx.reply.NullArray();
    } else {
      ctx.reply.ArrayHeader(0);
    }
    return true;
  }
  if (count == 0) {
    ctx.reply.ArrayHeader(0);
    return true;
  }
  if (count < 0) count = 1;
  const ZsetItems items = RankRange(*found.value, 0, count - 1, max);
  std::vector<std::string> members;
  std::vector<double> scores;
  for (const auto& [m, s] : items) {
    members.emplace_back(m);
    scores.push_back(s);
  }
  if (!RemoveMembers(ctx, key, members)) return true;
  if (!members.empty()) {
    NotifyKeyspaceEvent(ctx, kNotifyZset, max ? "zpopmax" : "zpopmin", key);
    NotifyIfEmptied(ctx, key);
  }
  if (emitkey && !nested) {  // BZPOPMIN/BZPOPMAX: [key, member, score]
    ctx.reply.ArrayHeader(members.size() * 2 + 1);
    ctx.reply.Bulk(key);
  } else {
    if (emitkey) {
      ctx.reply.ArrayHeader(2);
      ctx.reply.Bulk(key);
    }
    ctx.reply.ArrayHeader(nested ? members.size() : members.size() * 2);
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (nested) ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(members[i]);
    ctx.reply.Double(scores[i]);
  }
  return true;
}

// ZMPOP's arguments from `numkeys_index` on: numkeys key [key ...] MIN|MAX [COUNT count].
bool ParseZMPop(CommandContext& ctx, std::size_t numkeys_index, ZMPopArgs* args) {
  long long numkeys = 0;
  if (!ParseLongLong(ctx.argv[numkeys_index], &numkeys) || numkeys < 1) {
    ctx.reply.Error("ERR numkeys should be greater than 0");
    return false;
  }
  const auto where_idx = static_cast<unsigned long long>(numkeys) + numkeys_index + 1;
  if (where_idx >= ctx.argv.size()) {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  args->max = false;
  if (EqualsIgnoreCase(ctx.argv[where_idx], "max")) {
    args->max = true;
  } else if (!EqualsIgnoreCase(ctx.argv[where_idx], "min")) {
    ctx.reply.Error(kErrSyntax);
    return false;
  }
  long long count = -1;
  for (std::size_t j = where_idx + 1; j < ctx.argv.size(); ++j) {
    const bool more = j + 1 < ctx.argv.size();
    if (count == -1 && more && EqualsIgnoreCase(ctx.argv[j], "count")) {
      ++j;
      if (!ParseLongLong(ctx.argv[j], &count) || count < 1) {
        ctx.reply.Error("ERR count should be greater than 0");
        return false;
      }
    } else {
      ctx.reply.Error(kErrSyntax);
      return false;
    }
  }
  args->count = count == -1 ? 1 : count;
  args->keys = std::span<const std::string_view>(&ctx.argv[numkeys_index + 1],
                                                 static_cast<std::size_t>(numkeys));
  return true;
}

namespace {

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and ZINCRBY (INCR).
void ZAddGeneric(CommandContext& ctx, bool incr) {
  bool nx = false, xx = false, gt = false, lt = false, ch = false;
  std::size_t scoreidx = 2;
  for (; scoreidx < ctx.argv.size(); ++scoreidx) {
    const std::string_view opt = ctx.argv[scoreidx];
    if (EqualsIgnoreCase(opt, "nx")) {
      nx = true;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      xx = true;
    } else if (EqualsIgnoreCase(opt, "ch")) {
      ch = true;
    } else if (EqualsIgnoreCase(opt, "incr")) {
      incr = true;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      gt = true;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      lt = true;
    } else {
      break;
    }
  }
  const std::size_t args = ctx.argv.size() - scoreidx;
  if (args == 0 || args % 2 != 0) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const std::size_t elements = args / 2;
  if (nx && xx) {
    ctx.reply.Error("ERR XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    ctx.reply.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && elements > 1) {
    ctx.reply.Error("ERR INCR option supports a single increment-element pair");
    return;
  }
  std::vector<double> scores(elements);
  for (std::size_t j = 0; j < elements; ++j) {
    if (!ParseScore(ctx.argv[scoreidx + j * 2], &scores[j])) {
      ctx.reply.Error(kErrNotFloat);
      return;
    }
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::SortedSet>(ctx, key, false);
  if (found.wrong_type) return;
  long long added = 0, updated = 0, processed = 0;
  double last_score = 0;
  std::vector<std::pair<double, std::string_view>> writes;
  if (found.value != nullptr || !xx) {
    // Redis's zsetAdd, element by element; `pending` makes a member given twice see its own
    // earlier write (a single member needs none: the usual ZADD allocates nothing for it).
    std::unordered_map<std::string_view, double> pending;
    const bool several = elements > 1;
    for (std::size_t j = 0; j < elements; ++j) {
      const std::string_view member = ctx.argv[scoreidx + 1 + j * 2];
      double score = scores[j];
      std::optional<double> current;
      if (auto it = several ? pending.find(member) : pending.end(); it != pending.end()) {
        current = it->second;
      } else if (found.value != nullptr) {
        current = found.value->Score(member);
      }
      if (current) {
        if (nx) continue;
        if (incr) {
          score += *current;
          if (std::isnan(score)) {
            ctx.reply.Error("ERR resulting score is not a number (NaN)");
            return;
          }
        }
        if ((lt && score >= *current) || (gt && score <= *current)) continue;
        ++processed;
        last_score = score;
        if (score != *current) {
          ++updated;
          if (several) pending[member] = score;
          writes.emplace_back(score, member);
        }
      } else if (!xx) {
        ++processed;
        ++added;
        last_score = score;
        if (several) pending[member] = score;
        writes.emplace_back(score, member);
      }
    }
  }
  if (!writes.empty()) {
    types::OpBuilder op(types::OpCode::kZsetAdd, writes.size() * 2);
    for (const auto& [score, member] : writes) op.Add(types::EncodeScoreArg(score)).Add(member);
    std::int64_t result = 0;
    if (!ApplyZsetOp(ctx, key, op, &result)) return;
    NotifyKeyspaceEvent(ctx, kNotifyZset, incr ? "zincr" : "zadd", key);
  }
  if (incr) {
    if (processed > 0) {
      ctx.reply.Double(last_score);
    } else {
      ctx.reply.Null();
    }
  } else {
    ctx.reply.Integer(ch ? added + updated : added);
  }
}

void ZAddCommand(CommandContext& ctx) { ZAddGeneric(ctx, false); }
void ZIncrByCommand(CommandContext& ctx) { ZAddGeneric(ctx, true); }

void ZRemCommand(CommandContext& ctx) {
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::SortedSet>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  std::vector<std::string> present;
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    if (found.value->Score(ctx.argv[i]) && seen.insert(ctx.argv[i]).second) {
      present.emplace_back(ctx.argv[i]);
    }
  }
  if (!RemoveMembers(ctx, key, present)) return;
  if (!present.empty()) {
    NotifyKeyspaceEvent(ctx, kNotifyZset, "zrem", key);
    NotifyIfEmptied(ctx, key);
  }
  ctx.reply.Integer(static_cast<long long>(present.size()));
}

void ZCardCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.Integer(found.value != nullptr ? static_cast<long long>(found.value->size()) : 0);
}

void ZScoreCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  std::optional<double> score;
  if (found.value != nullptr) score = found.value->Score(ctx.argv[2]);
  if (score) {
    ctx.reply.Double(*score);
  } else {
    ctx.reply.Null();
  }
}

void ZMScoreCommand(CommandContext& ctx) {
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  ctx.reply.ArrayHeader(ctx.argv.size() - 2);
  for (std::size_t i = 2; i < ctx.argv.size(); ++i) {
    std::optional<double> score;
    if (found.value != nullptr) score = found.value->Score(ctx.argv[i]);
    if (score) {
      ctx.reply.Double(*score);
    } else {
      ctx.reply.Null();
    }
  }
}

void ZRankGeneric(CommandContext& ctx, bool reverse) {
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  std::optional<std::size_t> rank;
  if (found.value != nullptr) rank = found.value->Rank(ctx.argv[2]);
  if (!rank) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Integer(static_cast<long long>(reverse ? found.value->size() - 1 - *rank : *rank));
}

void ZRankCommand(CommandContext& ctx) { ZRankGeneric(ctx, false); }
void ZRevRankCommand(CommandContext& ctx) { ZRankGeneric(ctx, true); }

void ZPopMinMax(CommandContext& ctx, bool max) {
  if (ctx.argv.size() > 3) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  long long count = -1;
  if (ctx.argv.size() == 3) {
    if (!ParseLongLong(ctx.argv[2], &count) || count < 0) {
      ctx.reply.Error("ERR value is out of range, must be positive");
      return;
    }
  }
  const bool nested = ctx.reply.protocol() > 2 && count != -1;
  ZPopGeneric(ctx, std::span<const std::string_view>(&ctx.argv[1], 1), max, count, nested, false,
              true);
}

void ZPopMinCommand(CommandContext& ctx) { ZPopMinMax(ctx, false); }
void ZPopMaxCommand(CommandContext& ctx) { ZPopMinMax(ctx, true); }

void ZMPopCommand(CommandContext& ctx) {
  ZMPopArgs args;
  if (!ParseZMPop(ctx, 1, &args)) return;
  ZPopGeneric(ctx, args.keys, args.max, args.count, true, true, true);
}

void ZRandMemberCommand(CommandContext& ctx) {
  if (ctx.argv.size() >= 3) {
    long long count = 0;
    bool withscores = false;
    if (!ParseRandomCount(ctx, "withscores", &count, &withscores)) return;
    const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
    if (found.wrong_type) return;
    if (found.value == nullptr || count == 0) {
      ctx.reply.ArrayHeader(0);
      return;
    }
    const types::SortedSet& set = *found.value;
    // The whole set is replied highest score first, as Redis 7.0 does.
    ReplyRandomWithCount<double>(
        ctx, set.size(), count, withscores, [&](std::mt19937_64& rng) { return set.Random(rng); },
        [&](auto fn) {
          set.Walk(0, false, [&](std::string_view m, double s) {
            fn(m, s);
            return true;
          });
        },
        [&](auto fn) {
          set.Walk(set.size() - 1, true, [&](std::string_view m, double s) {
            fn(m, s);
            return true;
          });
        },
        // One element: a member, or with scores a pair (a 2-array in RESP3, flat in RESP2).
        [&](std::string_view member, double score) {
          if (withscores && ctx.reply.protocol() > 2) ctx.reply.ArrayHeader(2);
          ctx.reply.Bulk(member);
          if (withscores) ctx.reply.Double(score);
        });
    return;
  }
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Null();
    return;
  }
  ctx.reply.Bulk(found.value->Random(ctx.server.rng()).first);
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]: scores as bulk strings, in RESP3 too.
void ZScanCommand(CommandContext& ctx) {
  std::uint64_t cursor = 0;
  if (!ParseScanCursor(ctx, ctx.argv[2], &cursor)) return;
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {  // Redis's empty scan reply, before the options are looked at
    ReplyEmptyScan(ctx);
    return;
  }
  ScanOptions options;
  if (!ParseScanOptions(ctx, 3, false, &options)) return;
  const bool listpack = found.value->encoding() == types::SortedSet::Encoding::kListpack;
  ZsetItems items;
  const std::uint64_t next = found.value->Scan(cursor, static_cast<std::size_t>(options.count),
                                               [&](std::string_view m, double s) {
                                                 if (options.Matches(m)) items.emplace_back(m, s);
                                                 return true;
                                               });
  ReplyScanCursor(ctx, next);
  ctx.reply.ArrayHeader(items.size() * 2);
  for (const auto& [member, score] : items) {
    ctx.reply.Bulk(member);
    ctx.reply.Bulk(FormatScore(score, listpack));
  }
}

// Arity, flags, ACL categories and key specs as Redis 7.0 declares them (COMMAND INFO).
// clang-format off
constexpr CommandSpec kSortedSetCommands[] = {
    {.name = "zadd", .arity = -4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent | kCmdClusterCounter, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyUpdate)}, .handler = ZAddCommand},
    {.name = "zincrby", .arity = 4,
     .flags = kCmdWrite | kCmdDenyOom | kCmdFast | kCmdClusterConvergent | kCmdClusterCounter, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyUpdate)}, .handler = ZIncrByCommand},
    {.name = "zrem", .arity = -3, .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent,
     .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = ZRemCommand},
    {.name = "zcard", .arity = 2, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO)}, .handler = ZCardCommand},
    {.name = "zscore", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZScoreCommand},
    {.name = "zmscore", .arity = -3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZMScoreCommand},
    {.name = "zrank", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRankCommand},
    {.name = "zrevrank", .arity = 3, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRevRankCommand},
    {.name = "zpopmin", .arity = -2, .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = ZPopMinCommand},
    {.name = "zpopmax", .arity = -2, .flags = kCmdWrite | kCmdFast | kCmdClusterConvergent | kCmdClusterOnPrimary,
     .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = ZPopMaxCommand},
    // Keys named by a count (Redis's movablekeys): the row names every argument from the first
    // key on (see cmd_zset_setops.cc).
    {.name = "zmpop", .arity = -4, .flags = kCmdWrite | kCmdClusterConvergent | kCmdClusterOnPrimary, .acl = kAclSortedSet,
     .keys = {IndexKeynum(1, 0, 1, 1, kKeyRW | kKeyAccess | kKeyDelete)}, .handler = ZMPopCommand},
    {.name = "zrandmember", .arity = -2, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = ZRandMemberCommand},
    {.name = "zscan", .arity = -3, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .tips = "nondeterministic_output",
     .handler = ZScanCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> SortedSetCommands() { return kSortedSetCommands; }

}  // namespace dynakv::server
