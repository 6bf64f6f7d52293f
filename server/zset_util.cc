#include "zset_util.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "keyspace.h"
#include "keyspace_access.h"
#include "list_blocking.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {

void WakeZsetWaiters(CommandContext& ctx, std::string_view key) {
  if (ctx.server.cluster_executor() == nullptr) ctx.server.blocked_lists().SignalReady(ctx.keyspace.db(), key);
}

bool ApplyZsetOp(CommandContext& ctx, std::string_view key, const types::OpBuilder& op,
                 std::int64_t* result) {
  const storage::Status status = ctx.keyspace.Mutate(key, op.op(), result);
  if (status.ok()) {
    WakeZsetWaiters(ctx, key);
    return true;
  }
  if (status.code() == storage::Status::Code::kInvalidArgument &&
      status.message() == storage::kHoldsString) {
    ctx.reply.Error(kErrWrongType);
    return false;
  }
  if (status.code() == storage::Status::Code::kInvalidArgument) {
    ctx.reply.Error("ERR " + status.message());
    return false;
  }
  return WriteOk(ctx, status);
}

bool RemoveMembers(CommandContext& ctx, std::string_view key,
                   const std::vector<std::string>& members) {
  if (members.empty()) return true;
  types::OpBuilder op(types::OpCode::kZsetRem, members.size());
  for (const std::string& m : members) op.Add(m);
  std::int64_t removed = 0;
  return ApplyZsetOp(ctx, key, op, &removed);
}

bool ParseScore(std::string_view text, double* score) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (static_cast<std::size_t>(end - copy.c_str()) != copy.size()) return false;
  if (errno == ERANGE &&
      (value == HUGE_VAL || value == -HUGE_VAL || std::fpclassify(value) == FP_ZERO)) {
    return false;
  }
  if (std::isnan(value)) return false;
  *score = value;
  return true;
}

namespace {

// One bound of zslParseRange: strtod to the first NUL, no emptiness or space check (as Redis).
bool ParseBound(std::string_view text, double* value, bool* exclusive) {
  *exclusive = !text.empty() && text.front() == '(';
  if (*exclusive) text.remove_prefix(1);
  const std::string copy(text);
  char* end = nullptr;
  *value = std::strtod(copy.c_str(), &end);
  return *end == '\0' && !std::isnan(*value);
}

bool ParseLexItem(std::string_view text, LexRange::Kind* kind, std::string* value, bool* ex) {
  if (text.empty()) return false;
  switch (text.front()) {
    case '+':
    case '-':
      // Redis checks the byte after the sign against the sds's terminating NUL.
      if (text.size() > 1 && text[1] != '\0') return false;
      *kind = text.front() == '+' ? LexRange::kPlusInf : LexRange::kMinusInf;
      *ex = true;
      return true;
    case '(':
    case '[':
      *kind = LexRange::kValue;
      *ex = text.front() == '(';
      value->assign(text.substr(1));
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* range) {
  return ParseBound(min, &range->min, &range->minex) && ParseBound(max, &range->max, &range->maxex);
}

bool LexRange::GteMin(std::string_view m) const {
  if (min_kind == kMinusInf) return true;
  if (min_kind == kPlusInf) return false;
  return minex ? m > std::string_view(min) : m >= std::string_view(min);
}

bool LexRange::LteMax(std::string_view m) const {
  if (max_kind == kPlusInf) return true;
  if (max_kind == kMinusInf) return false;
  return maxex ? m < std::string_view(max) : m <= std::string_view(max);
}

bool ParseLexRange(std::string_view min, std::string_view max, LexRange* range) {
  return ParseLexItem(min, &range->min_kind, &range->min, &range->minex) &&
         ParseLexItem(max, &range->max_kind, &range->max, &range->maxex);
}

ZsetItems RankRange(const types::SortedSet& set, long long start, long long end, bool reverse) {
  ZsetItems items;
  const long long len = static_cast<long long>(set.size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return items;
  if (end >= len) end = len - 1;
  const auto count = static_cast<std::size_t>(end - start + 1);
  items.reserve(count);
  const auto rank = static_cast<std::size_t>(reverse ? len - 1 - start : start);
  set.Walk(rank, reverse, [&](std::string_view m, double s) {
    items.emplace_back(m, s);
    return items.size() < count;
  });
  return items;
}

namespace {

// The shared walk of score and lex ranges: from the first entry in range (the last, in
// reverse), skip `offset`, then take up to `limit` while `in_range` holds.
template <typename GteMin, typename LteMax>
ZsetItems Collect(const types::SortedSet& set, GteMin gte_min, LteMax lte_max, long long offset,
                  long long limit, bool reverse) {
  ZsetItems items;
  if (offset < 0 || (offset > 0 && static_cast<std::size_t>(offset) >= set.size())) return items;
  std::size_t rank;
  if (!reverse) {
    rank = set.CountLeading([&](std::string_view m, double s) { return !gte_min(m, s); });
    rank += static_cast<std::size_t>(offset);
  } else {
    const std::size_t upto =
        set.CountLeading([&](std::string_view m, double s) { return lte_max(m, s); });
    if (upto <= static_cast<std::size_t>(offset)) return items;
    rank = upto - 1 - static_cast<std::size_t>(offset);
  }
  if (limit == 0) return items;
  set.Walk(rank, reverse, [&](std::string_view m, double s) {
    if (reverse ? !gte_min(m, s) : !lte_max(m, s)) return false;
    items.emplace_back(m, s);
    return limit < 0 || static_cast<long long>(items.size()) < limit;
  });
  return items;
}

}  // namespace

ZsetItems ScoreRangeItems(const types::SortedSet& set, const ScoreRange& range, long long offset,
                          long long limit, bool reverse) {
  return Collect(
      set, [&](std::string_view, double s) { return range.GteMin(s); },
      [&](std::string_view, double s) { return range.LteMax(s); }, offset, limit, reverse);
}

ZsetItems LexRangeItems(const types::SortedSet& set, const LexRange& range, long long offset,
                        long long limit, bool reverse) {
  return Collect(
      set, [&](std::string_view m, double) { return range.GteMin(m); },
      [&](std::string_view m, double) { return range.LteMax(m); }, offset, limit, reverse);
}

std::string FormatScore(double score, bool listpack) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  // A listpack holds an integral score within Redis's double2ll range (+-LLONG_MAX/2) as an
  // integer; d2string prints integers plainly only below 2^52, and keeps -0.
  const double bound = listpack ? static_cast<double>(LLONG_MAX / 2) : 4503599627370496.0;
  if (!listpack && score == 0) return std::signbit(score) ? "-0" : "0";
  if (score > -bound && score < bound &&
      score == static_cast<double>(static_cast<long long>(score))) {
    return std::to_string(static_cast<long long>(score));
  }
  char buf[32];
  const int len = std::snprintf(buf, sizeof(buf), "%.17g", score);
  return std::string(buf, len > 0 ? static_cast<std::size_t>(len) : 0);
}

void ReplyItems(CommandContext& ctx, const ZsetItems& items, bool withscores) {
  const bool flat = withscores && ctx.reply.protocol() == 2;
  ctx.reply.ArrayHeader(flat ? items.size() * 2 : items.size());
  for (const auto& [member, score] : items) {
    if (withscores && !flat) ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(member);
    if (withscores) ctx.reply.Double(score);
  }
}

}  // namespace dynakv::server
