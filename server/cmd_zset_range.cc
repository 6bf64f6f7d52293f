// Sorted set range commands (Redis's zrangeGenericCommand and zremrangeGenericCommand): ZRANGE
// with BYSCORE/BYLEX/REV/LIMIT/WITHSCORES and its older spellings, ZRANGESTORE, ZCOUNT,
// ZLEXCOUNT, ZREMRANGEBY{RANK,SCORE,LEX}. Argument checks run in Redis's order (options, then the
// range, then the key), so a bad request gets Redis's error whatever the key holds.

#include <algorithm>
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
#include "zset_util.h"

namespace dynakv::server {

namespace {

enum class RangeType { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

// Z[REV]RANGE[BYSCORE|BYLEX] and ZRANGESTORE: `first` is the source key's index.
void ZRangeGeneric(CommandContext& ctx, std::size_t first, bool store, RangeType type,
                   Direction direction) {
  std::size_t minidx = first + 1, maxidx = first + 2;
  bool withscores = false;
  long long offset = 0, limit = -1;
  for (std::size_t j = first + 3; j < ctx.argv.size(); ++j) {
    const std::size_t left = ctx.argv.size() - j - 1;
    const std::string_view arg = ctx.argv[j];
    if (!store && EqualsIgnoreCase(arg, "withscores")) {
      withscores = true;
    } else if (EqualsIgnoreCase(arg, "limit") && left >= 2) {
      if (!ParseLongLong(ctx.argv[j + 1], &offset) || !ParseLongLong(ctx.argv[j + 2], &limit)) {
        ctx.reply.Error(kErrNotInteger);
        return;
      }
      j += 2;
    } else if (direction == Direction::kAuto && EqualsIgnoreCase(arg, "rev")) {
      direction = Direction::kReverse;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(arg, "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(arg, "byscore")) {
      type = RangeType::kScore;
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }
  if (direction == Direction::kAuto) direction = Direction::kForward;
  if (type == RangeType::kAuto) type = RangeType::kRank;
  if (limit != -1 && type == RangeType::kRank) {
    ctx.reply.Error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return;
  }
  if (withscores && type == RangeType::kLex) {
    ctx.reply.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return;
  }
  const bool reverse = direction == Direction::kReverse;
  if (reverse && type != RangeType::kRank) std::swap(minidx, maxidx);  // given as max, min
  long long start = 0, end = 0;
  ScoreRange scores;
  LexRange lex;
  switch (type) {
    case RangeType::kAuto:
    case RangeType::kRank:
      if (!ParseLongLong(ctx.argv[minidx], &start) || !ParseLongLong(ctx.argv[maxidx], &end)) {
        ctx.reply.Error(kErrNotInteger);
        return;
      }
      break;
    case RangeType::kScore:
      if (!ParseScoreRange(ctx.argv[minidx], ctx.argv[maxidx], &scores)) {
        ctx.reply.Error(kErrMinMaxFloat);
        return;
      }
      break;
    case RangeType::kLex:
      if (!ParseLexRange(ctx.argv[minidx], ctx.argv[maxidx], &lex)) {
        ctx.reply.Error(kErrMinMaxLex);
        return;
      }
      break;
  }
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[first], true);
  if (found.wrong_type) return;
  ZsetItems items;
  if (found.value != nullptr) {
    switch (type) {
      case RangeType::kAuto:
      case RangeType::kRank:
        items = RankRange(*found.value, start, end, reverse);
        break;
      case RangeType::kScore:
        items = ScoreRangeItems(*found.value, scores, offset, limit, reverse);
        break;
      case RangeType::kLex:
        items = LexRangeItems(*found.value, lex, offset, limit, reverse);
        break;
    }
  }
  if (!store) {
    ReplyItems(ctx, items, withscores);
    return;
  }
  const std::string_view dst = ctx.argv[1];
  if (items.empty()) {
    if (ctx.keyspace.Delete(dst)) NotifyKeyspaceEvent(ctx, kNotifyGeneric, "del", dst);
    ctx.reply.Integer(0);
    return;
  }
  if (reverse) std::reverse(items.begin(), items.end());
  const std::string serialized = types::SortedSet::SerializeEntries(items);
  if (!WriteOk(ctx, ctx.keyspace.PutObject(dst, serialized, 0))) return;
  WakeZsetWaiters(ctx, dst);
  NotifyKeyspaceEvent(ctx, kNotifyZset, "zrangestore", dst);
  ctx.reply.Integer(static_cast<long long>(items.size()));
}

void ZRangeCommand(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kAuto, Direction::kAuto);
}
void ZRangeStoreCommand(CommandContext& ctx) {
  ZRangeGeneric(ctx, 2, true, RangeType::kAuto, Direction::kAuto);
}
void ZRevRangeCommand(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kRank, Direction::kReverse);
}
void ZRangeByScoreCommand(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kScore, Direction::kForward);
}
void ZRevRangeByScoreCommand(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kScore, Direction::kReverse);
}
void ZRangeByLexCommand(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kLex, Direction::kForward);
}
void ZRevRangeByLexCommand(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kLex, Direction::kReverse);
}

