// Sorted set algebra (Redis's zunionInterDiffGenericCommand): ZUNION ZINTER ZDIFF, their STORE
// forms and ZINTERCARD, with WEIGHTS, AGGREGATE and WITHSCORES, over sorted sets and sets (whose
// members score 1). Checks run in Redis's
// order (numkeys, the key count, every key's type, then the options), and scores are combined in
// Redis's order (inputs from the smallest to the largest, a NaN sum counted as 0), so replies are
// Redis's bit for bit.
//
// These commands name their keys by a count (Redis's movablekeys); a command row holds a key
// range only, so theirs names every argument from the first key on: the cluster coordinator
// reads them all (options read as missing keys, harmless) and an ACL key pattern sees them too.

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ascii.h"
#include "command.h"
#include "keyspace.h"
#include "keyspace_access.h"
#include "notify.h"
#include "number_parse.h"
#include "storage/engine.h"
#include "types/set.h"
#include "zset_util.h"

namespace dynakv::server {

namespace {

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input: a copy of its entries (lookups of later keys may move earlier values), ascending.
struct Source {
  std::vector<std::pair<std::string, double>> entries;
  std::unordered_map<std::string_view, double> index;  // built when members are looked up
  double weight = 1;
  std::size_t key = 0;  // which input it was (the same key given twice is the same set)
};

void AggregateInto(double* target, double value, Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kSum:
      *target += value;
      if (std::isnan(*target)) *target = 0;  // inf + -inf: Redis's convention
      break;
    case Aggregate::kMin:
      *target = value < *target ? value : *target;
      break;
    case Aggregate::kMax:
      *target = value > *target ? value : *target;
      break;
  }
}

void BuildIndex(Source* source) {
  if (!source->index.empty() || source->entries.empty()) return;
  source->index.reserve(source->entries.size());
  for (const auto& [m, s] : source->entries) source->index.emplace(m, s);
}

// `dst`: the STORE forms' destination (argv[1]); `numkeys_index`: where the key count is.
void ZSetOpGeneric(CommandContext& ctx, bool store, std::size_t numkeys_index, SetOp op,
                   bool cardinality_only) {
  long long setnum = 0;
  if (!ParseLongLong(ctx.argv[numkeys_index], &setnum)) {
    ctx.reply.Error(kErrNotInteger);
    return;
  }
  if (setnum < 1) {
    std::string name(ctx.argv[0]);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ctx.reply.Error("ERR at least 1 input key is needed for '" + name + "' command");
    return;
  }
  if (static_cast<unsigned long long>(setnum) > ctx.argv.size() - (numkeys_index + 1)) {
    ctx.reply.Error(kErrSyntax);
    return;
  }
  const auto n = static_cast<std::size_t>(setnum);
  std::vector<Source> src(n);
  std::size_t j = numkeys_index + 1;
  for (std::size_t i = 0; i < n; ++i, ++j) {
    src[i].key = i;
    for (std::size_t earlier = 0; earlier < i; ++earlier) {
      if (ctx.argv[numkeys_index + 1 + earlier] == ctx.argv[j]) src[i].key = earlier;
    }
    // A set is an input too, every member scoring 1 (as Redis's zuiNext reads a set). The STORE
    // forms read their sources as lookupKeyRead too (a miss counts, and fires "keymiss").
    std::optional<storage::ValueRef> value = LookupRead(ctx, ctx.argv[j]);
    if (!value) continue;
    if (const auto* zset = dynamic_cast<const types::SortedSet*>(value->object())) {
      src[i].entries.reserve(zset->size());
      zset->Walk(0, false, [&](std::string_view m, double s) {
        src[i].entries.emplace_back(m, s);
        return true;
      });
    } else if (const auto* set = dynamic_cast<const types::Set*>(value->object())) {
      src[i].entries.reserve(set->size());
      set->ForEach([&](std::string_view m) { src[i].entries.emplace_back(m, 1.0); });
    } else {
      ctx.reply.Error(kErrWrongType);
      return;
    }
  }
  Aggregate aggregate = Aggregate::kSum;
  bool withscores = false;
  long long limit = 0;
  while (j < ctx.argv.size()) {
    const std::size_t remaining = ctx.argv.size() - j;
    const std::string_view arg = ctx.argv[j];
    const bool weighted = op != SetOp::kDiff && !cardinality_only;
    if (weighted && remaining >= n + 1 && EqualsIgnoreCase(arg, "weights")) {
      ++j;
      for (std::size_t i = 0; i < n; ++i, ++j) {
        if (!ParseScore(ctx.argv[j], &src[i].weight)) {
          ctx.reply.Error("ERR weight value is not a float");
          return;
        }
      }
    } else if (weighted && remaining >= 2 && EqualsIgnoreCase(arg, "aggregate")) {
      const std::string_view how = ctx.argv[j + 1];
      if (EqualsIgnoreCase(how, "sum")) {
        aggregate = Aggregate::kSum;
      } else if (EqualsIgnoreCase(how, "min")) {
        aggregate = Aggregate::kMin;
      } else if (EqualsIgnoreCase(how, "max")) {
        aggregate = Aggregate::kMax;
      } else {
        ctx.reply.Error(kErrSyntax);
        return;
      }
      j += 2;
    } else if (!store && !cardinality_only && EqualsIgnoreCase(arg, "withscores")) {
      withscores = true;
      ++j;
    } else if (cardinality_only && remaining >= 2 && EqualsIgnoreCase(arg, "limit")) {
      if (!ParseLongLong(ctx.argv[j + 1], &limit) || limit < 0) {
        ctx.reply.Error("ERR LIMIT can't be negative");
        return;
      }
      j += 2;
    } else {
      ctx.reply.Error(kErrSyntax);
      return;
    }
  }

  // member -> score of the result.
  std::unordered_map<std::string_view, double> result;
  long long cardinality = 0;
  if (op != SetOp::kDiff) {
    // Smallest input first, as Redis sorts them (stable: glibc's qsort is a merge sort).
    std::stable_sort(src.begin(), src.end(), [](const Source& a, const Source& b) {
      return a.entries.size() < b.entries.size();
    });
  }
  if (op == SetOp::kInter) {
    if (!src[0].entries.empty()) {
      for (std::size_t i = 1; i < n; ++i) BuildIndex(&src[i]);
      for (const auto& [member, value] : src[0].entries) {
        double score = src[0].weight * value;
        if (std::isnan(score)) score = 0;
        std::size_t i = 1;
        for (; i < n; ++i) {
          double other;
          if (src[i].key == src[0].key) {
            other = value;
          } else if (auto it = src[i].index.find(member); it != src[i].index.end()) {
            other = it->second;
          } else {
            break;
          }
          AggregateInto(&score, other * src[i].weight, aggregate);
        }
        if (i < n) continue;
        if (cardinality_only) {
          ++cardinality;
          if (limit > 0 && cardinality >= limit) break;
        } else {
          result.emplace(member, score);
        }
      }
    }
  } else if (op == SetOp::kUnion) {
    for (const Source& s : src) {
      for (const auto& [member, value] : s.entries) {
        double score = s.weight * value;
        if (std::isnan(score)) score = 0;
        auto [it, fresh] = result.emplace(member, score);
        if (!fresh) AggregateInto(&it->second, score, aggregate);
      }
    }
  } else {
    for (std::size_t i = 1; i < n; ++i) BuildIndex(&src[i]);
    for (const auto& [member, value] : src[0].entries) {
      bool elsewhere = false;
      for (std::size_t i = 1; i < n && !elsewhere; ++i) {
        elsewhere = src[i].key == src[0].key || src[i].index.count(member) > 0;
      }
      if (!elsewhere) result.emplace(member, value);
    }
  }
  if (cardinality_only) {
    ctx.reply.Integer(cardinality);
    return;
  }
  ZsetItems items(result.begin(), result.end());
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.second < b.second || (a.second == b.second && a.first < b.first);
  });
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
  if (!WriteOk(ctx, ctx.keyspace.PutObject(dst, types::SortedSet::SerializeEntries(items), 0))) {
    return;
  }
  WakeZsetWaiters(ctx, dst);
  NotifyKeyspaceEvent(ctx, kNotifyZset,
                      op == SetOp::kUnion   ? "zunionstore"
                      : op == SetOp::kInter ? "zinterstore"
                                            : "zdiffstore",
                      dst);
  ctx.reply.Integer(static_cast<long long>(items.size()));
}

