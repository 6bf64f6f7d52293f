// HRANDFIELD and ZRANDMEMBER with a count (Redis's hrandfieldWithCountCommand and
// zrandmemberWithCountCommand): the same arguments, checks and draw, over a hash's fields and
// values or a sorted set's members and scores. SRANDMEMBER is not one of them: its distinct draw
// copies members (SPOP shares it) and shuffles them.
#pragma once

#include <cstddef>
#include <random>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "command.h"
#include "server.h"

namespace dynakv::server {

// Parses argv[2] (the count) and the optional argv[3] (`with_option`: "withvalues",
// "withscores"), with Redis's range checks and error texts; false when it replied an error.
bool ParseRandomCount(CommandContext& ctx, std::string_view with_option, long long* count,
                      bool* with);

// Replies `count_arg` random elements of a collection of `size` (> 0) elements: a negative count
// may repeat them, a positive one never does (and gives the whole collection, in `for_each_reply`
// order, when it asks for at least its size). `random(rng)` draws one pair (name, value);
// `for_each(fn)` / `for_each_reply(fn)` call fn(name, value) for every element; `reply_one(name,
// value)` writes one element. The header counts pairs twice in RESP2 with `with` (a flat reply).
template <typename Value, typename Random, typename ForEach, typename ForEachReply,
          typename ReplyOne>
void ReplyRandomWithCount(CommandContext& ctx, std::size_t size, long long count_arg, bool with,
                          Random random, ForEach for_each, ForEachReply for_each_reply,
                          ReplyOne reply_one) {
  const auto header = [&](std::size_t n) {
    ctx.reply.ArrayHeader(with && ctx.reply.protocol() == 2 ? n * 2 : n);
  };
  const bool unique = count_arg > 0;
  const auto count = static_cast<std::size_t>(unique ? count_arg : -count_arg);
  std::mt19937_64& rng = ctx.server.rng();
  if (!unique || count == 1) {
    header(count);
    for (std::size_t i = 0; i < count; ++i) {
      // A reply past the client's output limit closes it anyway: stop building it.
      if (ctx.reply.over_limit()) return;
      const auto [name, value] = random(rng);
      reply_one(name, value);
    }
    return;
  }
  if (count >= size) {
    header(size);
    for_each_reply([&](std::string_view name, Value value) { reply_one(name, value); });
    return;
  }
  // Distinct elements: drawn at random until there are enough when they are few compared to the
  // collection; otherwise every element, minus random ones, keeps the draw bounded.
  std::vector<std::pair<std::string_view, Value>> picked;
  if (count * 3 > size) {
    for_each([&](std::string_view name, Value value) { picked.emplace_back(name, value); });
    while (picked.size() > count) {
      const std::size_t victim = static_cast<std::size_t>(rng() % picked.size());
      picked[victim] = picked.back();
      picked.pop_back();
    }
  } else {
    std::unordered_set<std::string_view> seen;
    while (picked.size() < count) {
      const std::pair<std::string_view, Value> pick = random(rng);
      if (seen.insert(pick.first).second) picked.push_back(pick);
    }
  }
  header(picked.size());
  for (const auto& [name, value] : picked) reply_one(name, value);
}

}  // namespace dynakv::server