// ZCOUNT / ZLEXCOUNT: the entries from the first one in range while they stay in range.
void ZCountGeneric(CommandContext& ctx, bool lex) {
  ScoreRange scores;
  LexRange range;
  if (lex ? !ParseLexRange(ctx.argv[2], ctx.argv[3], &range)
          : !ParseScoreRange(ctx.argv[2], ctx.argv[3], &scores)) {
    ctx.reply.Error(lex ? kErrMinMaxLex : kErrMinMaxFloat);
    return;
  }
  const auto found = LookupTyped<types::SortedSet>(ctx, ctx.argv[1], true);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  const types::SortedSet& set = *found.value;
  if (set.encoding() == types::SortedSet::Encoding::kSkiplist) {
    // Two O(log n) descents, as Redis counts by ranks: entries before the range, and up to its
    // end.
    const std::size_t before = set.CountLeading([&](std::string_view m, double s) {
      return lex ? !range.GteMin(m) : !scores.GteMin(s);
    });
    const std::size_t upto = set.CountLeading(
        [&](std::string_view m, double s) { return lex ? range.LteMax(m) : scores.LteMax(s); });
    ctx.reply.Integer(upto > before ? static_cast<long long>(upto - before) : 0);
    return;
  }
  // A listpack is walked from its first entry in range, as Redis walks it.
  const ZsetItems items = lex ? LexRangeItems(set, range, 0, -1, false)
                              : ScoreRangeItems(set, scores, 0, -1, false);
  ctx.reply.Integer(static_cast<long long>(items.size()));
}

void ZCountCommand(CommandContext& ctx) { ZCountGeneric(ctx, false); }
void ZLexCountCommand(CommandContext& ctx) { ZCountGeneric(ctx, true); }

// ZREMRANGEBYRANK / BYSCORE / BYLEX: the members in range are logged as one removal.
void ZRemRangeGeneric(CommandContext& ctx, RangeType type) {
  long long start = 0, end = 0;
  ScoreRange scores;
  LexRange lex;
  if (type == RangeType::kRank) {
    if (!ParseLongLong(ctx.argv[2], &start) || !ParseLongLong(ctx.argv[3], &end)) {
      ctx.reply.Error(kErrNotInteger);
      return;
    }
  } else if (type == RangeType::kScore) {
    if (!ParseScoreRange(ctx.argv[2], ctx.argv[3], &scores)) {
      ctx.reply.Error(kErrMinMaxFloat);
      return;
    }
  } else if (!ParseLexRange(ctx.argv[2], ctx.argv[3], &lex)) {
    ctx.reply.Error(kErrMinMaxLex);
    return;
  }
  const std::string_view key = ctx.argv[1];
  const auto found = LookupTyped<types::SortedSet>(ctx, key, false);
  if (found.wrong_type) return;
  if (found.value == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  ZsetItems items;
  if (type == RangeType::kRank) {
    items = RankRange(*found.value, start, end, false);
  } else if (type == RangeType::kScore) {
    items = ScoreRangeItems(*found.value, scores, 0, -1, false);
  } else {
    items = LexRangeItems(*found.value, lex, 0, -1, false);
  }
  std::vector<std::string> members;
  members.reserve(items.size());
  for (const auto& item : items) members.emplace_back(item.first);
  if (!RemoveMembers(ctx, key, members)) return;
  if (!members.empty()) {
    NotifyKeyspaceEvent(ctx, kNotifyZset,
                        type == RangeType::kRank    ? "zremrangebyrank"
                        : type == RangeType::kScore ? "zremrangebyscore"
                                                    : "zremrangebylex",
                        key);
    NotifyIfEmptied(ctx, key);
  }
  ctx.reply.Integer(static_cast<long long>(members.size()));
}

void ZRemRangeByRankCommand(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kRank); }
void ZRemRangeByScoreCommand(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kScore); }
void ZRemRangeByLexCommand(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kLex); }

// clang-format off
constexpr CommandSpec kSortedSetRangeCommands[] = {
    {.name = "zrange", .arity = -4, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRangeCommand},
    {.name = "zrevrange", .arity = -4, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRevRangeCommand},
    {.name = "zrangebyscore", .arity = -4, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRangeByScoreCommand},
    {.name = "zrevrangebyscore", .arity = -4, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRevRangeByScoreCommand},
    {.name = "zrangebylex", .arity = -4, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRangeByLexCommand},
    {.name = "zrevrangebylex", .arity = -4, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZRevRangeByLexCommand},
    {.name = "zrangestore", .arity = -5, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate), KeyAt(2, kKeyRO | kKeyAccess)},
     .handler = ZRangeStoreCommand},
    {.name = "zcount", .arity = 4, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZCountCommand},
    {.name = "zlexcount", .arity = 4, .flags = kCmdReadOnly | kCmdFast, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRO | kKeyAccess)}, .handler = ZLexCountCommand},
    {.name = "zremrangebyrank", .arity = 4, .flags = kCmdWrite | kCmdClusterConvergent,
     .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = ZRemRangeByRankCommand},
    {.name = "zremrangebyscore", .arity = 4, .flags = kCmdWrite | kCmdClusterConvergent,
     .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = ZRemRangeByScoreCommand},
    {.name = "zremrangebylex", .arity = 4, .flags = kCmdWrite | kCmdClusterConvergent,
     .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyRW | kKeyDelete)}, .handler = ZRemRangeByLexCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> SortedSetRangeCommands() { return kSortedSetRangeCommands; }

}  // namespace dynakv::server