void ZUnionCommand(CommandContext& ctx) { ZSetOpGeneric(ctx, false, 1, SetOp::kUnion, false); }
void ZInterCommand(CommandContext& ctx) { ZSetOpGeneric(ctx, false, 1, SetOp::kInter, false); }
void ZDiffCommand(CommandContext& ctx) { ZSetOpGeneric(ctx, false, 1, SetOp::kDiff, false); }
void ZUnionStoreCommand(CommandContext& ctx) { ZSetOpGeneric(ctx, true, 2, SetOp::kUnion, false); }
void ZInterStoreCommand(CommandContext& ctx) { ZSetOpGeneric(ctx, true, 2, SetOp::kInter, false); }
void ZDiffStoreCommand(CommandContext& ctx) { ZSetOpGeneric(ctx, true, 2, SetOp::kDiff, false); }
void ZInterCardCommand(CommandContext& ctx) { ZSetOpGeneric(ctx, false, 1, SetOp::kInter, true); }

// clang-format off
constexpr CommandSpec kSortedSetAlgebraCommands[] = {
    {.name = "zunion", .arity = -3, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {IndexKeynum(1, 0, 1, 1, kKeyRO | kKeyAccess)}, .handler = ZUnionCommand},
    {.name = "zinter", .arity = -3, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {IndexKeynum(1, 0, 1, 1, kKeyRO | kKeyAccess)}, .handler = ZInterCommand},
    {.name = "zdiff", .arity = -3, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {IndexKeynum(1, 0, 1, 1, kKeyRO | kKeyAccess)}, .handler = ZDiffCommand},
    {.name = "zunionstore", .arity = -4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate), IndexKeynum(2, 0, 1, 1, kKeyRO | kKeyAccess)},
     .handler = ZUnionStoreCommand},
    {.name = "zinterstore", .arity = -4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate), IndexKeynum(2, 0, 1, 1, kKeyRO | kKeyAccess)},
     .handler = ZInterStoreCommand},
    {.name = "zdiffstore", .arity = -4, .flags = kCmdWrite | kCmdDenyOom, .acl = kAclSortedSet,
     .keys = {KeyAt(1, kKeyOW | kKeyUpdate), IndexKeynum(2, 0, 1, 1, kKeyRO | kKeyAccess)},
     .handler = ZDiffStoreCommand},
    {.name = "zintercard", .arity = -3, .flags = kCmdReadOnly, .acl = kAclSortedSet,
     .keys = {IndexKeynum(1, 0, 1, 1, kKeyRO | kKeyAccess)}, .handler = ZInterCardCommand},
};
// clang-format on

}  // namespace

std::span<const CommandSpec> SortedSetAlgebraCommands() { return kSortedSetAlgebraCommands; }

}  // namespace dynakv::server
