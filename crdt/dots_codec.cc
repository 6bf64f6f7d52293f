#include "dots_codec.h"

#include <algorithm>

#include "wire.h"

namespace dynakv::crdt::dots {

void Put(std::string* dst, const std::vector<std::uint32_t>& rank, Dot dot) {
  wire::PutVarint(dst, rank[dot.actor]);
  wire::PutVarint(dst, dot.counter);
}

bool Get(std::string_view* in, const CausalContext& ctx, Dot* dot) {
  std::uint64_t actor, counter;
  if (!wire::GetVarint(in, &actor) || !wire::GetVarint(in, &counter)) return false;
  if (actor >= ctx.actor_count() || counter == 0) return false;
  *dot = Dot{static_cast<std::uint32_t>(actor), counter};
  return ctx.Contains(*dot);
}

bool UniqueCheck::Ok() {
  std::sort(seen_.begin(), seen_.end());
  return std::adjacent_find(seen_.begin(), seen_.end()) == seen_.end();
}

}  // namespace dynakv::crdt::dots
