// Dots inside a value's encoding: written against the context's canonical ranks, read back with
// the checks every decoder needs (the dot is one the context covers; one per actor per list).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crdt/causal_context.h"

namespace dynakv::crdt::dots {

// Writes (varint rank, varint counter).
void Put(std::string* dst, const std::vector<std::uint32_t>& rank, Dot dot);
// Reads a dot of a decoded context (indexes are ranks); false unless the context covers it.
bool Get(std::string_view* in, const CausalContext& ctx, Dot* dot);

// Each dot names exactly one write, so no two elements of a value share one. The decoders
// collect every dot they read and check at the end.
class UniqueCheck {
 public:
  void Add(Dot dot) { seen_.push_back(dot); }
  bool Ok();

 private:
  std::vector<Dot> seen_;
};

}  // namespace dynakv::crdt::dots
