// What the sorted set commands (cmd_zset.cc, cmd_zset_range.cc) share: the lookup of a sorted
// set, applying an element operation, Redis's score and range parsing, and range replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "command.h"
#include "keyspace_access.h"
#include "types/ops.h"
#include "types/sorted_set.h"

namespace dynakv::server {

// A sorted set written to `key` (ZADD, a store): clients blocked in BZPOPMIN & co. on it are
// served after this command (single-node mode, as blocked list pops).
void WakeZsetWaiters(CommandContext& ctx, std::string_view key);

// Applies one operation; replies with the error and returns false when the keyspace refuses.
bool ApplyZsetOp(CommandContext& ctx, std::string_view key, const types::OpBuilder& op,
                 std::int64_t* result);
// Logs the removal of `members` from `key` (none: nothing is logged).
bool RemoveMembers(CommandContext& ctx, std::string_view key,
                   const std::vector<std::string>& members);

// A score argument as Redis's getDoubleFromObject reads it (strtod: no NaN, no overflow).
bool ParseScore(std::string_view text, double* score);

// A ZRANGEBYSCORE bound pair as zslParseRange reads it ("(" for exclusive).
struct ScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
  bool GteMin(double s) const { return minex ? s > min : s >= min; }
  bool LteMax(double s) const { return maxex ? s < max : s <= max; }
};
bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* range);

// A ZRANGEBYLEX bound pair as zslParseLexRange reads it ("-", "+", "(x", "[x").
struct LexRange {
  enum Kind { kValue, kMinusInf, kPlusInf };
  Kind min_kind = kValue, max_kind = kValue;
  std::string min, max;
  bool minex = false, maxex = false;
  bool GteMin(std::string_view m) const;
  bool LteMax(std::string_view m) const;
};
bool ParseLexRange(std::string_view min, std::string_view max, LexRange* range);

using ZsetItems = std::vector<std::pair<std::string_view, double>>;

// Ranges as Redis's genericZrangeby*Command walk them (ranks already sanitized by the caller).
ZsetItems RankRange(const types::SortedSet& set, long long start, long long end, bool reverse);
// offset < 0 yields nothing, limit < 0 means no limit (as Redis's `while (offset--)` loops).
ZsetItems ScoreRangeItems(const types::SortedSet& set, const ScoreRange& range, long long offset,
                          long long limit, bool reverse);
ZsetItems LexRangeItems(const types::SortedSet& set, const LexRange& range, long long offset,
                        long long limit, bool reverse);

// A score as ZSCAN shows it: Redis's d2string for a skiplist ("-0", integers below 2^52
// plainly, else "%.17g", inf/-inf), or a listpack's stored form, where integral scores within
// +-2^62 are stored and shown as integers.
std::string FormatScore(double score, bool listpack);

// An array of members, with scores as Redis replies them: flat in RESP2, [member, score] pairs
// in RESP3.
void ReplyItems(CommandContext& ctx, const ZsetItems& items, bool withscores);

// Redis's genericZpopCommand (cmd_zset.cc): the first of `keys` holding a sorted set (WRONGTYPE
// stops the search) loses up to `count` members from its low (or high, `max`) end; count < 0 is
// a plain single pop. `nested` && `emitkey`: ZMPOP's [key, [[member, score], ...]], nil when no
// key holds a set; `emitkey` alone: BZPOPMIN's [key, member, score]. Returns false, replying
// nothing, when no key holds a set and !reply_when_empty (a blocking pop then blocks).
bool ZPopGeneric(CommandContext& ctx, std::span<const std::string_view> keys, bool max,
                 long long count, bool nested, bool emitkey, bool reply_when_empty);

struct ZMPopArgs {
  std::span<const std::string_view> keys;
  bool max = false;
  long long count = 1;
};
// ZMPOP's arguments from `numkeys_index` on (numkeys key [key ...] MIN|MAX [COUNT count]);
// false when it replied an error.
bool ParseZMPop(CommandContext& ctx, std::size_t numkeys_index, ZMPopArgs* args);

inline constexpr std::string_view kErrMinMaxFloat = "ERR min or max is not a float";
inline constexpr std::string_view kErrMinMaxLex = "ERR min or max not valid string range item";

}  // namespace dynakv::server
